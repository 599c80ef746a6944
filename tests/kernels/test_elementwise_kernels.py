"""ember_fast's multi-threaded elementwise loops against the numpy forwards they replace: bitwise equal on every
operand layout they take (special values included), the numpy path everywhere else, and safe after a fork.
The conformance suite's samples are below the loops' grain, so the large shapes are checked here."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember_fast import elementwise, openmp
from ember_fast.elementwise import (ADD, ARITHMETIC, DIV, SUB, binary_kernel, relu_backward_kernel, relu_kernel,
                                    sum_to_size_kernel)
from ember_ops.activation import Relu, ReluBackward
from ember_ops.shape import SumToSize

pytestmark = [pytest.mark.skipif(not __import__("importlib.util").util.find_spec("numba"),
                                 reason="numba (ember[fast]) is not installed"),
              pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")]  # the references' inf and nan
LOADED = any(info.name == "fast" and info.status == "loaded" for info in ember.plugins.report())
FORWARDS = {ADD: lambda xp, a, b: a + b, SUB: lambda xp, a, b: a - b, ARITHMETIC["mul"]: lambda xp, a, b: a * b,
            DIV: lambda xp, a, b: a / b}
ROWS, COLS = 128, 512  # 64K elements: above the grain


def _with_specials(array):
    """``array`` with zeros of both signs, infinities and NaN of both signs at its start."""
    flat = array.reshape(-1)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-40, -3.0][:flat.size]
    flat[:len(specials)] = specials
    return array


def _operands(rng, shape, dtype):
    return _with_specials(rng.standard_normal(shape).astype(dtype))


def assert_bitwise(got, want):
    """Same shape, dtype and bits (NaN as NaN, zeros with their sign)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def _no_loops(monkeypatch):
    """Make any use of the loops fail, to prove a case stays on numpy."""
    def refuse(*args):
        raise AssertionError(f"the loop {args[0]} ran")
    monkeypatch.setattr(elementwise, "_run", refuse)


@pytest.fixture(autouse=True)
def two_threads(monkeypatch):
    """The loops as the thread policy runs them on two free cores (on one, most leave the work to numpy)."""
    numba = openmp.numba_for_loops()
    monkeypatch.setattr(openmp, "threads_for", lambda size: min(2, numba.config.NUMBA_NUM_THREADS))


@pytest.fixture
def count_loops(monkeypatch):
    """The names of the loops run during the test."""
    ran = []
    real = elementwise._run

    def counted(name, *args):
        ran.append(name)
        return real(name, *args)
    monkeypatch.setattr(elementwise, "_run", counted)
    return ran


SHAPES = {  # case -> (shape of a, shape or scalar of b)
    "same shape": ((ROWS, COLS), (ROWS, COLS)),
    "bias row": ((ROWS, COLS), (COLS,)),
    "bias row, 3-D": ((4, 32, COLS), (COLS,)),
    "conv bias": ((16, 6, 28, 28), (6, 1, 1)),
    "middle dims": ((8, 4, 32, 64), (4, 32, 1)),
    "column": ((ROWS, COLS), (ROWS, 1)),
    "one element": ((ROWS, COLS), (1, 1)),
    "0-d": ((ROWS, COLS), ()),
    "float scalar": ((ROWS, COLS), 0.1),
    "int scalar": ((ROWS, COLS), 3),
    "zero scalar": ((ROWS, COLS), 0.0),
}


@pytest.mark.parametrize("case", SHAPES)
@pytest.mark.parametrize("op", ARITHMETIC)
@pytest.mark.parametrize("swap", [False, True], ids=["large first", "large second"])
def test_arithmetic_loops_are_bitwise_numpy(op, case, swap, count_loops):
    rng = np.random.default_rng(0)
    a_shape, b_spec = SHAPES[case]
    a = _operands(rng, a_shape, np.float32)
    b = _operands(rng, b_spec, np.float32) if isinstance(b_spec, tuple) and b_spec else \
        (np.array(-0.0, np.float32) if b_spec == () else b_spec)
    if swap:
        a, b = b, a
    reference = FORWARDS[ARITHMETIC[op]]
    assert_bitwise(binary_kernel(reference, ARITHMETIC[op])(np, a, b), reference(np, a, b))
    # a large second operand is taken after a number only (a small array first costs no second check)
    taken = not swap or case == "same shape" or not isinstance(a, np.ndarray)
    assert bool(count_loops) == taken


