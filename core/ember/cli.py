"""The ``ember`` command."""

import sys


def main(argv=None) -> int:
    print("ember: commands coming", file=sys.stderr)
    return 0
