"""Views, strides and storage against PyTorch: one table of every op that returns a view in PyTorch,
checked generically (values, strides, storage offset, contiguity, ``_base``, shared memory in both
directions, shared version counter), then ``.data``, ``view(dtype)`` and the storage accessors."""

import numpy as np
import pytest

import ember
from ember.testing import assert_close

# name -> (function of (module, base tensor) giving the view, base shape). The same function runs on
# ember and on torch, so the table is the specification.
VIEWS = {
    "int index, all dims": (lambda m, t: t[1, 2], (3, 4)),
    "int index then int index": (lambda m, t: t[1][2], (3, 4)),
    "int index of 1-d": (lambda m, t: t[2], (5,)),
    "int index of 3-d": (lambda m, t: t[1, 0, 2], (2, 3, 4)),
    "int index of transpose": (lambda m, t: t.T[2, 1], (3, 4)),
    "int index of unsqueeze": (lambda m, t: t.unsqueeze(0)[0, 1], (3,)),
    "row": (lambda m, t: t[1], (3, 4)),
    "slice, step": (lambda m, t: t[::2, 1:], (3, 4)),
    "negative int, ellipsis": (lambda m, t: t[..., -1], (2, 3, 4)),
    "None index": (lambda m, t: t[:, None], (3, 4)),
    "leading None": (lambda m, t: t[None, 1], (3, 4)),
    "select": (lambda m, t: t.select(1, 2), (3, 4)),
    "select to 0-d": (lambda m, t: t.select(0, 3), (5,)),
    "narrow": (lambda m, t: t.narrow(1, 1, 2), (3, 4)),
    "diagonal": (lambda m, t: t.diagonal(), (3, 4)),
    "diagonal offset, dims": (lambda m, t: m.diagonal(t, 1, 1, 2), (2, 3, 4)),
    "unbind": (lambda m, t: t.unbind(1)[2], (3, 4)),
    "unbind of 1-d": (lambda m, t: t.unbind()[1], (3,)),
    "split": (lambda m, t: t.split(2, 1)[1], (3, 4)),
    "split sizes": (lambda m, t: m.split(t, [1, 2], 0)[1], (3, 4)),
    "chunk": (lambda m, t: t.chunk(2)[1], (4, 3)),
    "tensor_split sections": (lambda m, t: m.tensor_split(t, 3, dim=1)[0], (3, 7)),
    "tensor_split indices": (lambda m, t: t.tensor_split((1, 9, 0))[1], (10,)),
    "unsqueeze_ of a view": (lambda m, t: t[1:].unsqueeze_(1), (3, 4)),
    "transpose_ of a view": (lambda m, t: t[:, 1:].transpose_(0, 1), (3, 4)),
    "t_ and squeeze_": (lambda m, t: t[:, :1].t_().squeeze_(0), (3, 4)),
    "view": (lambda m, t: t.view(2, 6), (3, 4)),
    "view -1": (lambda m, t: t.view(-1), (3, 4)),
    "view_as": (lambda m, t: t.view_as(m.empty(6, 2)), (3, 4)),
    "reshape of contiguous": (lambda m, t: t.reshape(4, 3), (3, 4)),
    "reshape_as": (lambda m, t: t.reshape_as(m.empty(12)), (3, 4)),
    "flatten of contiguous": (lambda m, t: t.flatten(), (2, 3, 2)),
    "flatten of 0-d": (lambda m, t: t.flatten(), ()),
    "ravel": (lambda m, t: t.ravel(), (3, 4)),
    "unflatten": (lambda m, t: t.unflatten(1, (2, 2)), (3, 4)),
    "transpose": (lambda m, t: t.transpose(0, 1), (3, 4)),
    "swapaxes": (lambda m, t: t.swapaxes(0, 2), (2, 3, 4)),
    "swapdims": (lambda m, t: t.swapdims(0, 1), (3, 4)),
    "t": (lambda m, t: t.t(), (3, 4)),
    "permute": (lambda m, t: t.permute(2, 0, 1), (2, 3, 4)),
    "T": (lambda m, t: t.T, (3, 4)),
    "mT": (lambda m, t: t.mT, (2, 3, 4)),
    "H": (lambda m, t: t.H, (3, 4)),
    "mH": (lambda m, t: t.mH, (2, 3, 4)),
    "adjoint": (lambda m, t: t.adjoint(), (3, 4)),
    "movedim": (lambda m, t: t.movedim(0, -1), (2, 3, 4)),
    "moveaxis": (lambda m, t: m.moveaxis(t, 1, 0), (3, 4)),
    "unsqueeze": (lambda m, t: t.unsqueeze(1), (3, 4)),
    "unsqueeze last": (lambda m, t: t.unsqueeze(-1), (3, 4)),
    "squeeze": (lambda m, t: t.squeeze(), (3, 1, 4)),
    "squeeze dim": (lambda m, t: t.squeeze(1), (3, 1, 4)),
    "expand": (lambda m, t: t.expand(2, 3, 4), (3, 4)),
    "expand size-one dim": (lambda m, t: t.expand(3, 5), (3, 1)),
    "expand_as": (lambda m, t: t.expand_as(m.empty(2, 3)), (3,)),
    "unfold": (lambda m, t: t.unfold(1, 2, 1), (3, 4)),
    "unfold with step": (lambda m, t: t.unfold(0, 2, 2), (6,)),
    "as_strided": (lambda m, t: t.as_strided((2, 2), (1, 2), 3), (3, 4)),
    "as_strided of a view": (lambda m, t: t[1:].as_strided((2,), (4,)), (3, 4)),
    "detach": (lambda m, t: t.detach(), (3, 4)),
    "view of a view": (lambda m, t: t[1:].T[1], (3, 4)),
}

