"""Numbers the docs state about the code itself, checked against the code."""

import ast
import functools
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
RUN = ["docs/lesson.md", "docs/networks.md", "docs/your-network.md", "docs/zh/README.md"]
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


# ------------------------------------------------------------------ numbers with one source
#: Where figures are quoted for readers (a notebook's markdown cells; its code cells print).
QUOTING = ["README.md", *sorted(p.relative_to(ROOT).as_posix()
                                for p in (ROOT / "docs").glob("**/*.md")),
           *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))]

_NUM = r"\d+(?:\.\d+)?"
#: one figure: a number, a number ± its spread, or a range
_ATOM = rf"{_NUM}(?:\s*±\s*{_NUM}|\s*[–-]\s*{_NUM}(?![\d.]))?"
#: figures sharing one unit: "87.2 %", "86–88 %", "91.4 against 90.7 %", "68 / 64 / 36 %"
_JOIN = r"\s*(?:/|,|and|or|against|to|和|对)\s*"
_UNITS = {"%": r"%", "s": r"(?:(?:s|seconds?|ms|us|min|minutes?)(?!\w)|秒|分钟)"}
#: a bound, not a measurement: a limit the code enforces or a goal set beforehand
_BOUND = re.compile(r"(?:within|at most|at least|up to|under|below|not|≤|≥|<=|>=|<|>)\s*$", re.I)


def figures(text: str, unit: str):
    """``(atom, its numbers, the start of its match)`` of every figure in ``unit`` ("%" or
    "s", a time) in ``text``: ``87.2 %``, ``86–88 %``, ``87.6 ± 2.0 %``, ``about 25 s``,
    ``0.35 s``, ``3.46 ms``, ``约 25 秒``."""
    pattern = re.compile(rf"(?<![\w.]){_ATOM}(?:{_JOIN}{_ATOM})*\s*{_UNITS[unit]}")
    for match in pattern.finditer(text):
        for atom in re.finditer(_ATOM, match[0]):
            yield atom[0], re.findall(_NUM, atom[0]), match.start()


def _key(atom: str) -> str:
    """An atom written one way: "86–88" and "86-88", "92.3 ±  0.9" and "92.3 ± 0.9" alike."""
    return re.sub(r"\s+", "", atom).replace("–", "-")


def _rounds_to(quoted: str, source: str) -> bool:
    """Whether ``quoted`` is ``source`` as written or rounded to fewer decimals."""
    decimals = len(quoted.partition(".")[2])
    return (decimals <= len(source.partition(".")[2])
            and f"{float(source):.{decimals}f}" == f"{float(quoted):.{decimals}f}")


def _fenced(text: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)


@functools.cache
def benchmark_figures(unit: str) -> tuple[frozenset[str], frozenset[str]]:
    """BENCHMARKS.md's figures in ``unit``: (its atoms, written one way; its numbers, each
    with the decimals it is written with). Its tables print their cells without units (a
    "range" column, an "s/fit" column), so the spreads, ranges and decimal numbers of its
    printed tables count as well, as written; a bare integer there (a count, a seed) does not."""
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    atoms = {_key(atom) for atom, _, _ in figures(text, unit)}
    numbers = {n for _, ns, _ in figures(text, unit) for n in ns}
    for block in _fenced(text):
        atoms |= {_key(a) for a in re.findall(_ATOM, block) if not re.fullmatch(r"\d+", a)}
    return frozenset(atoms), frozenset(numbers)


@functools.cache
def exact_outputs() -> frozenset[str]:
    """The percentages printed under the ``$`` commands of the console blocks that
    test_the_commands_of_a_doc_run runs and compares with what they print (the lesson's
    99.04306220095694 % and 70.0 %, the course's 98.56459330143541 % and 80.0 %, ...): the
    same on every machine, checked on every run of the suite."""
    out: set[str] = set()
    for doc in RUN:
        for block in console_blocks((ROOT / doc).read_text(encoding="utf-8")):
            if runs(block):
                shown = "\n".join(line for _, lines in sessions(block) for line in lines)
                out |= {n for _, ns, _ in figures(shown, "%") for n in ns}
    return frozenset(out)


