"""Lazy re-exports for package ``__init__`` modules: ``from logicat import X`` imports X's module
only.

Importing a submodule runs its package's ``__init__``; if that imported everything it names, the
CLI's ``--help`` would pay for NumPy, h5py and scikit-learn. A package lists its public names and
where each lives; the module is imported the first time a name is used (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps a name to its module."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
