"""docs/plugins.md is executable: its Python blocks run, in order, in one namespace."""

import re
from pathlib import Path

import ember

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_guide_has_python_blocks():
    assert len(python_blocks(DOC.read_text())) >= 6


def test_every_python_block_of_the_plugin_guide_runs(capsys):
    namespace = {"__name__": "plugins_guide"}
    try:
        for number, block in enumerate(python_blocks(DOC.read_text()), 1):
            try:
                exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{DOC.name}, Python block {number} failed: {type(exc).__name__}: {exc}\n"
                                     f"{block}") from exc
    finally:
        if "softsign" in {i.name for i in ember.plugins.report()}:
            ember.plugins.unregister("softsign")
    printed = capsys.readouterr().out
    assert ("{'devices': ['mirror'], 'kernels': ['soft_sign@mirror'], 'ops': ['my_softsign', 'my_logcosh'], "
            "'layers': ['ScaledSoftSign'], 'optimizers': ['SignSGD']}") in printed
    assert "greatest absolute difference" in printed