# Views whose elements overlap (or, for expand, repeat): PyTorch refuses to write through them, so
# only writes to the base are checked.
OVERLAPPING = {"expand", "expand size-one dim", "expand_as", "unfold", "as_strided"}


def _bases(torch, shape):
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return ember.tensor(data), torch.tensor(data)


def _check_layout(ours, theirs, base, tbase):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(ours, theirs, rtol=0, atol=0)
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert (ours._base is base) == (theirs._base is tbase)
    assert (ours._base is None) == (theirs._base is None) and ours._is_view() == theirs._is_view()
    assert ours.data_ptr() - base.data_ptr() == theirs.data_ptr() - tbase.data_ptr()
    assert ours.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    assert ours.untyped_storage().nbytes() == theirs.untyped_storage().nbytes()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_ops_share_memory_strides_and_version_with_their_base(torch, name):
    fn, shape = VIEWS[name]
    base, tbase = _bases(torch, shape)
    view, tview = fn(ember, base), fn(torch, tbase)
    _check_layout(view, tview, base, tbase)

    base.add_(100)  # writes to the base show through the view
    tbase.add_(100)
    assert_close(view, tview, rtol=0, atol=0)

    if name not in OVERLAPPING:  # writes through the view reach the base, and bump the shared version
        before = base._version
        fill = np.arange(view.numel(), dtype=np.float32).reshape(tuple(view.shape)) * -1 - 1
        view.copy_(ember.tensor(fill))
        tview.copy_(torch.tensor(fill))
        assert_close(base, tbase, rtol=0, atol=0)
        assert base._version == view._version > before
        view.mul_(2)
        tview.mul_(2)
        assert_close(base, tbase, rtol=0, atol=0)


