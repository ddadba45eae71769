"""``logicat train --model convnet``: the ConvNet on the cat images, reported like every model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

#: train's options that mean something for the dense models only
DENSE_ONLY = ("hidden", "activation", "init", "loss", "dtype", "engine", "nproc", "train_file",
              "chunk_rows", "solver", "alpha", "optimizer", "momentum", "shuffle", "lr_schedule",
              "lr_decay", "tol", "n_iter_no_change", "early_stopping", "validation_fraction",
              "class_weight", "scaling", "checkpoint", "checkpoint_every", "resume")


def refuse_dense_options() -> None:
    """A usage error for each option of train that was given but does not apply to a ConvNet."""
    ctx = click.get_current_context()
    for name in DENSE_ONLY:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            flag = "--" + name.replace("_", "-")
            raise click.BadParameter("does not apply to --model convnet (its hyperparameters "
                                     "are set with --param NAME=VALUE).", param_hint=f"'{flag}'")


def convnet_params(learning_rate, iterations, batch_size, seed, device,
                   settings: tuple[str, ...]) -> dict[str, Any]:
    """The ConvNet's hyperparameters: its defaults, train's options, then each --param."""
    from logicat.errors import ParameterError
    from logicat.training.hyperparameters import CONVNET_CONSTRAINTS, CONVNET_DEFAULTS
    from logicat.validation import check_params

    params = dict(CONVNET_DEFAULTS)
    given = {"learning_rate": learning_rate, "max_iter": iterations, "batch_size": batch_size,
             "random_state": seed, "device": device}
    params.update({k: v for k, v in given.items() if v is not None})
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in CONVNET_DEFAULTS or name == "callbacks":
            known = ", ".join(k for k in CONVNET_DEFAULTS if k != "callbacks")
            raise click.BadParameter(f"expected NAME=VALUE with NAME one of {known}. Got "
                                     f"{setting!r}.", param_hint="'--param'")
        params[name] = _value(text, CONVNET_DEFAULTS[name])
    try:
        check_params(CONVNET_CONSTRAINTS, {k: v for k, v in params.items()
                                           if k in CONVNET_CONSTRAINTS})
    except ParameterError as e:
        raise click.BadParameter(str(e), param_hint="'--param'") from None
    return params


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


def train_convnet(params: dict[str, Any], data_dir: Path | None, print_every: int | None,
                  out: Path, plot: Path | None) -> None:
    """Train, print the epochs' costs and both accuracies, save the model (and its curve)."""
    from logicat.cli.saving import save_and_plot
    from logicat.data import TRAIN_FILE, file_sha256, find_catvnoncat, load_catvnoncat
    from logicat.features import images_to_features, preprocessing_spec
    from logicat.metrics import accuracy_percent
    from logicat.training.callbacks import PrintCost, ProgressBar
    from logicat.training.convnet import fit_convnet

    folder = find_catvnoncat(data_dir)
    data = load_catvnoncat(folder)
    bar = ProgressBar()
    callbacks = [PrintCost(10 if print_every is None else print_every, write=bar.write,
                           unit="epoch"), bar]
    try:
        done = fit_convnet(params, data.train_x, data.train_y, callbacks)
    finally:
        bar.close()
    model = done.to_model(params)
    train_acc = accuracy_percent(model.predict(images_to_features(data.train_x)), data.train_y)
    test_acc = accuracy_percent(model.predict(images_to_features(data.test_x)), data.test_y)
    click.echo(f"train accuracy: {train_acc} %")
    click.echo(f"test accuracy: {test_acc} %")
    save_and_plot(
        model, out, plot, "Learning curve (mean training loss of each epoch)",
        preprocessing=preprocessing_spec(data.train_x.shape[1]),
        class_names=list(data.classes), positive_class=data.classes[1],
        training_data={"file": TRAIN_FILE, "sha256": file_sha256(folder / TRAIN_FILE),
                       "n_samples": len(data.train_y)},
        metrics={"train_accuracy": train_acc, "test_accuracy": test_acc},
    )
