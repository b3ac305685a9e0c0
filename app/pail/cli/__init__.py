"""The ``pail`` command line: :mod:`pail.cli.main` holds the click group and registers one
module per command; :mod:`pail.cli.output` the row, size and printable-text helpers.

Importing this package imports nothing else (``pail --version`` and ``pail ls`` stay fast).
"""
