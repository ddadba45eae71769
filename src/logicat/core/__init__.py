"""Foundations every other package stands on: the one-line errors (``errors``), the constraint
tables that check parameters (``validation``), the one writer of files (``paths``), the lazy
exports of package ``__init__`` modules (``lazy``) and the processor logicat runs on
(``machine``). Nothing here imports another logicat package."""
