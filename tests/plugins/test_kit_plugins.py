"""Plugin-manager behaviour beyond tests/plugins/test_manager.py, with real throw-away distributions
(a dist-info with an entry_points.txt and a module, in a temporary directory put on the path of a fresh
interpreter) and with pytest's own pytester for ember's pytest plugin: hook ordering, conflicts and
overrides of layers and optimizers, run-time registration undone, and the kit on an installed plugin."""


import pytest

import ember
from plugin_dists import make_distribution, run_ember

pytest_plugins = ("pytester",)


def ordered_plugin(tag, marker=""):
    """A plugin whose op hook logs its call into the shared module ``order_log``."""
    decorator = f"@ember.hookimpl({marker}=True)" if marker else "@ember.hookimpl"
    return f"""
        import ember
        import order_log
        from ember.ops import Op

        def shared_{tag}(x):
            return x

        {decorator}
        def ember_register_ops(registry):
            order_log.calls.append("{tag}")
            registry.register(Op(shared_{tag}, name="shared", torch=None))
    """


@pytest.fixture
def ordering_root(tmp_path):
    (tmp_path / "order_log.py").write_text("calls = []\n")
    return tmp_path


@pytest.mark.parametrize("late_marker, early_marker", [("tryfirst", ""), ("", "trylast")])
def test_hook_ordering_decides_who_registers_a_name_first(ordering_root, late_marker, early_marker):
    """tryfirst on one plugin's hook, or trylast on the other's: either way 'late' registers first,
    keeps the contested name, and 'early' fails with the conflict."""
    make_distribution(ordering_root, "early", "1.0", "early_plugin", ordered_plugin("early", early_marker))
    make_distribution(ordering_root, "late", "1.0", "late_plugin", ordered_plugin("late", late_marker))
    result = run_ember(ordering_root, """
        import order_log
        status = {i.name: i.status for i in ember.plugins.report()}
        print(",".join(order_log.calls), status["late_plugin"], status["early_plugin"])
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["late,early", "loaded", "failed"]


LAYER_PLUGIN = """
    import ember
    from ember.nn import Module

    class Gate(Module):
        '''Multiplies by {factor}.'''
        def forward(self, x):
            return x * {factor}

    @ember.hookimpl
    def ember_register_layers(registry):
        registry.register(Gate{override})
"""


def test_two_plugins_registering_one_layer_name_fail_naming_both(tmp_path):
    make_distribution(tmp_path, "gate-a", "1.0", "gate_a", LAYER_PLUGIN.format(factor=2, override=""))
    make_distribution(tmp_path, "gate-b", "1.0", "gate_b", LAYER_PLUGIN.format(factor=3, override=""))
    result = run_ember(tmp_path, "print(sorted(i.status for i in ember.plugins.report() if i.name.startswith('gate')))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['failed', 'loaded']"
    assert "layer 'Gate'" in result.stderr and "gate_a" in result.stderr and "gate_b" in result.stderr


def test_an_optimizer_override_wins_is_recorded_and_shown_by_ember_plugins(tmp_path):
    source = """
        import ember
        from ember.optim import Optimizer

        class SGD(Optimizer):
            '''A replacement SGD.'''
            sample_options = ({{"lr": 0.1}},)
            def __init__(self, params, lr=0.1):
                super().__init__(params, {{"lr": lr}})
            def step(self, closure=None):
                return "replacement"

        @ember.hookimpl
        def ember_register_optimizers(registry):
            registry.register(SGD, override={override})
    """
    make_distribution(tmp_path, "fast-sgd", "3.1", "fast_sgd", source.format(override=True))
    result = run_ember(tmp_path, """
        p = ember.zeros(1, requires_grad=True)
        print(ember.optim.SGD([p]).step())
        from ember.cli import main
        main(["plugins"])
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "replacement"
    assert any(line.startswith("override:") and "SGD" in line and "fast_sgd" in line and "optim" in line
               for line in lines)


def test_a_disabled_plugin_is_listed_as_disabled(tmp_path):
    make_distribution(tmp_path, "gate-a", "1.0", "gate_a", LAYER_PLUGIN.format(factor=2, override=""))
    result = run_ember(tmp_path, "from ember.cli import main; main(['plugins'])", EMBER_DISABLE_PLUGINS="gate_a")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("gate_a"))
    assert "gate-a" in row and "disabled (EMBER_DISABLE_PLUGINS)" in row
    assert not result.stderr.strip()  # disabling is not a failure: no warning


