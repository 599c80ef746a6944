"""The plugin manager with real throw-away distributions: each test writes a dist-info with an
entry_points.txt and a module into a temporary directory, then imports ember in a fresh interpreter
with that directory on its path (plugins load at import)."""

import json

import pytest

import ember
from plugin_dists import make_distribution, run_ember

OP_PLUGIN = """
import ember
from ember.ops import Op, Sample

def {op}(input):
    '''Twice the input.'''
    return input * {factor}

@ember.hookimpl
def ember_register_ops(registry):
    registry.register(Op({op}, namespaces=("ember", "Tensor"), torch=None,
                         samples=lambda make: [Sample((make(3),))]){override})
"""


def op_plugin(op="doubled", factor=2, override=False):
    return OP_PLUGIN.format(op=op, factor=factor, override=", override=True" if override else "")


def test_a_third_party_op_is_bound_everywhere_and_reported(tmp_path):
    make_distribution(tmp_path, "ember-doubled", "1.2.3", "ember_doubled", op_plugin())
    result = run_ember(tmp_path, """
        import json
        x = ember.tensor([1.0, 2.0])
        print(ember.doubled(x).tolist(), x.doubled().tolist())
        info = [i for i in ember.plugins.report() if i.name == "ember_doubled"][0]
        print(json.dumps([info.distribution, info.version, info.status, info.registered]))
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[2.0, 4.0] [2.0, 4.0]"
    assert json.loads(lines[1]) == ["ember-doubled", "1.2.3", "loaded", {"ops": ["doubled"]}]


def test_ember_plugins_command_lists_distribution_and_version(tmp_path):
    make_distribution(tmp_path, "ember-doubled", "1.2.3", "ember_doubled", op_plugin())
    result = run_ember(tmp_path, "from ember.cli import main; main(['plugins'])")
    assert result.returncode == 0, result.stderr
    row = [line for line in result.stdout.splitlines() if line.startswith("ember_doubled")][0]
    assert "ember-doubled" in row and "1.2.3" in row and "loaded" in row and "doubled" in row


def test_two_plugins_registering_one_name_is_an_error_naming_both(tmp_path):
    make_distribution(tmp_path, "first", "1.0", "first_plugin", op_plugin())
    make_distribution(tmp_path, "second", "1.0", "second_plugin", op_plugin(factor=3))
    result = run_ember(tmp_path, """
        statuses = {i.name: (i.status, i.error) for i in ember.plugins.report()}
        print(statuses["first_plugin"][0], statuses["second_plugin"][0])
        print(ember.doubled(ember.ones(1)).item())
    """)
    assert result.returncode == 0, result.stderr
    assert "first_plugin" in result.stderr and "second_plugin" in result.stderr and "doubled" in result.stderr
    statuses, value = result.stdout.splitlines()
    assert sorted(statuses.split()) == ["failed", "loaded"]
    assert value in ("2.0", "3.0")

    strict = run_ember(tmp_path, "", EMBER_PLUGINS_STRICT="1")
    assert strict.returncode != 0
    assert "PluginError" in strict.stderr and "first_plugin" in strict.stderr and "second_plugin" in strict.stderr


def test_an_explicit_override_wins_and_is_recorded(tmp_path):
    make_distribution(tmp_path, "base", "1.0", "base_plugin", op_plugin())
    make_distribution(tmp_path, "better", "2.0", "better_plugin", op_plugin(factor=5, override=True))
    result = run_ember(tmp_path, """
        print(ember.doubled(ember.ones(1)).item())
        print(ember.plugins.overrides())
    """)
    assert result.returncode == 0, result.stderr
    value, overrides = result.stdout.splitlines()
    assert value == "5.0"
    assert overrides == "[('ops', 'doubled', 'better_plugin', ['base_plugin'])]"


def test_a_plugin_that_fails_to_import_is_skipped_with_a_warning(tmp_path):
    make_distribution(tmp_path, "broken", "0.1", "broken_plugin", "raise ImportError('needs libfoo')\n")
    result = run_ember(tmp_path, """
        info = [i for i in ember.plugins.report() if i.name == "broken_plugin"][0]
        print(info.status, '|', info.error)
        print(ember.relu(ember.tensor([-1.0, 1.0])).tolist())
    """)
    assert result.returncode == 0, result.stderr
    assert "broken_plugin" in result.stderr and "needs libfoo" in result.stderr
    status, works = result.stdout.splitlines()
    assert status.startswith("failed") and "ImportError: needs libfoo" in status
    assert works == "[0.0, 1.0]"
    strict = run_ember(tmp_path, "", EMBER_PLUGINS_STRICT="1")
    assert strict.returncode != 0 and "needs libfoo" in strict.stderr


def test_a_plugin_whose_hook_raises_is_rolled_back_whole(tmp_path):
    make_distribution(tmp_path, "half", "0.1", "half_plugin", """
        import ember
        from ember.ops import Op

        def halfway(x):
            return x

        @ember.hookimpl
        def ember_register_ops(registry):
            registry.register(Op(halfway, torch=None))
            raise RuntimeError("second registration failed")
    """)
    result = run_ember(tmp_path, "print(hasattr(ember, 'halfway'), 'halfway' in ember.plugins.registries['ops'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"
    assert "second registration failed" in result.stderr


def test_autoload_disabled_loads_only_the_builtins(tmp_path):
    make_distribution(tmp_path, "ember-doubled", "1.0", "ember_doubled", op_plugin())
    result = run_ember(tmp_path, """
        info = {i.name: i.status for i in ember.plugins.report()}
        print(info["ember_doubled"], hasattr(ember, "doubled"), info["ops"])
    """, EMBER_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "disabled (EMBER_DISABLE_PLUGIN_AUTOLOAD) False loaded"


def test_plugins_disabled_by_name_are_skipped(tmp_path):
    make_distribution(tmp_path, "one", "1.0", "one_plugin", op_plugin("one_op"))
    make_distribution(tmp_path, "two", "1.0", "two_plugin", op_plugin("two_op"))
    result = run_ember(tmp_path, "print(hasattr(ember, 'one_op'), hasattr(ember, 'two_op'))",
                       EMBER_DISABLE_PLUGINS="one_plugin, other")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True"


def test_a_misspelled_hook_is_rejected_naming_plugin_and_hook(tmp_path):
    make_distribution(tmp_path, "typo", "1.0", "typo_plugin", """
        import ember

        @ember.hookimpl
        def ember_register_opps(registry):
            pass
    """)
    result = run_ember(tmp_path, "print([i.status for i in ember.plugins.report() if i.name == 'typo_plugin'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['failed']"
    assert "typo_plugin" in result.stderr and "ember_register_opps" in result.stderr


def test_a_hook_with_arguments_the_spec_lacks_is_rejected(tmp_path):
    make_distribution(tmp_path, "extra", "1.0", "extra_plugin", """
        import ember

        @ember.hookimpl
        def ember_register_ops(registry, config):
            pass
    """)
    result = run_ember(tmp_path, "print([i.error for i in ember.plugins.report() if i.name == 'extra_plugin'][0])")
    assert result.returncode == 0, result.stderr
    assert "extra_plugin" in result.stdout and "ember_register_ops" in result.stdout and "config" in result.stdout


def test_a_plugin_cannot_replace_a_core_name(tmp_path):
    make_distribution(tmp_path, "clash", "1.0", "clash_plugin", op_plugin("zeros"))
    result = run_ember(tmp_path, """
        print(ember.zeros(2).tolist())
        print([i.error for i in ember.plugins.report() if i.name == 'clash_plugin'][0])
    """)
    assert result.returncode == 0, result.stderr
    zeros, error = result.stdout.splitlines()
    assert zeros == "[0.0, 0.0]" and "clash_plugin" in error and "zeros" in error


class RuntimePlugin:
    """A plugin object registered at run time (no distribution)."""

    @ember.hookimpl
    def ember_register_ops(self, registry):
        from ember.ops import Op, Sample

        def tripled(input):
            return input * 3
        registry.register(Op(tripled, torch=None, samples=lambda make: [Sample((make(2),))]))


def test_runtime_register_and_unregister():
    info = ember.plugins.register(RuntimePlugin(), name="runtime_tripled")
    try:
        assert info.registered == {"ops": ["tripled"]}
        assert ember.tripled(ember.ones(2)).tolist() == [3.0, 3.0]
        assert ember.ones(1).tripled().item() == 3.0
        with pytest.raises(ember.plugins.PluginError, match="already registered"):
            ember.plugins.register(RuntimePlugin(), name="runtime_tripled")
    finally:
        ember.plugins.unregister("runtime_tripled")
    assert not hasattr(ember, "tripled") and not hasattr(ember.Tensor, "tripled")


def test_runtime_conflict_raises_naming_both_and_leaves_nothing_behind():
    class Clash:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            from ember.ops import Op
            registry.register(Op(lambda input: input, name="relu", torch=None))

    with pytest.raises(ember.plugins.PluginError, match=r"'relu' is registered by both plugin 'ops' and plugin 'clash'"):
        ember.plugins.register(Clash(), name="clash")
    assert "clash" not in [i.name for i in ember.plugins.report()]
    assert ember.relu(ember.tensor([-1.0])).item() == 0.0


def test_calling_an_op_touches_neither_pluggy_nor_the_registries(monkeypatch):
    class Tripwire:
        def __getattr__(self, name):
            raise AssertionError(f"plugin machinery used on the hot path: {name}")

    x = ember.ones(3, requires_grad=True)
    monkeypatch.setattr(ember.plugins.manager, "hook", Tripwire())
    monkeypatch.setattr(ember.plugins, "registries", Tripwire())
    y = ember.relu(x * 2 + 1).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


# -- plugins that misbehave must not take the others down ------------------------------------------

def test_a_plugin_that_patches_tensor_at_import_is_skipped_and_the_builtins_stay(tmp_path):
    make_distribution(tmp_path, "ember-patcher", "0.3", "ember_patcher", """
        import ember
        ember.Tensor.relu = lambda self: "patched"
        ember.zeros = None
    """)
    result = run_ember(tmp_path, """
        print(ember.tensor([-1.0, 2.0]).relu().tolist(), ember.zeros(1).tolist())
        statuses = {i.name: i.status for i in ember.plugins.report()}
        print(statuses["ember_patcher"], statuses["ops"])
    """)
    assert result.returncode == 0, result.stderr
    values, statuses = result.stdout.splitlines()
    assert values == "[0.0, 2.0] [0.0]"
    assert statuses == "failed loaded"
    warning = [line for line in result.stderr.splitlines() if "PluginWarning" in line]
    assert len(warning) == 1, result.stderr
    assert "ember_patcher" in warning[0] and "ember.Tensor.relu" in warning[0] and "ember.zeros" in warning[0]
    assert "'ops'" not in result.stderr


def test_a_hook_that_patches_a_namespace_is_rolled_back_naming_the_plugin(tmp_path):
    make_distribution(tmp_path, "sneaky", "1.0", "sneaky_plugin", """
        import ember
        from ember.ops import Op

        def sneaky(x):
            return x

        @ember.hookimpl
        def ember_register_ops(registry):
            registry.register(Op(sneaky, torch=None))
            ember.nn.functional.relu = sneaky
    """)
    result = run_ember(tmp_path, """
        print(ember.nn.functional.relu(ember.tensor([-1.0])).item(), hasattr(ember, "sneaky"))
        print([i.error for i in ember.plugins.report() if i.name == "sneaky_plugin"][0])
    """)
    assert result.returncode == 0, result.stderr
    value, error = result.stdout.splitlines()
    assert value == "0.0 False"
    assert "ember_register_ops" in error and "ember.nn.functional.relu" in error


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt()", "GeneratorExit()"])
def test_a_plugin_raising_a_base_exception_at_import_is_a_broken_plugin(tmp_path, raised):
    make_distribution(tmp_path, "quitter", "0.1", "quitter_plugin", f"raise {raised}\n")
    result = run_ember(tmp_path, """
        info = [i for i in ember.plugins.report() if i.name == "quitter_plugin"][0]
        print(info.status, "|", info.error)
        print(ember.relu(ember.tensor([-1.0])).item())
    """)
    assert result.returncode == 0, result.stderr
    status, works = result.stdout.splitlines()
    assert status.startswith("failed | import failed: " + raised.split("(")[0])
    assert works == "0.0"
    assert "quitter_plugin" in result.stderr
    strict = run_ember(tmp_path, "", EMBER_PLUGINS_STRICT="1")
    assert strict.returncode == 1 and "PluginError" in strict.stderr and "quitter_plugin" in strict.stderr


def test_a_real_ctrl_c_while_a_plugin_loads_still_interrupts_import(tmp_path):
    make_distribution(tmp_path, "slow", "0.1", "slow_plugin", """
        import os, signal, time
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    """)
    result = run_ember(tmp_path, "print('imported')")
    assert result.returncode != 0 and "imported" not in result.stdout
    assert "KeyboardInterrupt" in result.stderr


def test_a_hook_function_without_hookimpl_is_reported_naming_plugin_and_function(tmp_path):
    make_distribution(tmp_path, "unmarked", "0.1", "unmarked_plugin", """
        def ember_register_ops(registry):
            raise AssertionError("never called")
    """)
    result = run_ember(tmp_path, "from ember.cli import main; main(['plugins'])")
    assert result.returncode == 0, result.stderr
    assert "unmarked_plugin" in result.stderr and "ember_register_ops" in result.stderr
    assert "hookimpl" in result.stderr
    row = [line for line in result.stdout.splitlines() if line.startswith("unmarked_plugin")][0]
    assert "ember_register_ops" in row and "hookimpl" in row
    strict = run_ember(tmp_path, "", EMBER_PLUGINS_STRICT="1")
    assert strict.returncode == 1 and "PluginError" in strict.stderr and "ember_register_ops" in strict.stderr


def test_runtime_register_of_an_unmarked_hook_raises():
    class Unmarked:
        def ember_register_layers(self, registry):
            raise AssertionError("never called")

    with pytest.raises(ember.plugins.PluginError, match=r"ember_register_layers.*@ember.hookimpl"):
        ember.plugins.register(Unmarked(), name="unmarked_runtime")
    assert "unmarked_runtime" not in [i.name for i in ember.plugins.report()]


def test_threads_registering_plugins_at_once_each_get_their_op():
    import threading

    def plugin(i):
        class Numbered:
            @ember.hookimpl
            def ember_register_ops(self, registry):
                from ember.ops import Op

                def numbered(input):
                    return input + i
                registry.register(Op(numbered, name=f"numbered_{i}", torch=None))
        return Numbered()

    start = threading.Barrier(4)
    errors = []

    def register(i):
        start.wait(10)
        try:
            ember.plugins.register(plugin(i), name=f"numbered_{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert not errors
        assert [getattr(ember, f"numbered_{i}")(ember.zeros(1)).item() for i in range(4)] == [0.0, 1.0, 2.0, 3.0]
    finally:
        for i in range(4):
            if f"numbered_{i}" in [p.name for p in ember.plugins.report()]:
                ember.plugins.unregister(f"numbered_{i}")
    assert not hasattr(ember, "numbered_0")