# The instances reported in issue 10: each wrote into a copy and left the base unchanged, silently.
WRITES = {
    "b[1, 2].fill_(7)": lambda m, b: b[1, 2].fill_(7),
    "b[1][2].add_(7)": lambda m, b: b[1][2].add_(7),
    "b[0, 1].copy_(..)": lambda m, b: b[0, 1].copy_(m.tensor(-3.0)),
    "b[2, 3].zero_()": lambda m, b: b[2, 3].zero_(),
    "b.T[2, 1].fill_(7)": lambda m, b: b.T[2, 1].fill_(7),
    "b[1].fill_(5)": lambda m, b: b[1].fill_(5),
    "b[0][2] = 9": lambda m, b: b[0].__setitem__(2, 9),
    "b[1, 2][...] = 4": lambda m, b: b[1, 2].__setitem__(Ellipsis, 4),
    "row 0-d views in a loop": lambda m, b: [x.mul_(2) for x in b[1]],
    "unsqueeze(0)[0, 1].fill_(3)": lambda m, b: b.unsqueeze(0)[0, 1].fill_(3),
    "v[2].fill_(3) on 1-d": lambda m, b: b.view(-1)[2].fill_(3),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_through_integer_indexing_reach_the_base(torch, name):
    base, tbase = _bases(torch, (3, 4))
    WRITES[name](ember, base)
    WRITES[name](torch, tbase)
    assert_close(base, tbase, rtol=0, atol=0)


def test_writes_to_a_parameter_element_under_no_grad_reach_it(torch):
    layer = ember.nn.Linear(3, 2)
    with ember.no_grad():
        layer.bias[1].fill_(5)
        layer.weight[0, 2].fill_(-1)
    assert layer.bias[1].item() == 5 and layer.weight[0, 2].item() == -1


def test_in_place_through_a_view_is_seen_by_saved_tensor_checks(torch):
    for m in (ember, torch):
        x = m.ones(3, requires_grad=True)
        y = x.exp()  # saves its output
        with m.no_grad():
            y[1].fill_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place"):
            y.sum().backward()


def test_in_place_through_a_view_of_a_tensor_that_requires_grad_is_refused():
    # A documented difference: PyTorch rebases the view's history; ember refuses rather than guess.
    y = ember.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="view of a tensor that requires grad"):
        y[1].mul_(3)


# -- .data and detach() -------------------------------------------------------------------------------

def test_data_does_not_share_the_version_counter_so_autograd_does_not_see_its_writes(torch):
    grads = []
    for m in (ember, torch):
        w = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = m.tensor([4.0, 5.0, 6.0], requires_grad=True)
        loss = (w * x).sum()  # saves w for x's gradient
        version = w._version
        w.data.mul_(10)  # weight clipping / EMA style edit between forward and backward
        assert w._version == version
        loss.backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1], rtol=0, atol=0)


def test_data_and_detach_share_memory_but_only_detach_shares_the_version(torch):
    for m in (ember, torch):
        w = m.zeros(3, requires_grad=True)
        d, det = w.data, w.detach()
        assert d._base is None and det._base is None and not d.requires_grad
        d.add_(1)
        assert w._version == 0 and w[0].item() == 1
        det.add_(1)
        assert w._version == det._version == 1 and w[0].item() == 2


# -- view(dtype) ---------------------------------------------------------------------------------------

DTYPE_VIEWS = [
    ("float32", lambda m, t: t, "int32"),
    ("float32", lambda m, t: t, "float16"),
    ("float32", lambda m, t: t, "float64"),
    ("float32", lambda m, t: t, "uint8"),
    ("int64", lambda m, t: t, "float64"),
    ("int16", lambda m, t: t, "int8"),
    ("uint8", lambda m, t: t, "bool"),
    ("float32", lambda m, t: t[:, 2:], "float64"),
    ("float32", lambda m, t: t[1], "int16"),
    ("float32", lambda m, t: t[1, 1], "int32"),
    ("float64", lambda m, t: t[:, :0], "float32"),
]


@pytest.mark.parametrize("source, fn, target", DTYPE_VIEWS)
def test_view_dtype_reinterprets_bits_like_torch(torch, source, fn, target):
    data = (np.arange(16).reshape(4, 4) * 37 % 11).astype(source)
    if source.startswith("float"):
        data = data / 7 + 0.5
    base, tbase = ember.tensor(data), torch.tensor(data)
    ours, theirs = fn(ember, base).view(getattr(ember, target)), fn(torch, tbase).view(getattr(torch, target))
    assert ours.dtype is getattr(ember, target)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours.zero_()  # same memory and version counter, no autograd view
    theirs.zero_()
    assert_close(base, tbase, rtol=0, atol=0)
    assert base._version == ours._version and ours._base is None


