"""``logicat train`` of an image network - ``--model convnet``, or ``--layers`` your own - on the
cat images, your photos or a packed file: its recipe from train's options and ``--param``, the
one call that trains it (``training.checkpointing.fit_planned``), reported like every model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from logicat.training.ensemble import fit_labels, member_checkpoint

#: train's options that have no meaning for a ConvNet, and why (what to use instead)
NO_MEANING = {
    "hidden": "its layers are set with --param widths=16,32,64,128 (and hidden=N for a "
              "hidden layer in its head)",
    "activation": "its blocks use ReLU",
    "init": "its initial weights are PyTorch's, seeded by --seed",
    "loss": "it trains on cross-entropy (--param label_smoothing=E softens the targets)",
    "dtype": "it trains in float32",
    "engine": "it trains with PyTorch",
    "solver": "it takes torch.optim steps on augmented mini-batches",
    "alpha": "its L2 is weight decay, not in the cost: --weight-decay W",
    "shuffle": "it reshuffles the images every epoch",
    "lr_schedule": "its schedule is --param lr_schedule=cosine|constant (and warmup=F)",
    "lr_decay": "its schedule is --param lr_schedule=cosine|constant (and warmup=F)",
    "tol": "it stops on the validation cost (--early-stopping), not on the noisy training "
           "cost",
    "scaling": "it normalises each channel by the training images' mean and standard "
               "deviation itself",
}
#: train's options that set a ConvNet hyperparameter of the same name
PASSED = ("early_stopping", "validation_fraction", "n_iter_no_change", "class_weight",
          "optimizer", "momentum", "weight_decay")


def refuse_options() -> None:
    """A usage error, with the reason, for an option of train given with --model convnet
    that has no meaning for it."""
    ctx = click.get_current_context()
    for name, why in NO_MEANING.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            flag = "--" + name.replace("_", "-")
            raise click.BadParameter(f"does not apply to --model convnet: {why}.",
                                     param_hint=f"'{flag}'")


def convnet_params(learning_rate, iterations, batch_size, seed, device,
                   settings: tuple[str, ...], training: dict[str, Any],
                   layers_file: Path | None = None) -> dict[str, Any]:
    """The ConvNet's hyperparameters - or, with ``layers_file``, a network's of those layers
    (``NetworkClassifier``'s) -: the defaults, train's options, then each --param."""
    from logicat.cli.options import OPTION_OF, check_hyperparameters
    from logicat.training.hyperparameters import (
        CONVNET_CONSTRAINTS,
        CONVNET_DEFAULTS,
        NETWORK_DEFAULTS,
    )

    defaults = CONVNET_DEFAULTS if layers_file is None else NETWORK_DEFAULTS
    params = dict(defaults)
    if layers_file is not None:
        from logicat.layers import read_layers

        params["layers"] = _layers_of(read_layers, layers_file)
    given = {"learning_rate": learning_rate, "max_iter": iterations, "batch_size": batch_size,
             "random_state": seed, "device": device}
    params.update({k: v for k, v in given.items() if v is not None})
    ctx = click.get_current_context()
    for name in PASSED:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            params[name] = training[name]
    source_of = {k: OPTION_OF[k] for k, v in given.items() if v is not None and k in OPTION_OF}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in defaults or name in ("callbacks", "verbose", "layers"):
            if layers_file is not None and name in CONVNET_DEFAULTS:
                raise click.BadParameter(f"{name} is the ConvNet's architecture; the layers of "
                                         f"{layers_file} are this network's.",
                                         param_hint="'--param'")
            known = ", ".join(k for k in defaults if k not in ("callbacks", "verbose", "layers"))
            raise click.BadParameter(f"expected NAME=VALUE with NAME one of {known}. Got "
                                     f"{setting!r}.", param_hint="'--param'")
        params[name] = _value(text, defaults[name])
        source_of[name] = "--param"
    check_hyperparameters(CONVNET_CONSTRAINTS, params, source_of)  # each named by its source
    return params


def _layers_of(read_layers, path: Path) -> list:
    """The layers of ``path``, checked against the images' shape later (by the fit); a file
    that is no list of layers is train's one-line error, naming it."""
    from logicat.core.errors import LogicatError
    from logicat.nn.families import PRESETS

    if str(path) in PRESETS and not Path(path).exists():  # --layers resnet8
        return str(path)
    if not Path(path).exists() and Path(path).suffix == "":
        raise click.BadParameter(f"{path}: no such layers file, nor a preset (one of "
                                 f"{', '.join(PRESETS)}).", param_hint="'--layers'")
    try:
        return read_layers(path)
    except LogicatError as e:
        raise click.BadParameter(str(e), param_hint="'--layers'") from None


def _value(text: str, default: Any) -> Any:
    """A --param value in the type of its default: "16,32,64" for sizes, true/false, numbers."""
    text = text.strip()
    if isinstance(default, tuple):
        try:
            return tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            return text
    if isinstance(default, bool):
        return {"true": True, "false": False}.get(text.lower(), text)
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def refuse_processes(params: dict[str, Any]) -> None:
    """A usage error for --nproc with an ensemble or a calibration: several fits, one after the
    other, where --nproc spreads one (said before any process starts)."""
    if params["n_members"] > 1 or params["calibration"] is not None:
        what = (f"an ensemble of {params['n_members']} members" if params["n_members"] > 1
                else "a calibrated ConvNet (calibration=temperature)")
        raise click.BadParameter(
            f"{what} is trained as several fits, one after the other, and --nproc spreads one: "
            "drop it, or train with n_members=1 and no calibration.", param_hint="'--nproc'")


def _what_trains(params: dict[str, Any]) -> str:
    """"An ensemble of 3 ConvNets, each trained on all folds but one of 3; its logits
    calibrated by ...": what a run of several fits is about to do."""
    k = params["n_members"]
    if k == 1:
        text = "One ConvNet"
    elif params["members"] == "folds":
        text = f"An ensemble of {k} ConvNets, each trained on all folds but one of {k}"
    else:
        text = f"An ensemble of {k} ConvNets, each with its own seed"
    if params["calibration"]:
        text += ("; its logits calibrated by a temperature fitted on out-of-fold logits of the "
                 "training images")
    return text + "."


def check_ensemble_resume(training: dict[str, Any], path: Path) -> None:
    """``--resume`` of an ensemble needs its first fit's checkpoint."""
    first = member_checkpoint(path, "member-1")
    if training["resume"] and not first.is_file():
        raise click.BadParameter(f"{first}: no such checkpoint file (an ensemble keeps one "
                                 "checkpoint per fit beside --checkpoint).",
                                 param_hint="'--resume'")


def train_convnet(params: dict[str, Any], data: tuple, train_file: Path | None,
                  print_every: int | None, out: Path, plot: Path | None,
                  training: dict[str, Any], chunk_rows: int, group=None,
                  inputs: list = (), test_file: Path | None = None) -> None:
    """Train, print the epochs' costs and the accuracies, save the model (and its curve).

    On the cat data: train and test accuracy; on your photos (``--images``), the same on their
    held-out part (or ``--test-images``), saying so. From ``--train-file`` (a file ``logicat pack``
    wrote): the accuracy on its images and, with ``--early-stopping``, on the part held out;
    the cat data's test set says nothing of the user's photos, so it is not scored. Under
    ``torchrun`` (``group``, a ``engines.torch.distributed.ProcessGroup``) every process trains
    on its share of each batch; only rank 0 prints, checkpoints and saves. ``inputs``: what the
    command reads, that no checkpoint of an ensemble's fits may overwrite.
    """
    from logicat.cli import training_options as topts
    from logicat.cli.datasets import accuracy_lines, training_set, validation_line
    from logicat.cli.resume import trains_on
    from logicat.cli.saving import save_and_plot
    from logicat.core.paths import check_outputs
    from logicat.data import file_sha256
    from logicat.data.features import images_to_features, preprocessing_spec
    from logicat.evaluate.metrics import accuracy_percent
    from logicat.training.checkpointing import fit_planned
    from logicat.training.fit import early_stopping_message
    from logicat.training.labels import check_both_classes

    several = params["n_members"] > 1 or params["calibration"] is not None
    # an ensemble's checkpoints are one per fit, beside the path given (check_ensemble_resume)
    checkpoint = topts.check_checkpoint_options(
        {**training, "resume": training["resume"] and not several}, out)
    main = group is None or group.is_main
    bar, callbacks = topts.progress(training, 10 if print_every is None else print_every,
                                    "epoch")
    if group is not None:
        refuse_processes(params)
    if several:
        check_ensemble_resume(training, checkpoint)
        check_outputs([(f"the checkpoint of {label}", member_checkpoint(checkpoint, label))
                       for label in fit_labels(params)], inputs)

    def fit(images, y):
        if not main:  # the other ranks: the same fit, without books, resumed from the same file
            return fit_planned(params, images, y, topts.checkpoint_plan(training, checkpoint),
                               main=False, distributed=True)
        try:
            return topts.fit_with_checkpoints(params, images, y, training, checkpoint,
                                              callbacks, "epoch", distributed=group is not None)
        finally:
            bar.close()

    if several and main:
        click.echo(_what_trains(params))
    metrics: dict[str, float] = {}
    if train_file is None:
        image_set = training_set(*data, echo=click.echo if main else lambda *_: None)
        trains_on(training, image_set.training_data)
        data = image_set.data
        check_both_classes(data.train_y, image_set.train_name)
        done = fit(data.train_x, data.train_y)
        if not main:
            return
        model = done.to_model(params)
        predicted, y = model.predict(images_to_features(data.train_x)), data.train_y
        test_accuracy = accuracy_percent(model.predict(images_to_features(data.test_x)),
                                         data.test_y)
        classes, size, n = list(data.classes), data.train_x.shape[1], len(data.train_y)
        trained_on = image_set.training_data
    else:
        from logicat.data.chunks import H5Images

        with H5Images(train_file) as source:
            if main:
                click.echo(f"Training on {train_file}: {source.m} images of "
                           f"{source.image_size}x{source.image_size} ({source.classes[1]}: "
                           f"{int(source.y.sum())}, {source.classes[0]}: "
                           f"{source.m - int(source.y.sum())}), read a mini-batch at a time")
            done = fit(source, source.y)
            if not main:
                return
            model = done.to_model(params)
            predicted = np.concatenate([model.predict(images_to_features(X.reshape(
                len(X), source.image_size, source.image_size, 3)))
                for _, _, X in source.chunks(chunk_rows)])
            classes, size, n = list(source.classes), source.image_size, source.m
            y, test_accuracy = source.y, None
        trained_on = {"file": Path(train_file).name, "sha256": file_sha256(train_file),
                      "n_samples": n}
        if test_file is not None:  # the user's held-out file
            from logicat.cli.datasets import score_test_file

            test_lines, scored, record = score_test_file(model, test_file, size, chunk_rows)
            test_accuracy = scored["test_accuracy"]
            trained_on.update(record)
    metrics["train_accuracy"] = accuracy_percent(predicted, y)
    if test_accuracy is not None:
        metrics["test_accuracy"] = test_accuracy
    if done.held_out is not None:
        rows = done.held_out
        metrics["validation_accuracy"] = accuracy_percent(predicted[rows], y[rows])
    stopped = early_stopping_message(done.result, unit="epoch")
    if stopped:
        click.echo(stopped)
    if several:
        click.echo(f"output: {model.output.describe()}")
    if test_file is not None:
        lines = [f"train accuracy: {metrics['train_accuracy']} %", *test_lines]
    elif test_accuracy is not None:
        lines = accuracy_lines(image_set, metrics["train_accuracy"], test_accuracy)
    else:
        lines = [f"train accuracy: {metrics['train_accuracy']} %"]
    if "validation_accuracy" in metrics:
        lines.append(validation_line(metrics["validation_accuracy"], len(done.held_out)))
    for line in lines:
        click.echo(line)
    save_and_plot(
        model, out, plot, "Learning curve (mean training loss of each epoch)",
        preprocessing=preprocessing_spec(size), class_names=classes,
        positive_class=classes[1], training_data=trained_on, metrics=metrics,
    )

