"""Plugins that declare ``ember_families``: modules imported on first use of one of their names, from a
name manifest cached per installed version (each test in fresh interpreters with its own cache)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

PACKAGE_INIT = """
import ember

FAMILIES = ("ember_tripled.scaling",)


def register_family(family, registry):
    family.ops.register(registry)


ember_families = (ember.plugins.Families("ops", FAMILIES, register_family),)
"""

SCALING = """
from ember.ops import OpTable, Sample
{extra_import}
ops = OpTable()


@ops.op(namespaces=("ember", "Tensor"), torch=None, expected=lambda x: 3 * x,
        samples=lambda make: [Sample((make(3),))])
def tripled(input):
    '''Three times the input.'''
    return input * 3
{extra_op}
"""

QUADRUPLED = """

@ops.op(namespaces=("ember",), torch=None, expected=lambda x: 4 * x, samples=lambda make: [Sample((make(3),))])
def quadrupled(input):
    '''Four times the input.'''
    return input * 4
"""


def make_package(root, extra_import="", extra_op=""):
    """An installed distribution ``ember-tripled`` whose package ``ember_tripled`` declares one family."""
    package = root / "ember_tripled"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(textwrap.dedent(PACKAGE_INIT))
    (package / "scaling.py").write_text(textwrap.dedent(SCALING.format(extra_import=extra_import, extra_op=extra_op)))
    info = root / "ember_tripled-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ember-tripled\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ember.plugins]\ntripled = ember_tripled\n")


def run(root, code, *, before=(), **env):
    """``import ember``, then ``code``, in a fresh interpreter seeing the directories ``before`` then
    ``root`` (in that order on ``sys.path``), with a cache of its own."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    environment["PYTHONPATH"] = os.pathsep.join([*map(str, before), str(root), environment.get("PYTHONPATH", "")])
    environment["EMBER_CACHE_DIR"] = str(root / "cache")
    environment.update(env)
    result = subprocess.run([sys.executable, "-W", "always", "-c", "import ember, sys, json\n" + textwrap.dedent(code)],
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


IMPORTED = "print('ember_tripled.scaling' in sys.modules)\n"


def test_the_first_import_loads_the_modules_and_writes_the_manifest(tmp_path):
    make_package(tmp_path)
    assert run(tmp_path, IMPORTED + "print(ember.tripled(ember.ones(2)).tolist())") == ["True", "[3.0, 3.0]"]
    assert len([p for p in (tmp_path / "cache").iterdir() if p.name.startswith("plugin-tripled-")]) == 1


def test_with_a_manifest_a_module_is_imported_on_first_use_only(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    out = run(tmp_path, IMPORTED + textwrap.dedent("""
        info = [i for i in ember.plugins.report() if i.name == "tripled"][0]
        print(json.dumps([info.status, info.registered]))
        print("tripled" in dir(ember))
    """) + IMPORTED + "print(ember.tripled(ember.ones(2)).tolist())\n" + IMPORTED)
    assert out == ["False", '["loaded", {"ops": ["tripled"]}]', "True", "False", "[3.0, 3.0]", "True"]


def test_a_tensor_method_and_a_from_import_reach_a_module_not_imported_yet(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    assert run(tmp_path, "print(ember.ones(2).tripled().tolist())") == ["[3.0, 3.0]"]
    assert run(tmp_path, "from ember import tripled\nprint(tripled(ember.ones(1)).tolist())") == ["[3.0]"]
    assert run(tmp_path, "print(ember.plugins.registries['ops']['tripled'].name)") == ["tripled"]


def test_after_first_use_the_bound_name_is_the_op_itself(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    out = run(tmp_path, """
        stub = ember.Tensor.tripled
        ember.ones(1).tripled()
        op = ember.plugins.registries["ops"]["tripled"]
        print(stub is op.fn, ember.Tensor.tripled is op.fn, vars(ember)["tripled"] is op.function("ember"))
    """)
    assert out == ["False True True"]


def test_an_edited_module_is_loaded_whole_again_and_its_new_names_appear(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    make_package(tmp_path, extra_op=QUADRUPLED)
    assert run(tmp_path, IMPORTED + "print(ember.quadrupled(ember.ones(1)).tolist())") == ["True", "[4.0]"]
    assert run(tmp_path, IMPORTED + "print(ember.quadrupled(ember.ones(1)).tolist())") == ["False", "[4.0]"]


def test_a_module_that_breaks_after_the_manifest_fails_loudly_at_first_use_naming_the_plugin(tmp_path):
    (tmp_path / "tripled_helper.py").write_text("FACTOR = 3\n")
    make_package(tmp_path, extra_import="import tripled_helper")
    run(tmp_path, "")
    (tmp_path / "tripled_helper.py").unlink()
    out = run(tmp_path, """
        try:
            ember.tripled
        except ember.plugins.PluginError as exc:
            print(type(exc).__name__, "'tripled'" in str(exc), "tripled_helper" in str(exc))
        print([i.status for i in ember.plugins.report() if i.name == "tripled"])
        print(ember.relu(ember.tensor([-1.0, 2.0])).tolist())
    """)
    assert out == ["PluginError True True", "['failed']", "[0.0, 2.0]"]


def test_strict_mode_and_lazy_loading_off_import_every_module_at_import(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    assert run(tmp_path, IMPORTED, EMBER_PLUGINS_STRICT="1") == ["True"]
    assert run(tmp_path, IMPORTED, EMBER_LAZY_PLUGINS="0") == ["True"]


def test_a_third_party_name_clashing_with_a_lazy_one_is_an_error_naming_both(tmp_path):
    make_package(tmp_path)
    run(tmp_path, "")
    # first on sys.path, so loaded first, so its hook runs after the placeholders are in (pluggy calls the
    # last registered plugin first): registering the name meets a placeholder
    later = tmp_path / "first"
    later.mkdir()
    (later / "clash.py").write_text(textwrap.dedent("""
        import ember
        from ember.ops import Op

        def tripled(input):
            '''Not three times.'''
            return input

        @ember.hookimpl
        def ember_register_ops(registry):
            registry.register(Op(tripled, namespaces=("ember",), torch=None))
    """))
    info = later / "clash-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clash\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ember.plugins]\nclash = clash\n")
    out = run(tmp_path, """
        statuses = {i.name: (i.status, i.error) for i in ember.plugins.report()}
        print(statuses["tripled"][0], statuses["clash"][0])
        print(statuses["clash"][1])
        print(ember.tripled(ember.ones(1)).tolist())
    """, before=[later])
    assert out[0] == "loaded failed" and out[2] == "[3.0]"
    assert "'tripled' is registered by both plugin 'tripled' and plugin 'clash'" in out[1]


@pytest.mark.parametrize("disabled", ["fast", ""], ids=["numpy path", "with ember[fast] if installed"])
def test_the_builtin_op_layer_and_optimizer_modules_wait_for_first_use(tmp_path, disabled):
    code = """
        print(sorted(m for m in sys.modules if m.startswith(("ember_ops.", "ember_nn.", "ember_optim."))))
        x = ember.ones(2, 3)
        print(ember.nn.Linear(3, 1)(x).shape == (2, 1), (x + x).sum().item())
    """
    run(tmp_path, code, EMBER_DISABLE_PLUGINS=disabled)
    out = run(tmp_path, code, EMBER_DISABLE_PLUGINS=disabled)
    assert out == ["[]", "True 12.0"]


def test_every_builtin_name_is_listed_before_any_module_is_imported(tmp_path):
    code = """
        print(json.dumps({i.name: i.registered for i in ember.plugins.report() if i.name in ("ops", "nn", "optim")}))
    """
    run(tmp_path, code)
    lazy = json.loads(run(tmp_path, code)[0])
    whole = json.loads(run(tmp_path, code, EMBER_LAZY_PLUGINS="0")[0])
    assert lazy == whole and len(lazy["ops"]["ops"]) > 300 and "Linear" in lazy["nn"]["layers"]


def test_without_a_cache_directory_every_module_is_imported_at_import(tmp_path):
    make_package(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME")}
    code = "import pwd\ndef getpwuid(uid):\n    raise KeyError(uid)\npwd.getpwuid = getpwuid\n"  # no passwd entry
    out = subprocess.run([sys.executable, "-c", code + "import ember, sys\n" + IMPORTED
                          + "print(ember.tripled(ember.ones(1)).tolist())"],
                         capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in env.items() if not k.startswith("EMBER_")},
                              "PYTHONPATH": os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "[3.0]"] and not (tmp_path / "~").exists()
