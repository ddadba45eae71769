"""The errors logicat raises for users (``logicat.core.errors``): each has its exit status,
and what the Python API raises for bad input is also a built-in kind that scikit-learn users
catch (issue 31, item 12); the one-line messages are tested by class in tests/hostile/."""

from __future__ import annotations

import re

from logicat.core import errors
from tests import paths

BUILTIN = (ValueError, TypeError, OSError, ImportError)


def _classes(base):
    for cls in base.__subclasses__():
        yield cls
        yield from _classes(cls)


def test_every_error_class_is_a_builtin_kind_with_an_exit_status():
    found = set(_classes(errors.LogicatError)) - {errors.UsageError}
    assert errors.OutputPathError in found and errors.OutputCollisionError in found
    for cls in found:
        assert issubclass(cls, BUILTIN), cls
        assert cls.exit_code == (2 if issubclass(cls, errors.UsageError) else 1), cls


def test_the_library_never_raises_the_bare_bases():
    """Outside the command line, no module raises LogicatError or UsageError itself."""
    bare = re.compile(r"raise (LogicatError|UsageError)\(|error: type\[LogicatError\] = "
                      r"LogicatError")
    offenders = [f"{path.relative_to(paths.ROOT)}:{n}" for path in
                 sorted((paths.ROOT / "src" / "logicat").rglob("*.py"))
                 if "cli" not in path.parts
                 for n, line in enumerate(path.read_text().splitlines(), 1) if bare.search(line)]
    assert offenders == []
