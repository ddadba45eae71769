"""The files logicat reads and writes: only regular files are read; every write is atomic.

``regular_file(path, what)`` is how every input file is checked before it is opened: a missing
file, a folder, a FIFO or a device named like a photo or a model is refused with one line
instead of being opened (opening a FIFO would block forever).

``check_outputs(outputs, inputs)`` is the one rule every command that writes applies, before
any work: each output is a file path in an existing folder, and none is one of its inputs
(``train --out`` on the training data or on a photo of ``--images``, ``export M M``) or
another of its outputs (``--out x.png --plot x.png``).

``atomic_output(path)`` yields the path of a new temporary file in the target's folder, created
exclusively under an unpredictable name (``tempfile.mkstemp``: a file or symlink planted at a
guessable name cannot redirect the write); the caller writes it; on success the file is flushed
to disk (fsync), given the permissions an ordinary new file gets (0666 minus the umask, like
every other output, not mkstemp's 0600) and renamed over ``path`` in one step. On any failure -
an exception, Ctrl-C, a full disk - the temporary file is removed and ``path`` keeps what it
held. Model files, checkpoints, ONNX exports, pictures, reports, packed HDF5 files and downloads
are all written this way.

    with atomic_output(path, "report") as tmp:
        tmp.write_text(html)
    atomic_write_bytes(path, data, "model")
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from logicat.core.errors import (
    InputFileError,
    LogicatError,
    OutputCollisionError,
    OutputPathError,
)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as one printable line, whatever its bytes: undecodable bytes as ``\\xff``,
    control characters (a tab, a newline) as ``\\t``, ``\\n``; how every message shows a
    name that came from the file system (``junk\\xff.jpg``, ``oth\\ter``)."""
    text = os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def not_regular(path: str | os.PathLike[str], what: str = "file") -> str | None:
    """Why ``path`` cannot be read as a ``what`` (missing, a folder, a FIFO...), or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"no such {what}"
    except OSError as err:
        return f"cannot read the {what} ({err.strerror or err})"
    if stat.S_ISDIR(mode):
        return f"is a folder, not a {what}"
    if not stat.S_ISREG(mode):
        article = "an" if what[:1].lower() in "aeiou" or what.startswith("HDF") else "a"
        return f"not a regular file (a FIFO, socket or device), so not {article} {what}"
    return None


def regular_file(path: str | os.PathLike[str], what: str = "file",
                 error: type[LogicatError] = InputFileError) -> Path:
    """``path`` if it names a regular file (symlinks followed); else ``error`` saying what it is."""
    why = not_regular(path, what)
    if why is not None:
        raise error(f"{path}: {why}.")
    return Path(path)


Named = Mapping[str, "str | os.PathLike[str] | None"] | Iterable[
    tuple[str, "str | os.PathLike[str] | None"]]


def _pairs(named: Named | None) -> list[tuple[str, str | os.PathLike[str] | None]]:
    if named is None:
        return []
    return list(named.items()) if isinstance(named, Mapping) else list(named)


def check_outputs(outputs: Named, inputs: Named | None = None, *,
                  folders_made: bool = False) -> None:
    """The one rule for what a command writes, applied before any work: every output is a file
    path in an existing folder (``folders_made``: the command makes the folders itself, as
    ``explain --out`` does), none is one of the command's inputs, no two are one file.

    ``outputs`` and ``inputs`` map what each path is ("--out", "the training data", "an image
    of --images") to the path (None: not given), as a mapping or as (what, path) pairs; the
    inputs are every file the command reads (model files, data files, each image of a folder,
    the checkpoint resumed). Two paths are one file when they resolve to the same path
    (symlinks followed) or, both existing, are the same inode (a hard link).
    ``OutputCollisionError`` (a usage error, exit 2) names both: "--out
    data/train_catvnoncat.h5 is the training data (data/train_catvnoncat.h5): writing it would
    destroy that input."
    """
    def identity(path: Path) -> tuple[str, tuple[int, int] | None]:
        try:
            info = os.stat(path)
            inode = (info.st_dev, info.st_ino)
        except OSError:  # not there (yet): only its resolved path can collide
            inode = None
        return os.path.realpath(path), inode

    given = [(what, Path(p), identity(Path(p))) for what, p in _pairs(outputs) if p is not None]
    for what, path, _ in given:
        _check_output_path(f"{what} {path}" if str(path) not in ("", ".") else what, path,
                           folders_made)
    sources = [(what, Path(p), identity(Path(p))) for what, p in _pairs(inputs) if p is not None]

    def same(a, b) -> bool:
        return a[0] == b[0] or (a[1] is not None and a[1] == b[1])

    for i, (what, path, key) in enumerate(given):
        for other, source, source_key in sources:
            if same(key, source_key):
                raise OutputCollisionError(
                    f"{what} {path} is {other} ({source}): writing it would destroy that input. "
                    "Choose another output path.")
        for other, _, second_key in given[i + 1:]:
            if same(key, second_key):
                raise OutputCollisionError(
                    f"{what} and {other} are the same file ({path}): give each output its own "
                    "path.")


def _check_output_path(what: str, path: Path, folders_made: bool = False,
                       kind: str = "file") -> None:
    """``path`` can be written as a ``kind`` file: not empty, not a folder, its folder there;
    else ``OutputPathError`` (a usage error and a ``ValueError``), its message led by ``what``
    (the option, or the path)."""
    if str(path) in ("", "."):  # Path("") is Path(".")
        raise OutputPathError(f"{what}: expected a {kind} path. Got an empty path (or '.', the "
                              "current folder) instead.")
    if path.is_dir():
        raise OutputPathError(f"{what}: expected a {kind} path. Got a folder instead.")
    if not folders_made and not path.parent.is_dir():
        problem = "is not a folder" if path.parent.exists() else "does not exist"
        raise OutputPathError(f"{what}: expected a {kind} path in an existing folder; "
                              f"{path.parent} {problem}.")


def check_output_folder(path: Path, what: str = "file") -> Path:
    """``path`` can be written as a ``what`` file (the rule of ``check_outputs``, for callers of
    the Python API: ``save()`` to a folder is an ``OutputPathError``, a ``ValueError``)."""
    _check_output_path(str(path), path, kind=f"{what} file" if what != "file" else "file")
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` if the block succeeds.

    The temporary file exists (empty) when the block starts, so writers that open by name
    (h5py, matplotlib) and writers that append both work.
    """
    path = check_output_folder(Path(path), what)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # the data on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, what: str = "file") -> Path:
    """Write ``data`` to ``path`` through ``atomic_output``; return the path."""
    path = Path(path)
    with atomic_output(path, what) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
