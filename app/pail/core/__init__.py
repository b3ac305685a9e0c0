"""What every layer shares and nothing below it: the URI syntax (:mod:`pail.core.uri`),
the connection types (:mod:`pail.core.connection`), sizes and durations both ways
(:mod:`pail.core.units`) and terminal-safe text (:mod:`pail.core.text`). No I/O here.
"""