def quoted_text(doc: str) -> str:
    """What a reader of ``doc`` reads: a notebook's markdown cells, or the whole file."""
    if not doc.endswith(".ipynb"):
        return (ROOT / doc).read_text(encoding="utf-8")
    import nbformat

    nb = nbformat.read(ROOT / doc, as_version=4)
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def unsourced_figures(text: str) -> list[str]:
    """The figures of ``text`` - accuracies and shares (``87.2 %``, ``86–88 %``, ``87.6 ± 2.0
    %``) and times (``about 25 s``, ``~25 s``, ``3.46 ms``, ``25 秒``) - that BENCHMARKS.md does
    not hold, each with the line it is on.

    A figure is sourced when BENCHMARKS.md holds it, in the same unit: a spread (``87.6 ±
    2.0``) or a range (``86–88``) as that atom, a single number as written or rounded to fewer
    decimals (``0.4 s`` from its ``0.392``). Two kinds of figure are not measurements and are
    not looked up:

    - exact outputs: a percentage that a console block of a doc in ``RUN`` prints (the
      lesson's, the course's: float64 NumPy, the same on every machine), which
      test_the_commands_of_a_doc_run compares with what the command prints; quoted elsewhere,
      as written or rounded (``99 %``), it is that output. A console block that no test runs
      gets no such pass: its figures are looked up like the prose's;
    - bounds: a figure right after ``within``, ``at most``, ``at least``, ``up to``, ``under``,
      ``below``, ``not``, ``≤``, ``≥``, ``<``, ``>`` (a limit the code enforces, a goal set
      beforehand), and the rows of a table whose first header cell is ``limit``
      (docs/bad-input.md).

    Times are never exact outputs: they are a machine's. Numbers without a unit (costs, ratios
    such as ``13×``, p(cat)) are not figures here. What the check cannot see: whether the
    sentence names the machine BENCHMARKS.md ran it on, and a coarse figure (``2 s``, ``88 %``)
    that some other figure of BENCHMARKS.md rounds to.
    """
    exact = exact_outputs()
    lines = text.splitlines()
    for i, line in enumerate(lines):  # a table of limits: blank its rows
        if re.match(r"\|\s*limit\s*\|", line, re.I):
            for j in range(i + 1, len(lines)):
                if not lines[j].startswith("|"):
                    break
                lines[j] = ""
    text = "\n".join(lines)
    bad = []
    for unit in _UNITS:
        atoms, numbers = benchmark_figures(unit)
        for atom, parts, start in figures(text, unit):
            before = text[text.rfind("\n", 0, start) + 1:start]
            if _BOUND.search(before) or _key(atom) in atoms:
                continue
            if len(parts) == 1 and any(_rounds_to(parts[0], n) for n in numbers):
                continue
            if unit == "%" and len(parts) == 1 and any(_rounds_to(parts[0], n) for n in exact):
                continue
            line = text[text.rfind("\n", 0, start) + 1:].partition("\n")[0]
            bad.append(f"{atom} {'%' if unit == '%' else '(a time)'} in: {line.strip()}")
    return bad


@pytest.mark.parametrize("doc", QUOTING)
def test_every_figure_a_doc_quotes_is_in_benchmarks(doc):
    """Numbers with one source: every accuracy and time a reader is told comes from a table
    of BENCHMARKS.md, which says which machine printed it (``unsourced_figures`` says what
    counts as a figure and what does not)."""
    bad = unsourced_figures(quoted_text(doc))
    assert bad == [], (f"{doc} quotes figures that BENCHMARKS.md does not hold (quote its "
                       "tables, naming the machine):\n" + "\n".join(bad))


def test_a_figure_that_is_not_in_benchmarks_is_found():
    """The check above can fail: a wrong accuracy, range, spread or time is caught, in prose,
    in a notebook's kind of sentence and in an unrun console block; the same figures as
    BENCHMARKS.md writes them are not."""
    assert unsourced_figures("gets 87.2 % (86–88 %), about 22 s, 0.4 s, 87.6 ± 2.0 %") == []
    for wrong in ["gets 87.3 %", "a range of 84–90 %", "87.6 ± 2.1 %", "about 25 s",
                  "~25 s", "约 25 秒", "takes 3.46 ms", "test accuracy: 92.6829268292683 %"]:
        assert len(unsourced_figures(wrong)) == 1, wrong
    assert unsourced_figures("within 61 s; at most 93 %") == []  # bounds
    assert unsourced_figures("99 % train, 99.04306220095694 %") == []  # the lesson's output
