"""Options and parameter types shared by several commands."""

from __future__ import annotations

import math
from pathlib import Path

import click


class PositiveFloat(click.ParamType):
    """A finite float > 0 (click's FloatRange lets inf through)."""

    name = "float"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number > 0, got {value!r}.", param, ctx)
        if not (math.isfinite(number) and number > 0):
            self.fail(f"expected a finite number > 0, got {value!r}.", param, ctx)
        return number


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with train_catvnoncat.h5 and test_catvnoncat.h5 "
    "[default: $LOGICAT_DATA, then ~/.cache/logicat/catvnoncat].",
)

model_option = click.option(
    "--model",
    "-m",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model file written by 'logicat train'.",
)


def writable_output(path: Path, what: str) -> Path:
    """Check before any work that ``path`` can be written: its folder exists, it is no folder."""
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder; expected a {what} file path.")
    if not path.parent.is_dir():
        raise click.BadParameter(f"the folder {path.parent} does not exist (for {path}).")
    return path
