"""numba, imported the one way ember_fast imports it."""

from __future__ import annotations

import os


def import_numba():
    """The numba module, with its colour error highlighting off: numba's colorama otherwise writes a
    terminal reset (``ESC[0m``) into the user's stdout at exit wherever stdout looks like a terminal (ranks
    under ``mpirun`` get a pty), which broke ``mpirun ... ember train --json`` output."""
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
    import numba
    return numba
