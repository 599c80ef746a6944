"""numba, imported the way ember_fast's loops need it.

Numba formats its internal typing errors with colorama when colorama is installed; that initialises
colorama, whose exit handler then writes an ANSI reset (``ESC[0m``) to stdout, after a program's own output
(seen as a corrupt ``ember train --json`` under mpirun). Highlighting is turned off before the import, unless
the user set it.
"""

from __future__ import annotations

import os


def import_numba():
    """The numba module, with error-message highlighting off (see above)."""
    os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")
    import numba
    return numba
