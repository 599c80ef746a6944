"""``ember plugins``: a readable table by default, JSON with --json, overrides and failures shown."""

import json
import subprocess
import sys

import ember
from ember.cli import main


def run_cli(capsys, *args):
    assert main(["plugins", *args]) == 0
    return capsys.readouterr().out


def test_table_has_a_header_and_one_row_per_plugin(capsys):
    lines = run_cli(capsys).splitlines()
    assert lines[0].split() == ["plugin", "distribution", "version", "status", "registered"]
    names = {info.name for info in ember.plugins.report()}
    rows = {line.split()[0] for line in lines[1:] if line and not line.startswith((" ", "override:"))}
    assert names <= rows


def test_table_row_shows_distribution_version_status_and_names(capsys):
    row = next(line for line in run_cli(capsys).splitlines() if line.startswith("cpu "))
    assert row.split()[:4] == ["cpu", "ember", ember.__version__, "loaded"]
    assert "devices: cpu" in row


def test_json_lists_every_plugin_with_what_it_registered(capsys):
    data = json.loads(run_cli(capsys, "--json"))
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["cpu"]["registered"] == {"devices": ["cpu"]}
    assert by_name["ops"]["distribution"] == "ember" and by_name["ops"]["status"] == "loaded"
    assert "relu" in by_name["ops"]["registered"]["ops"]
    assert set(by_name["ops"]) == {"name", "distribution", "version", "source", "status", "error", "registered"}
    assert data["overrides"] == [{"kind": k, "name": n, "winner": w, "replaced": r}
                                 for k, n, w, r in ember.plugins.overrides()]


def test_a_runtime_override_is_shown_in_table_and_json(capsys, register_plugin):
    class Relu:
        @staticmethod
        @ember.hookimpl
        def ember_register_ops(registry):
            from ember.ops import Op

            def relu(input):
                return input
            registry.register(Op(relu, namespaces=("ember",), torch=None), override=True)

    register_plugin(Relu, name="my-relu")
    table = run_cli(capsys)
    assert "override: ops 'relu' from plugin 'my-relu' replaces 'ops'" in table
    row = next(line for line in table.splitlines() if line.startswith("my-relu"))
    assert "runtime" in row and "ops: relu" in row
    data = json.loads(run_cli(capsys, "--json"))
    assert {"kind": "ops", "name": "relu", "winner": "my-relu", "replaced": ["ops"]} in data["overrides"]


def test_ops_listing_says_how_each_op_is_checked(capsys):
    data = json.loads(run_cli(capsys, "--ops", "--json"))
    relu = next(r for r in data if r["op"] == "relu")
    assert relu["plugin"] == "ops" and relu["samples"] > 0 and relu["gradcheck"] is True


def test_the_installed_command_runs():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "plugins", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {p["name"] for p in json.loads(result.stdout)["plugins"]} >= {"cpu", "ops", "nn", "optim"}
