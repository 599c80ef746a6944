"""The ``ember`` command: one subcommand per module in ``ember.commands``.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``. Errors a user can fix
(bad options, missing files) are :class:`UsageError`: one line on stderr, exit status 2, no
traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("train", "evaluate", "predict", "embed", "classify", "plugins")  # modules of ember.commands, in the order --help lists them


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ember", description="ember: PyTorch's interface, plugins for everything.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"ember.commands.{name}")
        command = module.add_parser(sub)
        # also after the command (`ember train --debug`); SUPPRESS keeps a --debug given before it
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show full tracebacks on errors")
        command.set_defaults(run=module.run)
    return parser


def _version() -> str:
    import ember
    return f"ember {ember.__version__}"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except (UsageError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError, ValueError,
            KeyError) as exc:  # ember.serialization.CheckpointError is a ValueError
        if args.debug:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ember {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    # `python -m ember.cli`: run the imported module's main, so that commands raising
    # ember.cli.UsageError are caught (this file's copy under __main__ has another class).
    from ember.cli import main as _main
    sys.exit(_main())
