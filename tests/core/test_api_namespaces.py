"""The namespaces PyTorch scripts import (jit, accelerator, amp, profiler, backends, onnx, cuda's memory
functions, _dynamo, compiler, multiprocessing, legacy types, dtypes info, settings), compared with torch
where torch answers on this machine."""

import numpy as np
import pytest

import ember


def test_jit_decorators_return_what_they_are_given():
    def f(x):
        return x + 1
    assert ember.jit.script(f) is f and ember.jit.trace(f, (ember.ones(1),)) is f
    assert ember.jit.ignore(f) is f and ember.jit.ignore(drop=True)(f) is f and ember.jit.unused(f) is f
    assert ember.jit.export(f) is f and ember.jit.is_scripting() is False and ember.jit.is_tracing() is False
    import typing
    assert ember.jit.Final is typing.Final
    with pytest.raises(NotImplementedError, match="TorchScript"):
        ember.jit.load("model.pt")


def test_accelerator_and_cuda_memory_answer_as_torch_without_cuda(torch):
    if ember.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert ember.accelerator.is_available() is torch.accelerator.is_available() is False
    assert ember.accelerator.current_accelerator() is None and torch.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)() == 0
    assert ember.cuda.empty_cache() is None and ember.cuda.is_bf16_supported() is False
    with pytest.raises(RuntimeError):
        ember.cuda.set_device(0)
    with pytest.raises(RuntimeError):
        ember.cuda.Stream()
    with ember.cuda.stream(None):
        pass
    import importlib
    importlib.import_module("ember.cuda.memory")  # submodules import, as torch.cuda.memory does
    importlib.import_module("ember.cuda.amp")


def test_backends_are_a_package_of_importable_flag_modules():
    import ember.backends.cuda
    import ember.backends.cudnn
    import ember.backends.mps  # noqa: F401
    ember.backends.cudnn.benchmark = True
    ember.backends.cuda.matmul.allow_tf32 = True
    assert ember.backends.cudnn.is_available() is False
    with ember.backends.cudnn.flags(enabled=False):
        assert ember.backends.cudnn.enabled is False
    assert ember.backends.cudnn.enabled is True
    with ember.backends.cuda.sdp_kernel(enable_flash=False):
        assert ember.backends.cuda.flash_sdp_enabled() is False
    assert ember.backends.cuda.flash_sdp_enabled() is True


def test_onnx_export_says_it_cannot():
    import ember.onnx
    with pytest.raises(NotImplementedError, match="ONNX"):
        ember.onnx.export(ember.nn.Linear(2, 2), (ember.ones(1, 2),), "m.onnx")


def test_compiler_and_dynamo_settings():
    import ember._dynamo
    import ember._inductor.config  # noqa: F401
    assert ember.compiler.is_compiling() is False and ember._dynamo.is_compiling() is False
    ember._dynamo.config.cache_size_limit = 64
    ember._dynamo.reset()
    assert ember._inductor.config.coordinate_descent_tuning is False


def test_finfo_iinfo_and_bfloat16_match_torch(torch):
    for name in ("float32", "float64", "float16", "bfloat16"):
        e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
        assert (e.bits, e.eps, e.max, e.min, e.tiny, e.resolution) == (t.bits, t.eps, t.max, t.min, t.tiny, t.resolution)
    for name in ("int8", "uint8", "int16", "int32", "int64"):
        e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
        assert (e.bits, e.min, e.max) == (t.bits, t.min, t.max)
    x = ember.tensor([1.0, 2.5, 3.14159]).to(ember.bfloat16)
    tx = torch.tensor([1.0, 2.5, 3.14159]).to(torch.bfloat16)
    assert x.dtype is ember.bfloat16 and x.element_size() == 2
    np.testing.assert_array_equal(x.float().numpy(), tx.float().numpy())
    assert ember.promote_types(ember.bfloat16, ember.float16) is ember.float32
    assert str(torch.promote_types(torch.bfloat16, torch.float16)) == "torch.float32"
    assert (x + x).dtype is ember.bfloat16


def test_cpu_autocast_casts_as_torch(torch):
    x, w = np.random.randn(2, 3).astype(np.float32), np.random.randn(4, 3).astype(np.float32)
    with ember.autocast("cpu"), torch.autocast("cpu"):
        e = ember.nn.functional.linear(ember.tensor(x), ember.tensor(w))
        t = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w))
        assert e.dtype.name == str(t.dtype).replace("torch.", "") == "bfloat16"
        assert (ember.tensor(x) @ ember.tensor(w).T).dtype is ember.bfloat16
        loss = ember.nn.functional.mse_loss(e, e.detach() * 0)
        assert loss.dtype is ember.float32
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") is ember.bfloat16
        np.testing.assert_allclose(e.float().numpy(), t.float().numpy(), rtol=2e-2, atol=2e-2)
    assert not ember.is_autocast_enabled("cpu")
    assert ember.nn.functional.linear(ember.tensor(x), ember.tensor(w)).dtype is ember.float32


