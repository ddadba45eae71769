"""Exceptions logicat raises for users: each message says what was expected and what came in.

They subclass ValueError so that plain Python callers can catch them the usual way; the CLI
turns any of them into a one-line ``Error: ...`` and exit status 1.
"""


class LogicatError(ValueError):
    """Base class of logicat's user-facing errors."""


class DataFileError(LogicatError):
    """An HDF5 data file is missing, unreadable, or not in the cat-data layout."""


class ImageLoadError(LogicatError):
    """An image file cannot be read or decoded."""


class ModelFileError(LogicatError):
    """A model file is missing, truncated, corrupted, foreign, or inconsistent."""


class DownloadError(LogicatError):
    """A download failed or its checksum did not match; nothing partial is kept."""


class DivergenceError(LogicatError):
    """Gradient descent diverged (the cost became non-finite or kept growing)."""
