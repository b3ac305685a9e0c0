"""Inventory reports: browse, size, search and clean a bucket of any size from the store's
own daily listing (S3 Inventory, GCS Storage Insights), queried in-process with DuckDB.

Modules: ``model`` (reports and query results), ``manifest`` (reading and verifying
manifests), ``locate`` (finding a bucket's newest complete report), ``fetch`` (verified,
cached downloads of the data files), ``query`` (:class:`~pail.services.inventory.query.Inventory`,
the DuckDB queries), ``open`` (:func:`~pail.services.inventory.open.open_inventory`: all of
it in one call), ``plan`` (stale plans from a report, re-checked live before deleting;
the lifecycle rule offered instead), ``sql`` (the same queries as Athena / BigQuery SQL).
"""