def test_autocast_gradients_come_back_in_the_parameter_dtype():
    layer = ember.nn.Linear(3, 2)
    with ember.autocast("cpu"):
        out = layer(ember.ones(4, 3))
    out.float().sum().backward()
    assert layer.weight.grad.dtype is ember.float32


def test_grad_scaler_scales_unscales_and_skips_non_finite_steps(torch):
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.SGD([p], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=1)
        scaler.scale((p * p).sum()).backward()
        assert float(p.grad[0]) == 8.0
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == 8.0 and abs(float(p[0]) - 0.8) < 1e-6
        opt.zero_grad()
        scaler.scale((p * float("inf")).sum()).backward()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == 4.0 and abs(float(p[0]) - 0.8) < 1e-6


def test_cuda_grad_scaler_without_cuda_is_a_pass_through(torch):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning):
        scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.scale(ember.tensor(2.0)).item() == 2.0


def test_profiler_records_ops_and_ranges():
    with ember.profiler.profile(record_shapes=True) as prof:
        with ember.profiler.record_function("my_block"):
            ember.ones(4, 3).relu().sum()
    names = [e.name for e in prof.events()]
    assert "my_block" in names and "ember::relu" in names and "ember::sum" in names
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert "my_block" in table and "Self CPU" in table
    block = next(e for e in prof.events() if e.name == "my_block")
    assert block.cpu_time_total >= block.self_cpu_time_total >= 0
    assert ember.relu.__name__ == "relu" and not hasattr(ember.relu, "__ember_profiled__")


def test_legacy_types_constructors_and_type_strings(torch):
    for name in ("LongTensor", "FloatTensor", "IntTensor", "ByteTensor", "BoolTensor", "DoubleTensor"):
        e, t = getattr(ember, name)([1, 0, 1]), getattr(torch, name)([1, 0, 1])
        assert e.dtype.name == str(t.dtype).replace("torch.", "")
        assert isinstance(e, getattr(ember, name)) and e.type() == t.type()
        assert tuple(getattr(ember, name)(2, 3).shape) == (2, 3)
    x = ember.ones(2)
    assert x.type("torch.LongTensor").dtype is ember.int64 and x.type(ember.IntTensor).dtype is ember.int32
    assert tuple(x.new(3).shape) == (3,) and x.new([1, 2]).dtype is ember.float32
    assert tuple(x.new(ember.Size([2, 2])).shape) == (2, 2) and x.new().shape == (0,)
    assert x.is_xpu is False and x.is_mps is False and x.is_meta is False


def test_constants_memory_formats_and_is_complex(torch):
    assert (ember.pi, ember.e, ember.inf) == (torch.pi, torch.e, torch.inf) and ember.nan != ember.nan
    assert repr(ember.channels_last) == "ember.channels_last" and ember.is_complex(ember.ones(1)) is False


def test_set_num_threads_limits_the_blas_pool():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(before)
    with pytest.raises(RuntimeError):
        ember.set_num_threads(0)


def test_set_printoptions_changes_tensor_repr(torch):
    try:
        ember.set_printoptions(precision=2)
        torch.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456])) == repr(torch.tensor([1.23456])).replace("torch", "ember")
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_set_default_device_is_used_by_factories():
    try:
        ember.set_default_device("cpu")
        assert ember.zeros(1).device.type == "cpu" and ember.get_default_device().type == "cpu"
    finally:
        ember.set_default_device(None)


def test_multiprocessing_is_the_standard_module_plus_spawn():
    import multiprocessing

    import ember.multiprocessing as mp
    assert mp.Queue is multiprocessing.Queue and callable(mp.spawn) and mp.get_sharing_strategy() == "file_system"


def test_futures_chain_and_collect(torch):
    import ember.futures as F
    for lib in (F, torch.futures):
        first = lib.Future()
        second = first.then(lambda fut: fut.wait() * 10)
        first.set_result(2)
        assert second.wait() == 20 and lib.wait_all([first, second]) == [2, 20]
        assert [f.value() for f in lib.collect_all([first, second]).wait()] == [2, 20]


def test_testing_assert_allclose_accepts_sequences():
    ember.testing.assert_allclose(ember.tensor([1.0, float("nan")]), [1.0, float("nan")])
    with pytest.raises(AssertionError):
        ember.testing.assert_allclose(ember.tensor([1.0]), [2.0])


def test_ops_aten_calls_ember_ops(torch):
    x = np.arange(6.0).reshape(2, 3)
    for name, overload in (("add", "Tensor"), ("t", "default"), ("neg", "default"), ("clone", "default")):
        e = getattr(getattr(ember.ops.aten, name), overload)(*([ember.tensor(x)] * (2 if name == "add" else 1)))
        t = getattr(getattr(torch.ops.aten, name), overload)(*([torch.tensor(x)] * (2 if name == "add" else 1)))
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert ember.ops.aten.add_.Tensor._schema.is_mutable and not ember.ops.aten.add.Tensor._schema.is_mutable
