"""Numbers the docs state about the code itself, checked against the code."""

import ast
import re

import pytest

from tests import paths

ROOT = paths.ROOT
ENGINE = ROOT / "src" / "logicat" / "engines" / "autograd" / "tensor.py"


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


@pytest.mark.parametrize("doc", ["docs/guide.md", "docs/computation-graph.md"])
def test_the_stated_engine_line_count_is_the_engines(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    stated = re.search(r"\*\*(\d+) lines of code\*\*\s+\((\d+) with docstrings", text)
    assert stated, f"{doc} no longer states the engine's line count"
    assert (int(stated[1]), int(stated[2])) == _engine_line_counts()


DOCS = ["README.md", "BENCHMARKS.md", *sorted(p.relative_to(ROOT).as_posix()
                                            for p in (ROOT / "docs").glob("**/*.md"))]


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_the_docs_name_exists(doc):
    """A doc that points at tests/..., src/..., benchmarks/... or scripts/... points at a file
    that is there (files move; the docs must move with them)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:tests|src/logicat|benchmarks|scripts|docs)/[\w/.-]*\.(?:py|md))",
                           text))
    assert named, doc
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert missing == [], f"{doc} names files that do not exist: {missing}"


# ------------------------------------------------------------------ the docs' commands, run
#: Docs whose ```console blocks are run, in order, by ``test_the_commands_of_a_doc_run``.
RUN = ["docs/lesson.md", "docs/zh/README.md"]
#: Docs that show exactly the commands of another (a translation): its blocks, not run twice.
SAME_COMMANDS = {"docs/zh/lesson.md": "docs/lesson.md"}
CONSOLE = re.compile(r"^```console\n(.*?)^```[ \t]*$", re.M | re.S)


def console_blocks(text: str) -> list[str]:
    return CONSOLE.findall(text)


def runs(block: str) -> bool:
    """Whether a console block is run: it shows ``$`` commands (a block without them, such
    as ``make demo`` or ``logicat serve``, is only shown)."""
    return any(line.startswith("$ ") for line in block.splitlines())


def sessions(block: str) -> list[tuple[str, list[str]]]:
    """``[(command, the output shown under it)]`` of a console block: a command is a line
    starting with ``$ `` (continued on the next line after a trailing backslash); the lines up
    to the next command are its output, ``...`` standing for any number of lines."""
    out: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("$ "):
            assert out, f"output before any command in a console block: {line!r}"
            out[-1][1].append(line.rstrip())
            continue
        command = line[2:]
        while command.endswith("\\") and i < len(lines):
            command += "\n" + lines[i]
            i += 1
        out.append((command, []))
    return out


def shown_matches(shown: list[str], printed: str) -> bool:
    """Whether the output shown is the output printed, line for line (trailing spaces and
    blank lines at the end aside), where a ``...`` line stands for any number of lines. A
    command shown without output (its output is this machine's: timings) may print anything."""
    while shown and not shown[-1]:
        shown = shown[:-1]
    if not shown:
        return True
    pattern = "".join(r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
                      for line in shown)
    text = "".join(line.rstrip() + "\n" for line in printed.rstrip("\n").splitlines())
    return re.fullmatch(pattern, text) is not None


def _env() -> dict[str, str]:
    """This environment, with the venv's ``logicat`` first on the PATH."""
    import os
    import sys
    from pathlib import Path

    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                  f"{os.environ.get('PATH', '')}"}


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """An empty folder to run the docs' commands in, as if it were the checkout: the shared
    data lies beside it, as ``../shared/data``."""
    if not (paths.SHARED_DATA / "photos").is_dir():
        pytest.skip(f"{paths.SHARED_DATA / 'photos'} is not there")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(paths.SHARED_DATA)
    work = tmp_path / "logicat"
    work.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # train --images's cache
    return work


@pytest.mark.slow
@pytest.mark.parametrize("doc", RUN)
def test_the_commands_of_a_doc_run(doc, checkout, cat_data):
    """Every ``$`` line of the doc's console blocks, in order, in one folder (a command may use
    the files an earlier one wrote): it exits 0 and prints what the doc shows under it."""
    import subprocess

    text = (ROOT / doc).read_text(encoding="utf-8")
    commands = [s for block in console_blocks(text) if runs(block) for s in sessions(block)]
    assert commands, doc
    for command, shown in commands:
        done = subprocess.run(["bash", "-c", command], cwd=checkout, env=_env(),
                              capture_output=True, text=True, timeout=300)
        report = (f"{doc}: $ {command}\nexit status {done.returncode}\n--- printed:\n"
                  f"{done.stdout}--- stderr:\n{done.stderr[-2000:]}")
        assert done.returncode == 0, report
        assert shown_matches(shown, done.stdout), "--- shown:\n" + "\n".join(shown) + f"\n{report}"


@pytest.mark.parametrize("doc", RUN + list(SAME_COMMANDS))
def test_the_commands_a_doc_shows_without_running_exist(doc):
    """The console lines the docs show but do not run (``logicat serve``, ``make demo``):
    each ``logicat`` command parses (its options exist: ``--help`` after them exits 0) and each
    ``make`` target is the Makefile's."""
    import shlex
    import subprocess

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    shown = [line for block in console_blocks((ROOT / doc).read_text(encoding="utf-8"))
             if not runs(block) for line in block.splitlines() if line.strip()]
    for line in shown:
        words = shlex.split(line, comments=True)
        if words[0] == "make":
            assert all(re.search(rf"^{re.escape(t)}:", makefile, re.M) for t in words[1:]), line
        else:
            assert words[0] == "logicat", f"{doc}: a console line that is not a command: {line!r}"
            done = subprocess.run([*words, "--help"], env=_env(), capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, f"{doc}: {line}\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("doc", sorted(SAME_COMMANDS))
def test_a_translation_shows_the_same_commands(doc):
    """A translation keeps the original's sections and its console blocks, character for
    character: the original's run checks both."""
    original = SAME_COMMANDS[doc]
    text = (ROOT / doc).read_text(encoding="utf-8")
    source = (ROOT / original).read_text(encoding="utf-8")
    assert console_blocks(text) == console_blocks(source)

    def sections(t: str) -> int:
        return len(re.findall(r"^## ", t, re.M))

    assert sections(text) == sections(source) > 0
