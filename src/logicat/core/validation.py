"""Input checks, declared once: parameter constraints and array shapes, with one error template.

Parameters are checked against a table, as scikit-learn's ``_parameter_constraints`` does::

    CONSTRAINTS = {"alpha": [Interval(float, 0, None)], "batch_size": [Interval(int, 1), None]}
    check_params(CONSTRAINTS, {"alpha": -1.0, "batch_size": 0})
    # ParameterError: The 'alpha' parameter must be a float in [0, inf). Got -1.0 instead.

Each entry lists what a value may be: an ``Interval``, ``Options``, ``bool``, ``dict``,
``callable``, a ``numpy.random.Generator`` or ``None``; the message joins their descriptions.
Arrays are checked where they enter a public function (``as_matrix``, ``as_vector``,
``check_rows``): what was expected and what came in, e.g. "w must have shape (12288,). Got
shape (12288, 1) instead."
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from logicat.core.errors import ParameterError, ShapeError


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (int or float) in [low, high) (or with the ends as ``closed`` says).

    ``float`` admits ints too, never bools or non-finite values; ``None`` for an end is infinity.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "left"  # "left" [low, high), "right" (low, high], "both", "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool | np.bool_):
            return False
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                return False
        elif not (isinstance(value, numbers.Real) and math.isfinite(value)):
            return False
        left_closed = self.closed in ("left", "both")
        right_closed = self.closed in ("right", "both")
        if self.low is not None and not (value >= self.low if left_closed else value > self.low):
            return False
        return self.high is None or (value <= self.high if right_closed else value < self.high)

    def describe(self) -> str:
        if self.kind is int:
            if self.high is None:
                return f"an int >= {self.low}" if self.closed in ("left", "both") else (
                    f"an int > {self.low}")
            return f"an int in [{self.low}, {self.high}]"
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"a float in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of strings."""

    values: tuple[str, ...]

    def __init__(self, values: Iterable[str]) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def describe(self) -> str:
        quoted = ", ".join(repr(v) for v in self.values)
        return quoted if len(self.values) == 1 else f"one of {quoted}"


@dataclass(frozen=True)
class Sizes:
    """A tuple (or list) of ints >= 1: the sizes of layers; ``min_length`` to ``max_length`` of
    them (default: any number, possibly none), each at most ``max_size`` (default: unbounded)."""

    min_length: int = 0
    max_length: int | None = None
    max_size: int | None = None

    def accepts(self, value: Any) -> bool:
        return isinstance(value, tuple | list) and (
            self.min_length <= len(value) <= (self.max_length or len(value))) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_) and v >= 1
            and (self.max_size is None or v <= self.max_size) for v in value)

    def describe(self) -> str:
        if self.max_length is None and self.max_size is None and not self.min_length:
            return "a tuple of ints >= 1"
        if self.max_length is None:
            count = f"at least {self.min_length}"
        else:
            count = (f"{self.min_length} to {self.max_length}" if self.min_length
                     else f"at most {self.max_length}")
        each = f"in [1, {self.max_size}]" if self.max_size is not None else ">= 1"
        return f"a tuple of {count} ints {each}"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


#: The other kinds a constraint list may name, with how they are described.
_KINDS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    None: (lambda v: v is None, "None"),
    bool: (lambda v: isinstance(v, bool | np.bool_), "a bool"),
    dict: (lambda v: isinstance(v, Mapping), "a dict"),
    list: (lambda v: isinstance(v, list | tuple) and len(v) > 0, "a non-empty list"),
    callable: (callable, "a callable"),
    np.random.Generator: (lambda v: isinstance(v, np.random.Generator), "a numpy Generator"),
}


def _accepts(constraint: Any, value: Any) -> bool:
    if isinstance(constraint, Interval | Options | Sizes):
        return constraint.accepts(value)
    return _KINDS[constraint][0](value)


def _describe(constraint: Any) -> str:
    if isinstance(constraint, Interval | Options | Sizes):
        return constraint.describe()
    return _KINDS[constraint][1]