def test_a_broken_import_in_strict_mode_names_the_distribution(tmp_path):
    make_distribution(tmp_path, "ember-broken", "0.3", "ember_broken", "import not_installed_dependency\n")
    result = run_ember(tmp_path, "", EMBER_PLUGINS_STRICT="1")
    assert result.returncode != 0
    assert "ember-broken 0.3" in result.stderr and "not_installed_dependency" in result.stderr


WRONG_BACKWARD = """
    import ember
    from ember.ops import OpTable, Primitive, Sample, apply, check_tensor

    ops = OpTable()

    class Cube(Primitive):
        save_inputs = True
        @staticmethod
        def forward(xp, x):
            return x * x * x
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.inputs
            return grad * x * x * 2          # wrong: d(x^3)/dx is 3 x^2

    @ops.op(torch=None, expected=lambda x: x ** 3, samples=lambda make: [Sample((make(2, 3),))])
    def cube(input):
        check_tensor("cube", "input", input)
        return apply(Cube, input)

    @ember.hookimpl
    def ember_register_ops(registry):
        ops.register(registry)
"""


def test_check_plugin_on_an_installed_plugin_reports_the_wrong_gradient(tmp_path):
    make_distribution(tmp_path, "ember-cube", "0.1", "ember_cube", WRONG_BACKWARD)
    result = run_ember(tmp_path, """
        from ember.testing import check_plugin
        try:
            check_plugin("ember_cube")
        except AssertionError as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert "plugin 'ember_cube'" in report and "op 'cube'" in report
    assert "Jacobian mismatch for input 0" in report and "analytic" in report and "numerical" in report


def test_check_plugin_refuses_a_plugin_that_failed_to_load(tmp_path):
    make_distribution(tmp_path, "ember-broken", "0.3", "ember_broken", "raise RuntimeError('bad build')\n")
    result = run_ember(tmp_path, """
        from ember.testing import check_plugin
        try:
            check_plugin("ember_broken")
        except AssertionError as exc:
            print(exc)
    """)
    assert "plugin 'ember_broken' is failed" in result.stdout and "bad build" in result.stdout


# -- run-time registration through the pytest plugin's fixture -----------------------------------------

class Tripled:
    """A run-time plugin: one op."""

    @staticmethod
    @ember.hookimpl
    def ember_register_ops(registry):
        from ember.ops import Op, Sample

        def tripled(input):
            """Three times the input."""
            ember.ops.check_tensor("tripled", "input", input)
            return input * 3
        registry.register(Op(tripled, torch=None, expected=lambda x: 3 * x,
                             samples=lambda make: [Sample((make(2, 2),))]))


def test_register_plugin_fixture_binds_names_for_the_test(register_plugin):
    info = register_plugin(Tripled, name="tripled-plugin")
    assert info.registered == {"ops": ["tripled"]}
    assert ember.tripled(ember.ones(2)).tolist() == [3.0, 3.0]
    from ember.testing import check_plugin
    assert check_plugin("tripled-plugin") == {"ops": 1}


def test_register_plugin_fixture_undid_the_registration():
    assert not hasattr(ember, "tripled")
    assert "tripled-plugin" not in {i.name for i in ember.plugins.report()}


def test_unregistering_an_override_brings_the_original_back(register_plugin):
    class LoudRelu:
        @staticmethod
        @ember.hookimpl
        def ember_register_ops(registry):
            from ember.ops import Op

            def relu(input):
                return input * 0 + 42
            registry.register(Op(relu, namespaces=("ember",), torch=None), override=True)

    original = ember.relu
    register_plugin(LoudRelu, name="loud-relu")
    assert ember.relu(ember.ones(1)).item() == 42
    assert ("ops", "relu", "loud-relu", ["ops"]) in ember.plugins.overrides()
    ember.plugins.unregister("loud-relu")
    assert ember.relu is original


# -- ember's pytest plugin, run with pytester --------------------------------------------------------

def test_device_fixture_runs_a_test_once_per_available_device(pytester):
    pytester.makepyfile("""
        import ember
        def test_on(ember_device_name):
            assert str(ember.ones(1, device=ember_device_name).device) == ember_device_name
    """)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_on?cpu? PASSED*", "*test_on?ref? PASSED*"])


def test_a_projects_own_device_fixture_is_left_alone(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.fixture
        def device():
            return "my-accelerator"

        def test_mine(device):
            assert device == "my-accelerator"
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)  # once, not once per ember device


def test_ember_device_option_selects_devices(pytester):
    pytester.makepyfile("def test_on(ember_device_name):\n    assert ember_device_name == 'ref:0'\n")
    pytester.runpytest("--ember-device=ref", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_unknown_ember_device_is_a_usage_error(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--ember-device=tpu", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown device(s) ['tpu']" in str(result.stderr)


def test_device_marker_skips_with_a_reason_where_the_device_is_absent(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.ember_device("cuda")
        def test_needs_cuda(ember_device_name):
            pass

        @pytest.mark.ember_device("ref")
        def test_needs_ref(ember_device_name):
            assert ember_device_name == "ref:0"

        @pytest.mark.ember_device("cuda")
        def test_needs_cuda_without_fixture():
            pass
    """)
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    if ember.testing.devices.is_available("cuda"):
        pytest.skip("this machine has CUDA: nothing is skipped")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*needs ember device 'cuda', which is not available here*"])


