"""Bad input: every error names the layer (or optimizer) and says what it expected and what it got."""

from __future__ import annotations

import pytest

import ember
from ember import nn


def test_linear_with_wrong_feature_size():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=3\): expected input with last "
                                           r"dimension 4, got input of shape \(2, 5\)"):
        nn.Linear(4, 3)(ember.zeros(2, 5))


def test_conv2d_with_wrong_in_channels():
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\).*\): expected input with 3 channels "
                                           r"\(dim 1\), got 2 channels in input of shape \(1, 2, 5, 5\)"):
        nn.Conv2d(3, 8, 3)(ember.zeros(1, 2, 5, 5))


@pytest.mark.parametrize("layer,shape,expected", [
    (lambda: nn.Conv2d(3, 8, 3), (3, 5), r"Conv2d\(.*\): expected 3-D \(unbatched\) or 4-D \(batched\) input, got 2-D"),
    (lambda: nn.Conv1d(2, 2, 1), (1, 2, 3, 4), r"Conv1d\(.*\): expected 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: nn.MaxPool2d(2), (4, 4), r"MaxPool2d\(.*\): expected 3-D \(unbatched\) or 4-D \(batched\) input, got 2-D"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d\(3, .*\): expected 4-D input, got 3-D input of shape"),
    (lambda: nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d\(3, .*\): expected input with 3 channels \(dim 1\), got shape"),
    (lambda: nn.LSTM(3, 4), (2, 1, 1, 3), r"LSTM\(3, 4\): expected 2-D \(unbatched\) or 3-D \(batched\) input, got 4-D"),
    (lambda: nn.GRU(3, 4), (5, 2, 2), r"GRU\(3, 4\): expected input with last dimension 3 \(input_size\), got shape"),
    (lambda: nn.LayerNorm(4), (2, 3), r"LayerNorm\(\(4,\).*\): expected input whose trailing dimensions are \(4,\)"),
    (lambda: nn.MultiheadAttention(4, 2), (3, 2, 5), r"MultiheadAttention\(embed_dim=4, num_heads=2\): expected "
                                                     r"query with last dimension 4"),
])
def test_wrong_number_of_dims_or_sizes_names_the_layer(layer, shape, expected):
    module = layer()
    x = ember.zeros(*shape)
    with pytest.raises(RuntimeError, match=expected):
        module(x, x, x) if isinstance(module, nn.MultiheadAttention) else module(x)


def test_embedding_with_float_indices():
    with pytest.raises(TypeError, match=r"Embedding\(5, 2\): expected integer \(Long or Int\) indices, got"):
        nn.Embedding(5, 2)(ember.zeros(3))


@pytest.mark.parametrize("build,expected", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.MultiheadAttention(5, 2), r"MultiheadAttention: embed_dim \(5\) must be divisible by num_heads \(2\)"),
    (lambda: nn.Dropout(1.5), r"Dropout: dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: nn.GroupNorm(3, 4), r"GroupNorm: num_channels \(4\) must be divisible by num_groups \(3\)"),
    (lambda: nn.Linear(-1, 2), r"Linear: in_features and out_features must be non-negative"),
])
def test_bad_construction_arguments(build, expected):
    with pytest.raises(ValueError, match=expected):
        build()


def test_optimizer_errors_name_the_optimizer():
    with pytest.raises(ValueError, match=r"Adam: optimizer got an empty parameter list"):
        ember.optim.Adam([])
    with pytest.raises(ValueError, match=r"RMSprop: invalid learning rate: -1.0 \(expected >= 0"):
        ember.optim.RMSprop(nn.Linear(2, 2).parameters(), lr=-1.0)
    with pytest.raises(ValueError, match=r"Adam: invalid beta parameter at index 1: 1.5 \(expected in \[0.0, 1.0\)\)"):
        ember.optim.Adam(nn.Linear(2, 2).parameters(), betas=(0.9, 1.5))


def test_scheduler_attached_to_nothing():
    with pytest.raises(TypeError, match=r"CosineAnnealingLR: expected an ember.optim.Optimizer to schedule, got list"):
        ember.optim.lr_scheduler.CosineAnnealingLR([], T_max=3)


