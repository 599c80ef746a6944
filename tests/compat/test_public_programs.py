"""Short training runs in the style of public PyTorch programs (pytorch/examples, minGPT, makemore),
written once against a `torch`-like module and run with ember and with torch from the same initial
weights and data: losses, outputs and updated weights must agree step by step.

Each program is a function of the library (``lib``): it is the same code for both, as a script run
with ``import ember as torch`` would be.
"""

import math

import numpy as np
import pytest

import ember


def _same_start(lib, model, reference):
    """Load ``reference``'s (a torch module's) weights and buffers into ``model``."""
    state = {k: lib.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()}
    model.load_state_dict(state)


def _compare(ours, theirs, rtol=1e-4, atol=1e-5):
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
        b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=key)


def _run_both(torch, build, train, seed=0):
    torch.manual_seed(seed)
    reference = build(torch)
    model = build(ember)
    _same_start(ember, model, reference)
    return train(ember, model), train(torch, reference)


# -- pytorch/examples mnist: conv net, dropout off, Adadelta + StepLR, nll_loss on log_softmax --------
def _mnist_net(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, 1), nn.Conv2d(4, 8, 3, 1)
            self.dropout = nn.Dropout(0.25)
            self.fc1, self.fc2 = nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = lib.flatten(self.dropout(x), 1)
            return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)
    return Net()


def _mnist_train(lib, model):
    rng = np.random.default_rng(1)
    data = lib.tensor(rng.standard_normal((8, 1, 12, 12)).astype(np.float32))
    target = lib.tensor(rng.integers(0, 10, 8))
    optimizer = lib.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    model.eval()  # dropout's random streams differ between libraries
    out = {}
    for step in range(3):
        optimizer.zero_grad()
        loss = lib.nn.functional.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        out[f"loss{step}"] = loss.item()
    with lib.no_grad():
        output = model(data)
        out["test_loss"] = lib.nn.functional.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        out["correct"] = pred.eq(target.view_as(pred)).sum().item()
    out["fc2.weight"] = model.fc2.weight
    return out


def test_mnist_example(torch):
    _compare(*_run_both(torch, _mnist_net, _mnist_train))


