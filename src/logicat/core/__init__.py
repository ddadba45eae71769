"""Foundations every other package stands on: the one-line errors (``errors``), the constraint
tables that check parameters (``validation``), the one writer of files (``paths``) and the lazy
exports of package ``__init__`` modules (``lazy``). Nothing here imports another logicat
package."""
