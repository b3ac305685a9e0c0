"""What every layer shares and nothing below it: the URI syntax (:mod:`pail.core.uri`) and
the connection types (:mod:`pail.core.connection`). No I/O here.
"""