@pytest.mark.parametrize("op", ARITHMETIC)
def test_float64_loops_are_bitwise_numpy(op):
    rng = np.random.default_rng(1)
    a, b, row = _operands(rng, (ROWS, COLS), np.float64), _operands(rng, (ROWS, COLS), np.float64), \
        _operands(rng, (COLS,), np.float64)
    reference = FORWARDS[ARITHMETIC[op]]
    kernel = binary_kernel(reference, ARITHMETIC[op])
    for x, y in ((a, b), (a, row), (row, a), (a, 0.3), (2.5, a)):
        assert_bitwise(kernel(np, x, y), reference(np, x, y))


@pytest.mark.parametrize("case", ["small", "non-contiguous", "mixed dtypes", "integers", "broadcast both",
                                  "two broadcast runs", "huge int scalar", "bool scalar", "result grows"])
def test_other_operands_stay_on_numpy(case, monkeypatch):
    rng = np.random.default_rng(2)
    big = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    a, b = {
        "small": (big[:4], big[:4]),
        "non-contiguous": (big[:, ::2], big[:, 1::2]),
        "mixed dtypes": (big, big.astype(np.float64)),
        "integers": (np.arange(big.size).reshape(big.shape), np.arange(big.size).reshape(big.shape)),
        "broadcast both": (big[:, :1], big[:1]),
        "two broadcast runs": (big.reshape(4, 32, COLS), big[:4, :COLS].reshape(4, 1, COLS).copy()),
        "huge int scalar": (big, 2 ** 60),
        "bool scalar": (big, True),
        "result grows": (big, np.ones((2, 1, 1), np.float32)),
    }[case]
    _no_loops(monkeypatch)
    reference = FORWARDS[ADD]
    assert_bitwise(binary_kernel(reference, ADD)(np, a, b), reference(np, a, b))


@pytest.mark.parametrize("op", ARITHMETIC)
def test_small_operands_take_the_primitives_own_operator(op):
    """Below the grain the kernel calls numpy's operator itself (one call less on the per-op hot path): the
    same result as the primitive's registered forward."""
    prim = next(p for p in elementwise.primitives() if p.name == op)
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    kernel = binary_kernel(prim.forward, ARITHMETIC[op])
    for a, b in ((x, y), (x, 2.5), (3, x), (x.astype(np.int64), 2)):
        assert_bitwise(np.asarray(kernel(np, a, b)), np.asarray(prim.forward(np, a, b)))


