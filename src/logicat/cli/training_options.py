"""The training options of ``logicat train`` beyond the lesson, and its checkpoint handling.

``@training_options`` adds the options (``--batch-size`` and ``--seed``, shared with the
out-of-core trainer, are ``train``'s own); ``training_params(options)`` turns them into the
hyperparameters of ``logicat.training.fit`` (the names ``LogisticRegression`` has);
``fit_with_checkpoints`` runs the fit with the checkpoints the options ask for (the policy:
``training.checkpointing``) and reports it (``run_fit``: warnings, usage errors, Ctrl-C as one
line and exit 130). All options default to off, so ``logicat
train`` alone is still the lesson's reference run.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from logicat.cli.options import FiniteFloat

_OPTIONS = [
    click.option("--solver", type=click.Choice(["auto", "primal", "gram"]), default="auto",
                 show_default=True, help="How iterations are computed: on w (primal), in the span "
                 "of the examples (gram), or auto: gram for plain full-batch gradient descent "
                 "when it pays."),
    click.option("--alpha", type=FiniteFloat(min=0), default=0.0, show_default=True,
                 help="L2 regularisation: adds alpha/(2m)*||w||^2 to J (scikit-learn's C = "
                 "1/alpha)."),
    click.option("--optimizer", type=click.Choice(["gd", "momentum", "nesterov", "adam",
                                                   "adamw"]),
                 default="gd", show_default=True,
                 help="Update rule (the ConvNet's default is adamw)."),
    click.option("--momentum", type=FiniteFloat(min=0, max=1, max_open=True), default=0.9,
                 show_default=True, help="mu of --optimizer momentum/nesterov."),
    click.option("--weight-decay", type=FiniteFloat(min=0, max=1e3), default=0.0,
                 show_default=True,
                 help="Weight decay on the weights, as torch.optim applies it: decoupled for "
                 "adamw, added to the gradient otherwise (the ConvNet's default is 5e-4)."),
    click.option("--shuffle/--no-shuffle", default=True, show_default=True,
                 help="Reshuffle the examples every epoch (mini-batches only)."),
    click.option("--lr-schedule", type=click.Choice(["constant", "inverse", "exponential",
                 "cosine"]), default="constant", show_default=True,
                 help="Learning rate of epoch t: a, a/(1+d*t), a*exp(-d*t), or cosine to 0."),
    click.option("--lr-decay", type=FiniteFloat(min=0), default=0.0, show_default=True,
                 help="d of the inverse and exponential schedules."),
    click.option("--tol", type=FiniteFloat(min=0), default=None,
                 help="Stop when the cost improves by less than this for --n-iter-no-change "
                 "iterations [default: never]."),
    click.option("--n-iter-no-change", type=click.IntRange(min=1), default=5,
                 show_default=True),
    click.option("--early-stopping", is_flag=True,
                 help="Hold out --validation-fraction of the training set and stop when its "
                 "cost stops improving; keep the best parameters."),
    click.option("--validation-fraction", type=FiniteFloat(min=0, max=1, min_open=True,
                 max_open=True), default=0.1, show_default=True),
    click.option("--class-weight", type=click.Choice(["balanced"]), default=None,
                 help="Weight the classes inversely to their frequency."),
    click.option("--scaling", type=click.Choice(["divide_by_255", "standardize"]),
                 default="divide_by_255", show_default=True,
                 help="Features: pixels/255 (the lesson), or then standardised per feature "
                 "with the training set's mean and std (stored in the model file)."),
    click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
                 default=None, help="Checkpoint file (written every --checkpoint-every "
                 "iterations - epochs for a ConvNet - and on Ctrl-C; read by --resume)."),
    click.option("--checkpoint-every", type=click.IntRange(min=1), default=None,
                 help="Save the checkpoint every N iterations (epochs for a ConvNet)."),
    click.option("--resume", is_flag=True,
                 help="Continue the run saved in --checkpoint, exactly where it stopped."),
    click.option("--quiet", "-q", is_flag=True,
                 help="No cost lines and no progress bar: only the results."),
    click.option("--verbose", "-v", is_flag=True,
                 help="The machine and its threads, then the cost after every iteration (epoch), "
                 "not every --print-every."),
    click.option("--log-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Also write every iteration's (epoch's) cost, learning rate and "
                 "validation cost to this CSV file when the run ends."),
]


def progress(options: dict[str, Any], print_every: int, unit: str = "iteration"):
    """(the bar, the callbacks that show a run): the lesson's "Cost after iteration i" every
    ``print_every`` and a progress bar (in a terminal or a notebook); --quiet: neither;
    --verbose: the machine and its threads, then the cost after every iteration (or epoch,
    ``unit``); --log-csv: the CSV log."""
    from logicat.training.callbacks import CSVLog, PrintCost, ProgressBar

    if options["quiet"] and options["verbose"]:
        raise click.BadParameter("and --verbose ask for opposite things: give one.",
                                 param_hint="'--quiet'")
    if options["verbose"]:  # what the numbers depend on, before the first of them
        from logicat.core.machine import describe, threads_in_use

        click.echo(f"Computing on {describe()}; {threads_in_use()}")
    bar = ProgressBar(unit=unit, force=False if options["quiet"] else None)
    every = 1 if options["verbose"] else print_every
    shown = [] if options["quiet"] else [PrintCost(every, write=bar.write, unit=unit), bar]
    return bar, shown + ([CSVLog(options["log_csv"])] if options["log_csv"] else [])


def training_options(command):
    """Decorator: add the options above to a click command (they arrive as keyword arguments)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


