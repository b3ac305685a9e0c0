"""The ``pail`` command line: :mod:`pail.cli.main` is the entry point (usage, exit codes,
``pail --version`` without click), :mod:`pail.cli.group` the click group, which registers one
module per command when it is named; :mod:`pail.cli.output` the row, size and printable-text
helpers.

Importing this package imports nothing else (``pail --version`` and ``pail ls`` stay fast).
"""
