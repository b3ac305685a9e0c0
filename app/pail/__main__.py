"""``python -m pail``: the same as the ``pail`` command (see :mod:`pail.cli.main`)."""

from pail.cli.main import main

if __name__ == "__main__":
    main()