#: the options passed through to the hyperparameters of the same name
_PASS_THROUGH = ("solver", "alpha", "optimizer", "momentum", "weight_decay", "shuffle",
                 "lr_schedule",
                 "lr_decay", "tol", "n_iter_no_change", "early_stopping", "validation_fraction",
                 "class_weight")


def training_params(options: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters (``LogisticRegression``'s names) the training options set."""
    params = {name: options[name] for name in _PASS_THROUGH}
    params["standardize"] = options["scaling"] == "standardize"
    return params


def refuse_with_train_file(options: dict[str, Any]) -> None:
    """The out-of-core trainer (``--train-file``) has no validation split, no weights and no
    standardisation (they need the data in memory): refuse those options if given."""
    ctx = click.get_current_context()
    for name in ("early_stopping", "validation_fraction", "class_weight", "scaling"):
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            flag = "--" + name.replace("_", "-")
            raise click.BadParameter(
                "is not available with --train-file (out-of-core training).",
                param_hint=f"'{flag}'",
            )


def check_checkpoint_options(options: dict[str, Any], out: Path, processes: bool = False
                             ) -> Path | None:
    """Validate the checkpoint options before any work; the path Ctrl-C saves to (or None).
    ``processes``: the torch engine's dense model in several processes (``--nproc``), whose
    runs are not checkpointed."""
    path = options["checkpoint"]
    if (options["resume"] or options["checkpoint_every"]) and path is None:
        flag = "--resume" if options["resume"] else "--checkpoint-every"
        raise click.BadParameter("needs --checkpoint PATH.", param_hint=f"'{flag}'")
    if processes:
        if path is not None:
            raise click.BadParameter(
                "a dense model trained in several processes (--engine torch --nproc) is not "
                "checkpointed: train it in one process to checkpoint it.",
                param_hint="'--checkpoint'",
            )
        return None
    if options["resume"] and not path.is_file():
        raise click.BadParameter(f"{path}: no such checkpoint file.", param_hint="'--resume'")
    # its folder was checked with every other output's (``paths.check_outputs``)
    return default_checkpoint(out) if path is None else path


def default_checkpoint(out: Path) -> Path:
    """Where Ctrl-C saves a checkpoint without ``--checkpoint``: next to the model."""
    return out.with_name(f"{out.stem}.checkpoint.safetensors")


def fit_with_checkpoints(params: dict[str, Any], X, y, options: dict[str, Any],
                         path: Path | None, callbacks: list, unit: str = "iteration",
                         **fit_kwargs: Any):
    """Every fit the recipe asks for, with the options' checkpoints
    (``training.checkpointing.fit_planned``; an ensemble's files kept when ``--checkpoint``
    asked for them or Ctrl-C stopped the run), as ``run_fit`` reports it."""
    from logicat.training.checkpointing import fit_planned

    return run_fit(lambda: fit_planned(params, X, y, checkpoint_plan(options, path), callbacks,
                                       keep=options["checkpoint"] is not None, **fit_kwargs),
                   options, unit, goes_on=path)


def checkpoint_plan(options: dict[str, Any], path: Path | None):
    """The options' checkpoints (``--checkpoint``, ``--checkpoint-every``, ``--resume`` and the
    run they record) as ``training.checkpointing.Checkpointing``."""
    from logicat.training.checkpointing import Checkpointing

    return Checkpointing(path, options["checkpoint_every"], bool(options["resume"]),
                         options.get("run"))


def run_fit(fit, options: dict[str, Any], unit: str, goes_on: Path | None = None):
    """``fit()``, as ``train`` reports it: warnings from training (``tol`` running out of
    iterations, a failed CUDA-graph capture) as one line each; a hyperparameter refused for
    this data (a validation_fraction that holds out no image of a class) as a usage error naming
    its option; Ctrl-C (``TrainingInterrupted``, its checkpoint saved) as one line with the
    command that goes on from ``goes_on`` (default: the checkpoint saved), and exit 130."""
    from logicat.cli.resume import continue_with
    from logicat.core.errors import ParameterError
    from logicat.training.callbacks import TrainingInterrupted

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            done = fit()
        except ParameterError as e:
            if e.parameter not in options:
                raise
            flag = "--" + e.parameter.replace("_", "-")
            raise click.BadParameter(str(e), param_hint=f"'{flag}'") from None
        except TrainingInterrupted as e:
            click.echo(f"Interrupted after {unit} {e.iteration}: saved a checkpoint to {e.path} "
                       f"(continue with: {continue_with(goes_on or e.path)}).", err=True)
            raise SystemExit(130) from None
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)
    if done.warning:
        click.echo(f"Warning: {done.warning}", err=True)
    return done
