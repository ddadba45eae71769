"""Every exception logicat raises for users, each with the exit status the command line gives it.

``LogicatError`` is the base; the command line turns one into a single line ``Error: <message>``
and exits with its ``exit_code``. Anything else that escapes is a bug and keeps its traceback.
Where scikit-learn and Python callers expect a built-in type, a class is also that type:
``ParameterError`` and ``ShapeError`` are ``ValueError``\\ s, ``MissingDependencyError`` an
``ImportError``.

    exit 1   the input could not be used (a file, an image, a model, a download, a diverging run)
    exit 2   the command was used wrongly (an option's value, outputs that collide with inputs)
"""

from __future__ import annotations


class LogicatError(Exception):
    """Base of logicat's user-facing errors: one line saying what was expected, what came in."""

    exit_code = 1


class UsageError(LogicatError):
    """The call itself is wrong (not the data it points at): usage errors exit with 2."""

    exit_code = 2


class ParameterError(UsageError, ValueError):
    """A hyperparameter or argument outside its allowed values.

    "The 'alpha' parameter must be a float in [0, inf). Got -1.0 instead."

    ``parameter``, where given, names the hyperparameter at fault, so that the command line
    can name the option that set it.
    """

    def __init__(self, message: str = "", parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class OutputCollisionError(UsageError, ValueError):
    """An output path is one of the command's inputs, or two outputs share one path."""


class OutputPathError(UsageError, ValueError):
    """An output path that cannot be written as a file: empty, a folder, or in no folder."""


class InputFileError(LogicatError, ValueError):
    """An input file is missing, a folder, or not a regular file (``paths.regular_file``)."""


class ShapeError(LogicatError, ValueError):
    """An array of the wrong shape or kind was passed to a public function."""


class DataFileError(LogicatError, ValueError):
    """An HDF5 data file is missing, unreadable, or not in the cat-data layout."""


class ImageLoadError(LogicatError, ValueError):
    """An image file cannot be read or decoded."""


class ModelFileError(LogicatError, ValueError):
    """A model file or checkpoint is missing, truncated, corrupted, foreign, or inconsistent."""


class DownloadError(LogicatError, ValueError):
    """A download failed or its checksum did not match; nothing partial is kept."""


class DivergenceError(LogicatError, ValueError):
    """Training diverged: the cost or the parameters became non-finite, or the cost climbed far
    above where it started."""


class MissingDependencyError(LogicatError, ImportError):
    """An optional package is needed for this (the message says which extra installs it)."""
