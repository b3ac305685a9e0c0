"""``python -m pail``: the same as the ``pail`` command (see :mod:`pail.cli`)."""

from pail.cli import main

if __name__ == "__main__":
    main()
