"""Subcommands of the ``ember`` command line; see :mod:`ember.cli`."""