def _torch_error(call):
    """The exception class PyTorch raises for ``call`` (the test fails if it raises none)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - any class: ember's must be an instance of it
        return type(exc)
    raise AssertionError("PyTorch accepted the call")


NON_TENSOR_LAYERS = [
    ("Linear", (4, 3)), ("Conv1d", (2, 2, 1)), ("Conv2d", (3, 4, 3)), ("ConvTranspose2d", (3, 4, 3)),
    ("MaxPool2d", (2,)), ("AvgPool1d", (2,)), ("AdaptiveAvgPool2d", (2,)), ("BatchNorm2d", (3,)),
    ("InstanceNorm1d", (3,)), ("LayerNorm", (4,)), ("GroupNorm", (2, 4)), ("RMSNorm", (4,)), ("Embedding", (5, 2)),
]


@pytest.mark.parametrize("name,args", NON_TENSOR_LAYERS, ids=[n for n, _ in NON_TENSOR_LAYERS])
@pytest.mark.parametrize("bad", ["list", "numpy", "None"])
def test_a_non_tensor_input_is_a_type_error_naming_the_layer(torch, name, args, bad):
    import numpy as np
    value = {"list": [[1.0, 2.0]], "numpy": np.ones((2, 4), np.float32), "None": None}[bad]
    expected = _torch_error(lambda: getattr(torch.nn, name)(*args)(value))
    with pytest.raises(expected, match=rf"{name}\(.*\): argument 'input' must be Tensor, not "
                                       rf"{type(value).__name__}"):
        getattr(nn, name)(*args)(value)


LAZY = [("LazyLinear", (3,), r"LazyLinear\(out_features=3\): expected input with at least 1 dimension"),
        ("LazyConv1d", (3, 2), r"LazyConv1d\(.*\): expected 2-D \(unbatched\) or 3-D \(batched\) input, got 0-D"),
        ("LazyConv2d", (3, 2), r"LazyConv2d\(.*\): expected 3-D \(unbatched\) or 4-D \(batched\) input, got 0-D"),
        ("LazyConvTranspose2d", (3, 2), r"LazyConvTranspose2d\(.*\): expected 3-D \(unbatched\) or 4-D"),
        ("LazyBatchNorm2d", (), r"LazyBatchNorm2d: expected at least 2-D input \(num_features is dim 1\), got shape")]


@pytest.mark.parametrize("name,args,expected", LAZY, ids=[n for n, *_ in LAZY])
def test_a_0d_input_to_a_lazy_layer_names_the_layer(torch, name, args, expected):
    torch_error = _torch_error(lambda: getattr(torch.nn, name)(*args)(torch.tensor(1.0)))
    with pytest.raises(torch_error, match=expected):
        getattr(nn, name)(*args)(ember.tensor(1.0))


@pytest.mark.parametrize("src,tgt", [((), (2, 1, 4)), ((2, 1, 4), ()), ((4,), (4,))])
def test_transformer_with_0d_or_1d_input(torch, src, tgt):
    def run(lib, module):
        return module(lib.zeros(src), lib.zeros(tgt))
    sizes = dict(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    expected = _torch_error(lambda: run(torch, torch.nn.Transformer(**sizes)))
    with pytest.raises(expected, match=r"Transformer: expected src and tgt to be 2-D \(unbatched\) or 3-D "
                                       r"\(batched\), got shapes"):
        run(ember, nn.Transformer(**sizes))


def test_transformer_with_a_non_tensor(torch):
    sizes = dict(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    expected = _torch_error(lambda: torch.nn.Transformer(**sizes)([[1.0]], torch.zeros(2, 1, 4)))
    with pytest.raises(expected, match=r"Transformer\(.*\): argument 'src' must be Tensor, not list"):
        nn.Transformer(**sizes)([[1.0]], ember.zeros(2, 1, 4))


def test_hinge_embedding_loss_with_mismatched_shapes(torch):
    expected = _torch_error(lambda: torch.nn.HingeEmbeddingLoss()(torch.zeros(3, 2), torch.ones(4)))
    with pytest.raises(expected, match=r"HingeEmbeddingLoss\(.*\): expected target of the shape of input \(3, 2\) "
                                       r"\(or broadcastable to it\), got \(4,\)"):
        nn.HingeEmbeddingLoss()(ember.zeros(3, 2), ember.ones(4))


def test_embedding_bag_with_float_indices(torch):
    expected = _torch_error(lambda: torch.nn.EmbeddingBag(5, 2)(torch.zeros(2, 3)))
    with pytest.raises(expected, match=r"EmbeddingBag\(5, 2.*\): expected tensor for argument #1 'indices' to have "
                                       r"one of the following scalar types: Long, Int; got ember.float32"):
        nn.EmbeddingBag(5, 2)(ember.zeros(2, 3))


@pytest.mark.parametrize("bad", [[[1, 2]], None])
def test_embedding_bag_with_a_non_tensor(torch, bad):
    expected = _torch_error(lambda: torch.nn.EmbeddingBag(5, 2)(bad))
    with pytest.raises(expected, match=r"EmbeddingBag\(5, 2.*\): argument 'input' must be Tensor"):
        nn.EmbeddingBag(5, 2)(bad)


def test_embedding_bag_with_an_unknown_mode(torch):
    # PyTorch constructs it and rejects the mode at the first forward; ember does the same.
    torch_bag, bag = torch.nn.EmbeddingBag(5, 2, mode="x"), nn.EmbeddingBag(5, 2, mode="x")
    expected = _torch_error(lambda: torch_bag(torch.tensor([[1, 2]])))
    with pytest.raises(expected, match=r"mode has to be one of sum, mean or max, got 'x'"):
        bag(ember.tensor([[1, 2]]))


MORE_NON_TENSOR = [
    ("LSTM", (3, 4), lambda bad, lib: (bad,), "input"), ("GRUCell", (3, 4), lambda bad, lib: (bad,), "input"),
    ("RNN", (3, 4), lambda bad, lib: (bad,), "input"), ("Softmax2d", (), lambda bad, lib: (bad,), "input"),
    ("Bilinear", (2, 2, 2), lambda bad, lib: (lib.zeros(3, 2), bad), "input2"),
    ("MultiheadAttention", (4, 2), lambda bad, lib: (bad, lib.zeros(2, 1, 4), lib.zeros(2, 1, 4)), "query"),
    ("TransformerEncoderLayer", (4, 2, 8), lambda bad, lib: (bad,), "src"),
    ("TransformerDecoderLayer", (4, 2, 8), lambda bad, lib: (lib.zeros(2, 1, 4), bad), "memory"),
]


@pytest.mark.parametrize("name,args,call,arg", MORE_NON_TENSOR, ids=[n for n, *_ in MORE_NON_TENSOR])
def test_a_non_tensor_argument_names_the_layer_and_the_argument(torch, name, args, call, arg):
    bad = [[1.0, 2.0]]
    expected = _torch_error(lambda: getattr(torch.nn, name)(*args)(*call(bad, torch)))
    with pytest.raises(expected, match=rf"{name}\(.*\): argument '{arg}' must be Tensor, not list"):
        getattr(nn, name)(*args)(*call(bad, ember))


WRONG_RANK = [("BatchNorm2d", (3,), (2, 3, 4), r"expected 4-D input, got 3-D"),
              ("BatchNorm1d", (3,), (), r"expected 2-D or 3-D input, got 0-D"),
              ("InstanceNorm2d", (3,), (3, 4), r"expected 3-D \(unbatched\) or 4-D \(batched\) input, got 2-D"),
              ("LSTM", (3, 4), (1, 1, 1, 3), r"expected 2-D \(unbatched\) or 3-D \(batched\) input, got 4-D"),
              ("GRUCell", (3, 4), (1, 1, 3), r"expected 1-D \(unbatched\) or 2-D \(batched\) input, got 3-D"),
              ("Softmax2d", (), (3, 4), r"expected 3-D \(unbatched\) or 4-D \(batched\) input, got 2-D"),
              ("RMSNorm", (4,), (), r"expected input whose trailing dimensions are \(4,\), got shape \(\)")]


@pytest.mark.parametrize("name,args,shape,expected", WRONG_RANK, ids=[n for n, *_ in WRONG_RANK])
def test_a_wrong_rank_is_the_value_error_pytorch_raises(torch, name, args, shape, expected):
    torch_error = _torch_error(lambda: getattr(torch.nn, name)(*args)(torch.zeros(shape)))
    with pytest.raises(torch_error, match=rf"{name}.*: {expected}"):
        getattr(nn, name)(*args)(ember.zeros(shape))


LOSS_DROPOUT_PAD = [("MSELoss", (), 2), ("BCELoss", (), 2), ("SoftMarginLoss", (), 2), ("GaussianNLLLoss", (), 3),
                    ("Dropout2d", (), 1), ("ZeroPad2d", (1,), 1), ("ReflectionPad1d", (1,), 1)]


@pytest.mark.parametrize("name,args,n_inputs", LOSS_DROPOUT_PAD, ids=[n for n, *_ in LOSS_DROPOUT_PAD])
def test_losses_dropouts_and_pads_name_a_non_tensor_input(torch, name, args, n_inputs):
    def call(lib, module):
        return module([[1.0, 2.0]], *[lib.ones(2, 2) for _ in range(n_inputs - 1)])
    expected = _torch_error(lambda: call(torch, getattr(torch.nn, name)(*args)))
    with pytest.raises(expected, match=rf"{name}\(.*\): argument '(input|log_input)' must be Tensor, not list"):
        call(ember, getattr(nn, name)(*args))


SHAPE_AND_ACTIVATION = [("Softmax", (1,)), ("LogSoftmax", (1,)), ("GLU", ()), ("Softsign", ()), ("Tanhshrink", ()),
                        ("Flatten", ()), ("Unflatten", (1, (2, 2))), ("AdaptiveAvgPool3d", (2,)),
                        ("AdaptiveMaxPool3d", (2,)), ("Upsample", (None, 2))]


@pytest.mark.parametrize("name,args", SHAPE_AND_ACTIVATION, ids=[n for n, _ in SHAPE_AND_ACTIVATION])
def test_a_non_tensor_to_a_python_level_layer_names_the_layer(torch, name, args):
    expected = _torch_error(lambda: getattr(torch.nn, name)(*args)([[1.0, 2.0]]))
    with pytest.raises(expected, match=rf"{name}\(.*\): argument 'input' must be Tensor, not list"):
        getattr(nn, name)(*args)([[1.0, 2.0]])
