"""Deletes shared by the app's review screen and ``pail rm``: stale filters
(:mod:`~pail.services.delete.filters`), the plan (:mod:`~pail.services.delete.plan`), the
engine (:mod:`~pail.services.delete.engine`) and the check afterwards
(:mod:`~pail.services.delete.verify`).
"""
