"""The access check shared by the app and ``pail doctor``: the probes
(:mod:`~pail.services.access.check`, GCS in :mod:`~pail.services.access.gcs`), the policy
that would grant what is missing (:mod:`~pail.services.access.policy`) and the report
(:mod:`~pail.services.access.report`).
"""
