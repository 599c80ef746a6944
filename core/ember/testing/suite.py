"""Which registered names ember's own test suite checks: those of ember's built-in plugins.

A third-party plugin a user installed is checked by its own tests (``check_plugin("name")``); letting
it into ember's suite would change ember's test counts, and its failures would read as ember's. Ask
for it with ``--ember-all-plugins`` or ``EMBER_TEST_ALL_PLUGINS=1``.
"""

from __future__ import annotations

import os

__all__ = ["suite_names", "include_third_party"]

EMBER_DISTRIBUTION = "ember"
include_third_party = False  # set for a session by the pytest plugin's --ember-all-plugins


def _wanted_owners() -> set[str] | None:
    """Plugin names whose registrations the suite checks; None for every plugin."""
    from ..plugins import report
    if include_third_party or os.environ.get("EMBER_TEST_ALL_PLUGINS") == "1":
        return None
    return {info.name for info in report() if info.distribution == EMBER_DISTRIBUTION}


def suite_names(kind: str) -> list[str]:
    """Sorted names in registry ``kind`` (``"ops"``, ``"layers"``, ``"optimizers"``, ``"devices"``)
    registered by ember's own plugins, or by every plugin when third parties are included."""
    from ..plugins import registries
    owners = _wanted_owners()
    entries = registries[kind].entries
    return sorted(name for name, entry in entries.items() if owners is None or entry.owner in owners)