# -- pytorch/examples dcgan: transposed convs, batch norm in training mode, BCELoss, two Adams ----------
def _dcgan(lib):
    nn = lib.nn
    generator = nn.Sequential(nn.ConvTranspose2d(4, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
                              nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Conv2d(8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return nn.ModuleDict({"G": generator, "D": discriminator})


def _dcgan_train(lib, nets):
    rng = np.random.default_rng(2)
    real = lib.tensor(rng.uniform(-1, 1, (4, 3, 8, 8)).astype(np.float32))
    noise = lib.tensor(rng.standard_normal((4, 4, 1, 1)).astype(np.float32))
    G, D = nets["G"], nets["D"]
    criterion = lib.nn.BCELoss()
    opt_d = lib.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = lib.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    out = {}
    for step in range(2):
        D.zero_grad()
        label = lib.full((4,), 1, dtype=real.dtype)
        err_real = criterion(D(real).view(-1), label)
        err_real.backward()
        fake = G(noise)
        label.fill_(0)
        err_fake = criterion(D(fake.detach()).view(-1), label)
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        label.fill_(1)
        err_g = criterion(D(fake).view(-1), label)
        err_g.backward()
        opt_g.step()
        out[f"losses{step}"] = [err_real.item(), err_fake.item(), err_g.item()]
    out["running_var"], out["batches"] = G[1].running_var, G[1].num_batches_tracked
    return out


def test_dcgan_example(torch):
    _compare(*_run_both(torch, _dcgan, _dcgan_train))


# -- pytorch/examples word_language_model: LSTM LM, tied weights, clipping, manual SGD on p.data ------
def _word_lm(lib):
    nn = lib.nn

    class RNNModel(nn.Module):
        def __init__(self, ntoken=12, ninp=6, nlayers=2):
            super().__init__()
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.LSTM(ninp, ninp, nlayers)
            self.decoder = nn.Linear(ninp, ntoken)
            self.decoder.weight = self.encoder.weight
            self.nlayers, self.nhid, self.ntoken = nlayers, ninp, ntoken

        def forward(self, input, hidden):
            output, hidden = self.rnn(self.encoder(input), hidden)
            return lib.nn.functional.log_softmax(self.decoder(output).view(-1, self.ntoken), dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
    return RNNModel()


def _word_lm_train(lib, model):
    rng = np.random.default_rng(3)
    source = lib.tensor(rng.integers(0, 12, (10, 2)))
    criterion = lib.nn.NLLLoss()
    hidden = model.init_hidden(2)
    out = {}
    for step, i in enumerate(range(0, 8, 4)):
        data, target = source[i:i + 4], source[i + 1:i + 5].reshape(-1)
        hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, target)
        loss.backward()
        out[f"norm{step}"] = lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-5.0)
        out[f"loss{step}"] = loss.item()
        out[f"ppl{step}"] = math.exp(loss.item())
    out["encoder"] = model.encoder.weight
    return out


def test_word_language_model_example(torch):
    _compare(*_run_both(torch, _word_lm, _word_lm_train))


# -- karpathy/minGPT and makemore: causal self-attention block, decay/no-decay AdamW groups, top-k ----
def _gpt(lib):
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd=8, n_head=2, block_size=6):
            super().__init__()
            self.c_attn, self.c_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
            self.register_buffer("bias", lib.tril(lib.ones(block_size, block_size)).view(1, 1, block_size, block_size))
            self.n_head, self.n_embd = n_head, n_embd

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf")), dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class GPT(nn.Module):
        def __init__(self, vocab=7, n_embd=8, block_size=6):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block_size, n_embd)
            self.ln_1, self.attn, self.ln_f = nn.LayerNorm(n_embd), CausalSelfAttention(), nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                     nn.Linear(4 * n_embd, n_embd))
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)

        def forward(self, idx, targets=None):
            pos = lib.arange(0, idx.size(1), dtype=lib.long).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(x)
            logits = self.lm_head(self.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss
    return GPT()


def _gpt_train(lib, model):
    decay = {n for n, p in model.named_parameters() if n.endswith("weight") and p.dim() >= 2}
    params = dict(model.named_parameters())
    groups = [{"params": [params[n] for n in sorted(decay)], "weight_decay": 0.1},
              {"params": [params[n] for n in sorted(set(params) - decay)], "weight_decay": 0.0}]
    optimizer = lib.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95))
    rng = np.random.default_rng(4)
    x, y = lib.tensor(rng.integers(0, 7, (3, 6))), lib.tensor(rng.integers(0, 7, (3, 6)))
    y[:, :2] = -1
    out = {}
    for step in range(3):
        _, loss = model(x, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        out[f"loss{step}"] = loss.item()
    idx = x[:, :2]
    with lib.no_grad():
        for _ in range(3):  # greedy decoding with a top-k crop, as minGPT's generate
            logits = model(idx)[0][:, -1, :]
            v, _ = lib.topk(logits, 3)
            logits[logits < v[:, [-1]]] = -float("Inf")
            _, idx_next = lib.topk(lib.nn.functional.softmax(logits, dim=-1), k=1, dim=-1)
            idx = lib.cat((idx, idx_next), dim=1)
    out["generated"] = idx
    return out


def test_mingpt_style_model(torch):
    _compare(*_run_both(torch, _gpt, _gpt_train))


# -- pytorch/examples time_sequence_prediction: float64 LSTMCells, split over time, LBFGS closure ------
def _sequence(lib):
    nn = lib.nn

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1, self.lstm2, self.linear = nn.LSTMCell(1, 5), nn.LSTMCell(5, 5), nn.Linear(5, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t, c_t, h_t2, c_t2 = (lib.zeros(input.size(0), 5, dtype=lib.double) for _ in range(4))
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for _ in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return lib.cat(outputs, dim=1)
    return Sequence().double()


def _sequence_train(lib, seq):
    rng = np.random.default_rng(5)
    x = np.arange(10) + rng.integers(-40, 40, (4, 1))
    data = np.sin(x / 20.0)
    input, target = lib.from_numpy(data[:, :-1]), lib.from_numpy(data[:, 1:])
    criterion = lib.nn.MSELoss()
    optimizer = lib.optim.LBFGS(seq.parameters(), lr=0.8)
    out = {}
    for i in range(2):
        def closure():
            optimizer.zero_grad()
            loss = criterion(seq(input), target)
            loss.backward()
            return loss
        out[f"loss{i}"] = optimizer.step(closure).item()
    with lib.no_grad():
        out["prediction"] = seq(input[:2], future=3)
    return out


def test_time_sequence_prediction_example(torch):
    _compare(*_run_both(torch, _sequence, _sequence_train), rtol=1e-7, atol=1e-9)


# -- pytorch/examples vae: reparameterised sampling (noise given), BCE(sum) + KL, Adam ------------------
def _vae(lib):
    nn = lib.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc21, self.fc22 = nn.Linear(16, 8), nn.Linear(8, 3), nn.Linear(8, 3)
            self.fc3, self.fc4 = nn.Linear(3, 8), nn.Linear(8, 16)

        def forward(self, x, eps):
            h1 = lib.nn.functional.relu(self.fc1(x.view(-1, 16)))
            mu, logvar = self.fc21(h1), self.fc22(h1)
            z = mu + eps * lib.exp(0.5 * logvar)
            return lib.sigmoid(self.fc4(lib.nn.functional.relu(self.fc3(z)))), mu, logvar
    return VAE()


def _vae_train(lib, model):
    rng = np.random.default_rng(6)
    x = lib.tensor(rng.uniform(0, 1, (4, 1, 4, 4)).astype(np.float32))
    eps = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    out = {}
    for step in range(3):
        optimizer.zero_grad()
        recon, mu, logvar = model(x, eps)
        bce = lib.nn.functional.binary_cross_entropy(recon, x.view(-1, 16), reduction="sum")
        kld = -0.5 * lib.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        optimizer.step()
        out[f"loss{step}"] = loss.item()
    out["comparison"] = lib.cat([x[:2], recon.view(4, 1, 4, 4)[:2]])
    return out


def test_vae_example(torch):
    _compare(*_run_both(torch, _vae, _vae_train))


@pytest.mark.parametrize("program", ["mnist", "dcgan"])
def test_programs_print_their_logs_as_pytorch_does(torch, program, capsys):
    """The examples log with format strings over ``loss.item()`` and print tensors; the text agrees."""
    build, train = {"mnist": (_mnist_net, _mnist_train), "dcgan": (_dcgan, _dcgan_train)}[program]
    ours, theirs = _run_both(torch, build, train)
    for key in ours:
        if key.startswith("loss") and not isinstance(ours[key], list):
            assert "Loss: {:.4f}".format(ours[key]) == "Loss: {:.4f}".format(theirs[key])
        elif hasattr(ours[key], "detach"):
            assert repr(ours[key].detach()) == repr(theirs[key].detach())