def test_without_the_reference_device_only_the_cpu_is_used(pytester):
    pytester.makepyfile("def test_on(ember_device_name):\n    assert ember_device_name == 'cpu'\n")
    result = pytester.runpytest("--ember-no-reference-device", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert ember.testing.devices.is_available("ref")  # the outer session's device is left alone


HALVED_CONFTEST = """
    import ember
    from ember.ops import Op, Sample, check_tensor

    def halved(input):
        '''input / 2, wrong by 1e-2 in float32 only.'''
        check_tensor("halved", "input", input)
        out = input / 2
        return out + 1e-2 if input.dtype is ember.float32 else out

    class Plugin:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(Op(halved, torch=None, expected=lambda x: x / 2,
                                 samples=lambda make: [Sample((make(3),), name="vector"),
                                                       Sample((make(2, 2),), name="matrix")]))

    def pytest_configure(config):
        ember.plugins.register(Plugin(), name="halved-plugin")

    def pytest_unconfigure(config):
        ember.plugins.unregister("halved-plugin")
"""


def test_the_kit_marker_makes_one_item_per_op_device_and_dtype(pytester):
    pytester.makeconftest(HALVED_CONFTEST)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.ember_kit("ops", plugin="halved-plugin")
        def test_op(ember_case):
            ember_case.check()
    """)
    result = pytester.runpytest("-v", "--ember-device=cpu", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)  # the broken float32 path does not hide the float64 one
    result.stdout.fnmatch_lines(["*test_op?halved-cpu-float32? FAILED*", "*test_op?halved-cpu-float64? PASSED*"])
    result.stdout.fnmatch_lines(["*op 'halved': 2 of 2 cases failed*", "*sample Sample(vector)*",
                                 "*sample Sample(matrix)*"])


def test_the_kit_marker_needs_a_kind(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.ember_kit("gadgets")
        def test_thing(ember_case):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != pytest.ExitCode.OK
    assert "kind must be one of ('ops', 'layers', 'optimizers')" in str(result.stdout) + str(result.stderr)