def test_view_dtype_of_a_float_is_its_bits():
    assert ember.tensor([1.0]).view(ember.int32).tolist() == [1065353216]


@pytest.mark.parametrize("fn", [
    lambda m: m.tensor(1.0).view(m.float16),
    lambda m: m.ones(3, 4).T.view(m.float16),
    lambda m: m.ones(3, 3).view(m.float64),
    lambda m: m.ones(3, 4)[:, 1:3].view(m.float64),
    lambda m: m.ones(4, 4)[:, 1:3].reshape(2, 4)[:, :3].view(m.float64),
], ids=["0-d", "stride(-1)", "size(-1)", "storage offset", "size(-1) of a view"])
def test_view_dtype_errors_match_torch(torch, fn):
    with pytest.raises(RuntimeError) as theirs:
        fn(torch)
    with pytest.raises(RuntimeError) as ours:
        fn(ember)
    assert str(ours.value) == str(theirs.value)


def test_view_dtype_is_outside_autograd(torch):
    x = ember.ones(2, requires_grad=True)
    tx = torch.ones(2, requires_grad=True)
    assert x.view(ember.int32).requires_grad == tx.view(torch.int32).requires_grad
    assert x.view(ember.float32).requires_grad == tx.view(torch.float32).requires_grad


# -- strides and storage -------------------------------------------------------------------------------