def test_relu_loop_is_bitwise_numpy(count_loops):
    x = _operands(np.random.default_rng(3), (ROWS, COLS), np.float32)
    assert_bitwise(relu_kernel(Relu.forward)(np, x), Relu.forward(np, x))
    assert count_loops == ["relu"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_loop_is_bitwise_numpy(dtype, count_loops):
    rng = np.random.default_rng(4)
    g, out = _operands(rng, (ROWS, COLS), dtype), np.maximum(_operands(rng, (ROWS, COLS), dtype), 0)
    assert_bitwise(relu_backward_kernel(ReluBackward.forward)(np, g, out), ReluBackward.forward(np, g, out))
    assert count_loops == ["relu_backward"]


@pytest.mark.parametrize("have, want", [((ROWS, COLS), (COLS,)), ((8, 128, 256), (256,)), ((ROWS, COLS), (1, COLS)),
                                        ((4, 8, 64, 32), (64, 32)), ((4, 8, 64, 32), (1, 1, 64, 32)),
                                        ((20000, 2), (2,)), ((12000, 3), (1, 3))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sums_are_bitwise_numpy(have, want, dtype, count_loops):
    """A bias's gradient: leading dims summed row after row, as numpy's reduction adds them."""
    g = _operands(np.random.default_rng(8), have, dtype)
    g.reshape(-1)[:8] = np.arange(8)  # no inf/nan: a sum over them is nan either way, which hides the order
    assert_bitwise(sum_to_size_kernel(SumToSize.forward)(np, g, want), SumToSize.forward(np, g, want))
    assert count_loops == ["column_sums"]


@pytest.mark.parametrize("have, want", [((16, 6, 28, 28), (6, 1, 1)), ((ROWS, COLS), (ROWS, 1)),
                                        ((ROWS, COLS), (ROWS, COLS)), ((4, 8, 64, 32), (8, 1, 32)),
                                        ((40000, 1), (1,))])  # one column: numpy's pairwise sum
def test_other_reductions_stay_on_numpy(have, want, monkeypatch):
    g = np.random.default_rng(9).standard_normal(have).astype(np.float32)
    _no_loops(monkeypatch)
    assert_bitwise(np.asarray(sum_to_size_kernel(SumToSize.forward)(np, g, want)), SumToSize.forward(np, g, want))


@pytest.mark.skipif(not LOADED, reason="the fast plugin is disabled here (EMBER_DISABLE_PLUGINS)")
def test_a_training_layer_through_ember_matches_the_numpy_path(count_loops):
    """Linear's bias-row grad path, relu and its backward, through ember's ops with the kernels registered."""
    rng = np.random.default_rng(5)
    x, bias, g = (rng.standard_normal(s).astype(np.float32) for s in ((ROWS, COLS), (COLS,), (ROWS, COLS)))
    xt, bt = ember.tensor(x, requires_grad=True), ember.tensor(bias, requires_grad=True)
    out = ember.relu(xt * 0.5 + bt)
    out.backward(ember.tensor(g))
    hidden = x * np.float32(0.5) + bias
    assert_bitwise(out.detach().numpy(), np.maximum(hidden, 0))
    assert_bitwise(xt.grad.numpy(), (g * (hidden > 0).astype(np.float32)) * np.float32(0.5))
    assert {"with_scalar", "with_row", "relu", "relu_backward"} <= set(count_loops)
    assert_bitwise(bt.grad.numpy(), (g * (hidden > 0).astype(np.float32)).sum(0))  # the engine's own sum


@pytest.mark.skipif(not LOADED, reason="the fast plugin is disabled here (EMBER_DISABLE_PLUGINS)")
def test_linear_bias_gradient_through_ember_takes_the_column_sums(count_loops):
    rng = np.random.default_rng(10)
    g = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    assert_bitwise(ember.tensor(g).sum_to_size(COLS).numpy(), g.sum(0))
    assert count_loops == ["column_sums"]


def test_relu_double_backward_keeps_the_composite_graph():
    """Outside the loops' reach: with create_graph the gradient stays differentiable in the incoming grad."""
    x = ember.tensor(np.linspace(-1, 1, 6, dtype=np.float32), requires_grad=True)
    g = ember.ones(6, requires_grad=True)
    (gx,) = ember.autograd.grad(ember.relu(x), x, g, create_graph=True)
    (gg,) = ember.autograd.grad(gx.sum(), g)
    np.testing.assert_array_equal(gg.numpy(), (x.detach().numpy() > 0).astype(np.float32))


def test_one_thread_leaves_all_but_relu_backward_to_numpy(monkeypatch, count_loops):
    """Beside a busy neighbour the policy gives one thread: numpy's loops are as fast there, except for the
    pass relu's backward saves."""
    monkeypatch.setattr(openmp, "threads_for", lambda size: 1)
    rng = np.random.default_rng(7)
    a, b = _operands(rng, (ROWS, COLS), np.float32), _operands(rng, (ROWS, COLS), np.float32)
    assert_bitwise(binary_kernel(FORWARDS[ADD], ADD)(np, a, b), a + b)
    assert_bitwise(relu_kernel(Relu.forward)(np, a), Relu.forward(np, a))
    assert_bitwise(relu_backward_kernel(ReluBackward.forward)(np, b, a), ReluBackward.forward(np, b, a))
    assert count_loops == ["relu_backward"]


def test_loops_use_one_thread_below_the_grain(monkeypatch):
    monkeypatch.undo()  # the policy's own threads_for
    numba = openmp.numba_for_loops()
    assert openmp.threads_for(openmp.GRAIN - 1) == 1
    assert openmp.threads_for(openmp.GRAIN) == min(ember.get_num_threads(), numba.config.NUMBA_NUM_THREADS)


def test_a_loop_runs_on_the_threads_it_is_given(count_loops):
    """The loops set numba's thread count themselves (in compiled code): the count stays set after one."""
    numba = openmp.numba_for_loops()
    x = np.ones((ROWS, COLS), np.float32)
    relu_backward_kernel(ReluBackward.forward)(np, x, x)
    assert count_loops == ["relu_backward"]
    assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_runs_loops_and_products_safely():
    """GNU OpenMP's pool does not survive a fork (numba would end the child, a two-thread product would wait
    forever): after threaded loops and products in the parent, the child's ops take numpy's path and its
    products one thread, and give the same results."""
    code = """if True:
        import os, numpy as np, ember
        from ember_fast import gemm
        from ember_fast.elementwise import binary_kernel, ADD
        ember.set_num_threads(2)
        add = binary_kernel(lambda xp, a, b: a + b, ADD)
        a = np.ones((256, 256), np.float32)
        add(np, a, a)
        gemm.matmul(a, a)
        pid = os.fork()
        if pid == 0:
            ok = np.array_equal(add(np, a, a), a + a) and gemm.matmul(a, a)[0, 0] == 256
            os._exit(0 if ok and ember.get_num_threads() == 1 else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0"]


def test_mkl_threading_layer_follows_the_environment(monkeypatch):
    calls = []

    class FakeMKL:
        def MKL_Set_Threading_Layer(self, layer):
            calls.append(layer)

    monkeypatch.setenv("MKL_THREADING_LAYER", "INTEL")
    openmp.select_mkl_threading(FakeMKL())
    assert calls == []
    monkeypatch.delenv("MKL_THREADING_LAYER")
    openmp.select_mkl_threading(FakeMKL())
    assert calls in ([openmp.MKL_THREADING_GNU], [])  # [] where no libgomp can be loaded


def test_registered_for_each_primitive_it_finds():
    for prim in elementwise.primitives():
        assert ("cpu" in prim.kernels) == LOADED, prim.name


# -- the operator fast path skips a kernel below its declared min_numel --------------------------------

def test_kernel_floor_is_the_least_declared_min_numel():
    from ember.primitive import kernel_floor

    def declared(n):
        def fn(xp, a, b):
            return a + b
        fn.min_numel = n
        return fn

    assert kernel_floor({}) == 0
    assert kernel_floor({"cpu": declared(100), "other": declared(7)}) == 7
    assert kernel_floor({"cpu": declared(100), "other": lambda xp, a, b: a + b}) == 0  # one declares none


@pytest.mark.skipif(not LOADED, reason="ember_fast is not loaded here")
def test_arithmetic_primitives_call_their_kernel_from_the_grain(monkeypatch):
    from ember.primitive import kernel_floor
    from ember_ops.arithmetic import Add
    assert Add.kernels_from_numel == openmp.GRAIN  # set when ember_fast's kernels were bound
    calls = []

    def spy(xp, a, b):
        calls.append(a.size)
        return a + b
    spy.min_numel = openmp.GRAIN
    monkeypatch.setitem(Add.kernels, "cpu", spy)
    monkeypatch.setattr(Add, "kernels_from_numel", kernel_floor(Add.kernels))
    small = ember.ones(3, requires_grad=True)
    out = small + small
    assert calls == [] and out.tolist() == [2.0, 2.0, 2.0] and type(out.grad_fn).__name__ == "AddBackward0"
    large = ember.ones(openmp.GRAIN)
    assert (large + large).sum().item() == 2 * openmp.GRAIN and calls == [openmp.GRAIN]