def describe(constraints: list[Any]) -> str:
    """'a float in [0, inf) or None', "'balanced', a dict or None", ..."""
    parts = [_describe(c) for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def check_param(name: str, value: Any, constraints: list[Any]) -> None:
    """Raise ``ParameterError`` unless ``value`` satisfies one of ``constraints``."""
    if not any(_accepts(c, value) for c in constraints):
        raise ParameterError(
            f"The {name!r} parameter must be {describe(constraints)}. Got {value!r} instead."
        )


def check_params(table: Mapping[str, list[Any]], values: Mapping[str, Any]) -> None:
    """Check every value that ``table`` has a constraint for, in the table's order."""
    for name, constraints in table.items():
        if name in values:
            check_param(name, values[name], constraints)


# ------------------------------------------------------------------------------- arrays
def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_matrix(name: str, a: Any, *, n_features: int | None = None) -> np.ndarray:
    """``a`` as a 2-D float array (m, n), unchanged if it already is one; ShapeError if not 2-D."""
    a = np.asarray(a)
    if a.ndim != 2 or a.dtype.kind not in "fiu":
        raise ShapeError(
            f"{name} must be a 2-D array of numbers of shape (m, n). Got "
            f"{_what(a)} instead."
        )
    if n_features is not None and a.shape[1] != n_features:
        raise ShapeError(
            f"{name} must have {n_features} columns (features). Got shape {_shape_text(a.shape)}"
            " instead."
        )
    return a


def as_vector(name: str, a: Any, length: int | None = None) -> np.ndarray:
    """``a`` as a 1-D array of numbers of the given length; ShapeError otherwise."""
    a = np.asarray(a)
    if a.ndim != 1 or a.dtype.kind not in "fiub" or (length is not None and len(a) != length):
        expected = "(n,)" if length is None else f"({length},)"
        raise ShapeError(f"{name} must have shape {expected}. Got {_what(a)} instead.")
    return a


def check_rows(name: str, a: np.ndarray, m: int, other: str = "X") -> np.ndarray:
    """``a`` must hold one value per row of ``other``: shape (m,)."""
    a = np.asarray(a)
    if a.shape != (m,):
        raise ShapeError(
            f"{name} must have shape ({m},), one value per row of {other}. Got {_what(a)} "
            "instead."
        )
    return a


def _what(a: np.ndarray) -> str:
    kind = "" if a.dtype.kind in "fiub" else f" of dtype {a.dtype}"
    return f"shape {_shape_text(a.shape)}{kind}"


# ------------------------------------------------------------------------------- memory
def available_memory() -> int:
    """Bytes this process can still allocate: the kernel's MemAvailable, capped by a cgroup's
    memory.max and by RLIMIT_AS when they are set (Linux; elsewhere no limit is known)."""
    import resource

    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            text = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            if text.isdigit():
                limits.append(int(text) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft)
    return max(0, min(limits)) if limits else 2**63 - 1


def _bytes_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def check_memory(nbytes: int, what: str, error: type[Exception] = ParameterError) -> None:
    """Refuse, before allocating, an array of ``nbytes`` that this machine cannot hold.

    Sizes that come from outside (a file's declared shape, an option's value) are checked here
    so that they end as one line naming what asked, never as numpy's MemoryError traceback:
    "``what`` needs 7.3 TiB of memory; 21.3 GiB are available."
    """
    available = available_memory()
    if nbytes > available:
        raise error(f"{what} needs {_bytes_text(nbytes)} of memory; {_bytes_text(available)} "
                    "are available.")


#: the longest class name a model file (and a class folder) may have
MAX_CLASS_NAME = 1000


def is_class_name(name: object) -> bool:
    """A class name every command can show and a model file keeps as it is: a non-empty
    printable string of at most ``MAX_CLASS_NAME`` characters, without spaces around it (the
    HDF5 reader strips them) and without undecodable bytes (a folder's surrogates)."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_CLASS_NAME and name.isprintable()
            and name == name.strip())
