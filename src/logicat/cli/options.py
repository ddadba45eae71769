"""Options and parameter types shared by several commands."""

from __future__ import annotations

import math
from pathlib import Path

import click


class PositiveFloat(click.ParamType):
    """A finite float > 0 (click's FloatRange lets inf and nan through)."""

    name = "float"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number > 0, got {value!r}.", param, ctx)
        if not (math.isfinite(number) and number > 0):
            self.fail(f"expected a finite number > 0, got {value!r}.", param, ctx)
        return number


class FiniteFloat(click.FloatRange):
    """click's FloatRange without nan and inf: every bad value is a usage error (exit 2)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {value!r}.", param, ctx)
        return number


class Sizes(click.ParamType):
    """Comma-separated positive ints, e.g. "20,7,5" -> (20, 7, 5); "" -> () (no hidden layer)."""

    name = "sizes"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        try:
            sizes = tuple(int(part) for part in text.split(",")) if text else ()
        except ValueError:
            self.fail(f"expected comma-separated ints like 20,7,5, got {value!r}.", param, ctx)
        if any(size < 1 for size in sizes):
            self.fail(f"every size must be >= 1, got {value!r}.", param, ctx)
        return sizes

    @staticmethod
    def to_text(sizes) -> str:
        return ",".join(str(s) for s in sizes)


class Prior(click.ParamType):
    """The class mix to decide at: "train", "balanced" or a number in (0, 1)
    (``logicat.nn.output.check_prior``); anything else is a usage error naming the option."""

    name = "prior"

    def convert(self, value, param, ctx):
        from logicat.nn.output import check_prior

        try:
            return check_prior(value, "the prior")
        except ValueError:
            self.fail(f"expected 'train', 'balanced' or a number in (0, 1) (the fraction of "
                      f"positives to decide at), got {value!r}.", param, ctx)


prior_option = click.option(
    "--prior",
    type=Prior(),
    default=None,
    metavar="P",
    help="Decide at this class mix: 'train' (the training images' mix), 'balanced' (equal "
    "priors) or the fraction of positives in (0, 1); default: the model's own (logicat info "
    "shows it). The logit is corrected by Bayes' rule.",
)


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder with train_catvnoncat.h5 and test_catvnoncat.h5 "
    "[default: $LOGICAT_DATA, then ~/.cache/logicat/catvnoncat].",
)



def data_options(command):
    """``--images DIR``, ``--test-file FILE``, ``--positive NAME``: the data ``evaluate``,
    ``report`` and ``plot`` score instead of the model's own test images
    (``cli/evaluation_data.py``)."""
    for option in reversed([
        click.option("--images", type=click.Path(path_type=Path), default=None, metavar="DIR",
                     help="Score the images of this folder instead (DIR/<class>/..., as "
                     "'logicat pack' reads it), decoded at the model's size."),
        click.option("--test-file", type=click.Path(dir_okay=False, path_type=Path),
                     default=None, help="Score the images of this HDF5 file instead (the "
                     "cat-data layout, as 'logicat pack' writes it)."),
        click.option("--positive", default=None, metavar="NAME",
                     help="With --images or --test-file: the data's name of the model's "
                     "positive class [default: the model's own name for it]; every other "
                     "class is label 0."),
    ]):
        command = option(command)
    return command


model_option = click.option(
    "--model",
    "-m",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A model file written by 'logicat train'.",
)


def model_option_or_argument(command):
    """``-m/--model M`` or the model as the first argument (``logicat info M``): either one."""
    command = click.argument("model_arg", metavar="[MODEL]", required=False,
                             type=click.Path(dir_okay=False, path_type=Path))(command)
    return click.option("--model", "-m", "model_opt", default=None,
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="A model file written by 'logicat train' (or give it as MODEL).")(
        command)


def one_model(model_opt: Path | None, model_arg: Path | None) -> Path:
    if (model_opt is None) == (model_arg is None):
        raise click.UsageError("Give the model file once: as -m/--model MODEL or as MODEL.")
    return model_opt or model_arg


def data_files(data_dir: Path | None) -> dict[str, Path]:
    """The cat-data files a command will read, by what they are (for ``paths.check_outputs``);
    none when they cannot be found (the command then fails saying so)."""
    from logicat.core.errors import LogicatError
    from logicat.data import TEST_FILE, TRAIN_FILE, find_catvnoncat

    try:
        folder = find_catvnoncat(data_dir)
    except LogicatError:
        return {}
    return {"the training data": folder / TRAIN_FILE, "the test data": folder / TEST_FILE}


#: the hyperparameters whose option is not --NAME (the rest are: --alpha, --lr-schedule, ...)
OPTION_OF = {"learning_rate": "--learning-rate", "max_iter": "--iterations",
             "batch_size": "--batch-size", "random_state": "--seed",
             "hidden_layer_sizes": "--hidden", "standardize": "--scaling"}


def check_hyperparameters(constraints: dict, params: dict, source_of: dict | None = None) -> None:
    """``params`` against the estimators' constraint table, before any work: a value out of
    range is a usage error naming the option it came from (``source_of``: name -> option, e.g.
    "--param"; else ``OPTION_OF``, else --NAME)."""
    from logicat.core.errors import ParameterError
    from logicat.core.validation import check_params

    for name, allowed in constraints.items():
        if name not in params:
            continue
        try:
            check_params({name: allowed}, {name: params[name]})
        except ParameterError as e:
            hint = (source_of or {}).get(name) or OPTION_OF.get(name,
                                                                "--" + name.replace("_", "-"))
            raise click.BadParameter(str(e), param_hint=f"'{hint}'") from None