COPIES = {
    "clone of transpose": lambda m, t: t.T.clone(),
    "clone of a stepped slice": lambda m, t: t[::2].clone(),
    "clone contiguous_format": lambda m, t: t.T.clone(memory_format=m.contiguous_format),
    "contiguous of transpose": lambda m, t: t.T.contiguous(),
    "flip": lambda m, t: t.flip(0),
    "reshape of transpose": lambda m, t: t.T.reshape(-1),
    "sum over dim": lambda m, t: t.sum(0),
    "transpose plus one": lambda m, t: t.T + 1,
    "index with a list": lambda m, t: t[[0, 2]],
    "mask": lambda m, t: t[t > 3],
    "cat": lambda m, t: m.cat([t, t]),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_report_the_strides_and_offset_torch_does(torch, name):
    base, tbase = _bases(torch, (3, 4))
    ours, theirs = COPIES[name](ember, base), COPIES[name](torch, tbase)
    assert_close(ours, theirs, rtol=0, atol=0)
    assert ours.stride() == theirs.stride() and ours.is_contiguous() == theirs.is_contiguous()
    assert ours.storage_offset() == theirs.storage_offset() == 0
    assert ours._base is None and theirs._base is None
    assert ours.untyped_storage().data_ptr() != base.untyped_storage().data_ptr()


def test_stride_of_one_dim_and_sizes_of_elements(torch):
    for dtype in ("float32", "float64", "int16", "uint8", "bool"):
        x, tx = ember.zeros(2, 3, 4, dtype=getattr(ember, dtype)), torch.zeros(2, 3, 4, dtype=getattr(torch, dtype))
        v, tv = x.permute(2, 0, 1)[1:], tx.permute(2, 0, 1)[1:]
        assert v.stride(0) == tv.stride(0) and v.stride(-1) == tv.stride(-1)
        assert (v.element_size(), v.itemsize, v.nbytes) == (tv.element_size(), tv.itemsize, tv.nbytes)
        assert v.untyped_storage().nbytes() == tv.untyped_storage().nbytes()
    with pytest.raises(IndexError):
        ember.zeros(2, 3).stride(2)


def test_is_contiguous_and_contiguous_in_channels_last(torch):
    data = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    x, tx = ember.tensor(data), torch.tensor(data)
    for fmt in ("contiguous_format", "channels_last"):
        ours, theirs = x.contiguous(memory_format=getattr(ember, fmt)), tx.contiguous(memory_format=getattr(torch, fmt))
        assert ours.stride() == theirs.stride()
        for check in ("contiguous_format", "channels_last"):
            assert ours.is_contiguous(memory_format=getattr(ember, check)) == \
                theirs.is_contiguous(memory_format=getattr(torch, check))
        assert_close(ours, theirs, rtol=0, atol=0)
    assert x.clone(memory_format=ember.channels_last).stride() == tx.clone(memory_format=torch.channels_last).stride()


def test_as_strided_gradient_matches_torch(torch):
    data = np.arange(12, dtype=np.float64).reshape(3, 4) / 5
    x, tx = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    weights = np.arange(1, 7, dtype=np.float64).reshape(3, 2)
    (x[1:].as_strided((3, 2), (1, 2), 3) * ember.tensor(weights)).sum().backward()
    (tx[1:].as_strided((3, 2), (1, 2), 3) * torch.tensor(weights)).sum().backward()
    assert_close(x.grad, tx.grad)
    y, ty = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (y.unfold(1, 2, 1) ** 2).sum().backward()
    (ty.unfold(1, 2, 1) ** 2).sum().backward()
    assert_close(y.grad, ty.grad)


@pytest.mark.parametrize("fn", [
    lambda m: m.zeros(3, 4).as_strided((3, 3), (1, 1), 10),
    lambda m: m.zeros(3).as_strided((3,), (-1,)),
    lambda m: m.zeros(3, 4).unfold(1, 5, 1),
    lambda m: m.zeros(3, 4).unfold(1, 2, 0),
], ids=["out of storage", "negative stride", "window too large", "zero step"])
def test_strided_view_errors_match_torch(torch, fn):
    with pytest.raises(RuntimeError) as theirs:
        fn(torch)
    with pytest.raises(RuntimeError) as ours:
        fn(ember)
    assert str(ours.value) == str(theirs.value)


def test_select_and_H_errors_match_torch(torch):
    for fn in (lambda m: m.zeros(3, 4).select(1, 5), lambda m: m.zeros(3).H, lambda m: m.zeros(2, 3, 4).H):
        with pytest.raises((IndexError, RuntimeError)) as theirs:
            fn(torch)
        with pytest.raises(theirs.type) as ours:
            fn(ember)
        assert str(ours.value).rstrip(".") == str(theirs.value).rstrip(".")


@pytest.mark.ember_device("ref")
def test_views_on_the_reference_device_share_memory():
    base = ember.arange(12.0).reshape(3, 4).to("ref")
    for name in ("int index, all dims", "select", "unfold", "as_strided of a view", "diagonal", "None index",
                 "leading None"):
        fn, shape = VIEWS[name]
        b = base.reshape(shape) if shape == (3, 4) else ember.arange(12.0).to("ref").reshape(shape)
        view = fn(ember, b)
        assert view.device.type == "ref" and view._base is (b if b._base is None else b._base)
        assert view.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
        assert view.stride() == fn(ember, b.cpu()).stride()
        b.add_(1)
        assert_close(view.cpu(), fn(ember, b.cpu()))
    base[1, 2].fill_(-7)
    assert base.cpu()[1, 2].item() == -7
    assert base.view(ember.int32).device.type == "ref"


@pytest.mark.parametrize("write", [lambda t: t.add_(1), lambda t: t.copy_(t.new_ones(3, 4)),
                                   lambda t: t.__setitem__(0, 1)], ids=["add_", "copy_", "setitem"])
def test_writing_into_an_expanded_tensor_is_a_runtime_error(torch, write):
    with pytest.raises(RuntimeError, match="single memory location"):
        write(torch.zeros(3, 1).expand(3, 4))
    with pytest.raises(RuntimeError, match="setitem|add_|copy_"):
        write(ember.zeros(3, 1).expand(3, 4))


def _training_snippets(m, rng):
    """Patterns from public PyTorch training code, written once and run on ember and torch: a learned
    position embedding resized for a new image size (bicubic, antialiased), weight clipping and an EMA
    through ``.data``, element writes under no_grad, ViT patches with ``unfold``, float bits."""
    F = m.nn.functional
    out = {}
    table = m.tensor(rng.standard_normal((1, 1 + 6 * 6, 4)).astype(np.float32))
    cls, grid = table[:, :1], table[:, 1:]
    for name, size in (("shrunk", (3, 3)), ("grown", (8, 10))):
        image = grid.reshape(1, 6, 6, -1).permute(0, 3, 1, 2)
        resized = F.interpolate(image, size=size, mode="bicubic", antialias=True)
        out[name] = m.cat([cls, resized.permute(0, 2, 3, 1).reshape(1, -1, 4)], dim=1)
    layer = m.nn.Linear(4, 3)
    with m.no_grad():
        layer.weight.copy_(m.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
        layer.bias.zero_()
        layer.bias[1].fill_(0.5)
    for p in layer.parameters():
        p.data.clamp_(-0.3, 0.3)
    ema = [p.detach().clone() for p in layer.parameters()]
    loss = layer(m.tensor(rng.standard_normal((5, 4)).astype(np.float32))).pow(2).sum()
    for e, p in zip(ema, layer.parameters()):
        e.data.mul_(0.9).add_(p.data, alpha=0.1)
    layer.weight.data[0, 0] = 5.0  # between forward and backward: invisible to autograd
    loss.backward()
    out.update(grad=layer.weight.grad, ema=ema[0], weight=layer.weight.detach())
    image = m.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    patches = image.unfold(2, 4, 4).unfold(3, 4, 4)
    out["patch strides"] = m.tensor(patches.stride())
    out["patches"] = patches.contiguous().view(2, 3, -1, 16)
    out["bits"] = m.tensor([1.0, -2.5]).view(m.int32)
    return out


def test_training_snippets_give_torch_results(torch):
    ours = _training_snippets(ember, np.random.default_rng(0))
    theirs = _training_snippets(torch, np.random.default_rng(0))
    for name in theirs:
        np.testing.assert_allclose(ours[name].detach().numpy(), theirs[name].detach().numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)


@pytest.mark.ember_device("ref")
def test_strided_views_of_a_clone_that_kept_a_transposed_layout():
    # clone() keeps a dense input's layout, so a storage may be laid out column-major; views of it
    # (and the reference device's own view tracking) must still share its memory
    for dev in ("cpu", "ref"):
        x = ember.arange(12.0).reshape(3, 4).to(dev).T.clone()
        assert not x.is_contiguous() and x.stride() == (1, 4)
        window = x.unfold(0, 2, 1)
        x.mul_(-1)
        assert_close(window.cpu(), x.cpu().unfold(0, 2, 1))
        assert_close(ember.nn.functional.avg_pool2d(x[None, None], 2).cpu(),
                     ember.nn.functional.avg_pool2d(x.cpu()[None, None], 2))
        planes = ember.arange(32.0).reshape(2, 4, 4).to(dev).transpose(1, 2).clone()
        assert_close(ember.nn.functional.avg_pool2d(planes, 3, stride=1).cpu(),
                     ember.nn.functional.avg_pool2d(planes.cpu(), 3, stride=1))


def test_in_place_view_ops_change_shape_version_and_history_as_torch(torch):
    for m in (ember, torch):
        x = m.zeros(3, 4)
        assert x.unsqueeze_(0) is x and tuple(x.shape) == (1, 3, 4) and x._version == 1
        assert x.transpose_(0, 2).stride() == (1, 4, 12) and x.squeeze_().shape == (4, 3)
        leaf = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            leaf.unsqueeze_(0)
        y = leaf * 2
        y.unsqueeze_(0)
        (y * m.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        assert leaf.grad.tolist() == [2.0, 4.0, 6.0]
