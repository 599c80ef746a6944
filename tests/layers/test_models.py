"""Whole models: a PyTorch state_dict (as numpy arrays) loads into the matching ember model and gives
the same outputs, and back (ember state_dict -> torch load_state_dict), for an MLP, a small CNN with
BatchNorm, an LSTM and a TransformerEncoder; and these models train."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def _mlp(nn):
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.25),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))


class _Tagger:
    """An LSTM tagger built the same way in both frameworks."""

    @staticmethod
    def build(nn):
        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(7, 5)
                self.lstm = nn.LSTM(5, 8, num_layers=2, batch_first=True, bidirectional=True)
                self.head = nn.Linear(16, 7)

            def forward(self, tokens):
                out, _ = self.lstm(self.embed(tokens))
                return self.head(out)
        return Tagger()


def _encoder(nn):
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(6, 8)
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.head = nn.Linear(8, 6)

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens)))
    return Encoder()


RNG = np.random.default_rng(3)
MODELS = {
    "mlp": (_mlp, lambda: RNG.standard_normal((5, 6))),
    "cnn": (_cnn, lambda: RNG.standard_normal((4, 1, 8, 8))),
    "lstm": (_Tagger.build, lambda: RNG.integers(0, 7, (3, 5))),
    "transformer": (_encoder, lambda: RNG.integers(0, 6, (2, 5))),
}


def _as_input(lib, array):
    if array.dtype.kind == "f":
        return lib.tensor(array, dtype=lib.float64)
    return lib.tensor(array)


@pytest.mark.parametrize("model", list(MODELS))
def test_torch_state_dict_loads_into_ember_and_back(torch, model):
    build, make_input = MODELS[model]
    torch.manual_seed(0)
    theirs = build(torch.nn).double()
    ours = build(ember.nn).double()
    # train one batch in torch so that BatchNorm's running stats are not their initial values
    x = make_input()
    theirs.train()
    theirs(_as_input(torch, x)).sum().backward()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs.eval()
    ours.eval()
    x = make_input()
    expected = theirs(_as_input(torch, x)).detach().numpy()
    np.testing.assert_allclose(ours(_as_input(ember, x)).detach().numpy(), expected, rtol=1e-9, atol=1e-11)
    # and back: ember's (perturbed) state into a fresh torch model
    with ember.no_grad():
        for p in ours.parameters():
            p._data *= 1.1
    fresh = build(torch.nn).double().eval()
    fresh.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(ours(_as_input(ember, x)).detach().numpy(),
                               fresh(_as_input(torch, x)).detach().numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("model", list(MODELS))
def test_model_outputs_and_gradients_match_torch_in_training_mode(torch, model):
    build, make_input = MODELS[model]
    theirs = build(torch.nn).double()
    for m in theirs.modules():  # dropout off so that training mode is deterministic in both
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    ours = build(ember.nn).double()
    for m in ours.modules():
        if isinstance(m, ember.nn.Dropout):
            m.p = 0.0
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = make_input()
    out, t_out = ours(_as_input(ember, x)), theirs(_as_input(torch, x))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-11)
    (out ** 2).sum().backward()
    (t_out ** 2).sum().backward()
    ref = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_cnn_with_batchnorm_and_dropout_learns_a_synthetic_task():
    """Bright-top vs bright-bottom 8x8 images; accuracy measured in eval mode on held-out data."""
    rng = np.random.default_rng(0)
    ember.manual_seed(0)

    def data(n):
        labels = rng.integers(0, 2, n)
        images = rng.normal(0, 0.5, (n, 1, 8, 8))
        images[labels == 0, :, :4] += 1.0
        images[labels == 1, :, 4:] += 1.0
        return ember.tensor(images.astype(np.float32)), ember.tensor(labels)

    model = _cnn(ember.nn)
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = ember.nn.CrossEntropyLoss()
    x_train, y_train = data(256)
    for epoch in range(6):
        for i in range(0, 256, 32):
            opt.zero_grad()
            loss = loss_fn(model(x_train[i:i + 32]), y_train[i:i + 32])
            loss.backward()
            opt.step()
    model.eval()
    x_test, y_test = data(200)
    with ember.no_grad():
        accuracy = (model(x_test).argmax(1).numpy() == y_test.numpy()).mean()
    assert accuracy > 0.9, accuracy


def test_lstm_fits_a_short_sequence_task():
    """Predict the running parity of a bit sequence (needs memory across steps)."""
    rng = np.random.default_rng(1)
    ember.manual_seed(1)

    class Parity(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = ember.nn.LSTM(1, 16, batch_first=True)
            self.head = ember.nn.Linear(16, 2)

        def forward(self, x):
            return self.head(self.lstm(x)[0])

    bits = rng.integers(0, 2, (64, 6))
    x = ember.tensor(bits[..., None].astype(np.float32))
    y = ember.tensor(np.cumsum(bits, 1) % 2)
    model = Parity()
    opt = ember.optim.Adam(model.parameters(), lr=0.03)
    for step in range(150):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(x).reshape(-1, 2), y.reshape(-1))
        loss.backward()
        opt.step()
    with ember.no_grad():
        accuracy = (model(x).argmax(-1).numpy() == y.numpy()).mean()
    assert accuracy > 0.95, (accuracy, float(loss))


def test_transformer_encoder_fits_a_copy_task():
    """Output the input token at each position (attention must route it)."""
    rng = np.random.default_rng(2)
    ember.manual_seed(2)

    class Copier(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = ember.nn.Embedding(6, 16)
            self.pos = ember.nn.Parameter(ember.randn(5, 16) * 0.1)
            layer = ember.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.encoder = ember.nn.TransformerEncoder(layer, 1)
            self.head = ember.nn.Linear(16, 6)

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens) + self.pos))

    tokens = ember.tensor(rng.integers(0, 6, (32, 5)))
    model = Copier()
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    for step in range(80):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(tokens).reshape(-1, 6), tokens.reshape(-1))
        loss.backward()
        opt.step()
    model.eval()
    with ember.no_grad():
        accuracy = (model(tokens).argmax(-1).numpy() == tokens.numpy()).mean()
    assert accuracy > 0.95, (accuracy, float(loss))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_stack_matches_torch(torch, norm_first):
    def build(nn):
        layer = nn.TransformerDecoderLayer(8, 2, 12, dropout=0.0, batch_first=True, norm_first=norm_first)
        return nn.TransformerDecoder(layer, 2, nn.LayerNorm(8)).double()

    theirs, ours = build(torch.nn), build(ember.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    tgt, memory = RNG.standard_normal((2, 4, 8)), RNG.standard_normal((2, 5, 8))
    mask = np.triu(np.ones((4, 4), bool), 1)
    out = ours(ember.tensor(tgt), ember.tensor(memory), tgt_mask=ember.tensor(mask))
    t_out = theirs(torch.tensor(tgt), torch.tensor(memory), tgt_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-11)
    out.sum().backward()
    t_out.sum().backward()
    ref = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
