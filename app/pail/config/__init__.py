"""The connections file and the other sources of connection settings.

* :mod:`pail.config.file`: the file's format, read and checked (``${env.X:=default}``).
* :mod:`pail.config.write`: one connection added, updated or removed in place, atomically.
* :mod:`pail.config.store`: :class:`~pail.config.store.ConnectionStore` (locked
  read-modify-write) and saved names as targets (``NAME:bucket/prefix``).
* :mod:`pail.config.env`: connections from the environment; the config file's path.
* :mod:`pail.config.flags`: the connection flags every command accepts.

Callers import each name from the module that holds it; nothing is re-exported here.
"""
