"""Helpers the tests import (``from support.servers import seed_keys``); the fixtures that
use them are in tests/conftest.py.

* ``servers``: free ports, moto's control API and backend, real S3 and GCS clients, the
  IAM server's users. ``fault_proxy``: the fault-injecting HTTP proxy. ``canned_http``: a
  loopback server with canned replies.
* ``keyrings``: keyring backends (in-memory, locked, shared folder) and child-process
  environments. ``stores``: seeded stores and real files for du, delete and previews.
* ``cli``: run ``pail`` in-process or as the installed executable; ``pty``: on a
  pseudo-terminal. ``ui``: drive the app with Textual's Pilot.
"""
