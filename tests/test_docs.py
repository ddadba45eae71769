"""Numbers the docs state about the code itself, checked against the code."""

import ast
import re

import pytest

from tests import paths

ROOT = paths.ROOT
ENGINE = ROOT / "src" / "logicat" / "autograd" / "tensor.py"


def _engine_line_counts() -> tuple[int, int]:
    """(lines of code: not blank, not a comment, not a docstring; all lines) of the engine."""
    source = ENGINE.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = source.splitlines()
    code = sum(
        1
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )
    return code, len(lines)


@pytest.mark.parametrize("doc", ["README.md", "docs/computation-graph.md"])
def test_the_stated_engine_line_count_is_the_engines(doc):
    text = (ROOT / doc).read_text()
    stated = re.search(r"\*\*(\d+) lines of code\*\*\s+\((\d+) with docstrings", text)
    assert stated, f"{doc} no longer states the engine's line count"
    assert (int(stated[1]), int(stated[2])) == _engine_line_counts()


DOCS = ["README.md", "BENCHMARKS.md", *sorted(p.relative_to(ROOT).as_posix()
                                            for p in (ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_the_docs_name_exists(doc):
    """A doc that points at tests/..., src/..., benchmarks/... or scripts/... points at a file
    that is there (files move; the docs must move with them)."""
    text = (ROOT / doc).read_text()
    named = set(re.findall(r"\b((?:tests|src/logicat|benchmarks|scripts|docs)/[\w/.-]*\.(?:py|md))",
                           text))
    assert named, doc
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert missing == [], f"{doc} names files that do not exist: {missing}"
