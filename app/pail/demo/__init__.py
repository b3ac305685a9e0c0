"""The embedded demo store: :mod:`pail.demo.server` runs moto's S3 server on loopback,
:mod:`pail.demo.seed` fills it with ML-run artifacts built by :mod:`pail.demo.artifacts`.
"""
