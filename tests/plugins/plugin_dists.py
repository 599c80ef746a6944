"""Throw-away installed distributions for plugin-manager tests: a module and a dist-info naming it in
the ``ember.plugins`` entry-point group, in a temporary directory put on a fresh interpreter's path."""

import os
import subprocess
import sys
import textwrap


def make_distribution(root, dist, version, module, source, entry_name=None):
    """An installed distribution in ``root``: ``module.py`` and a dist-info naming it as an ember plugin.

    The dist-info directory uses the normalised name, as wheels do: ``ember-x-1.0.dist-info`` would parse
    as distribution "ember" and shadow the real one.
    """
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[ember.plugins]\n{entry_name or module} = {module}\n")


def run_ember(root, code, **env):
    """``import ember`` then ``code``, in a fresh interpreter that sees the distributions in ``root``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    environment["PYTHONPATH"] = os.pathsep.join([str(root), environment.get("PYTHONPATH", "")])
    environment.update(env)
    return subprocess.run([sys.executable, "-W", "always", "-c", "import ember\n" + textwrap.dedent(code)],
                          capture_output=True, text=True, env=environment, timeout=120)
