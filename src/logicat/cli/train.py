"""``logicat train``: the lesson's training run, with its cost table, accuracies and model file.

It trains through ``logicat.training.fit`` - the pipeline ``LogisticRegression.fit`` uses - on
the features of the cat data, and writes a ``logicat.model.Model``: no scikit-learn is imported,
so the command starts as fast as the lesson's own script.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from logicat.cli.datasets import (
    DEFAULT_IMAGE_SIZE,
    check_image_size,
    check_test_file,
    image_inputs,
    image_options,
)
from logicat.cli.options import PositiveFloat, Sizes, data_dir_option, data_files
from logicat.cli.training_options import default_checkpoint, training_options
from logicat.core.paths import check_outputs

ENGINES = ("numpy", "autograd", "torch")
INITS = ("zeros", "random", "small_normal", "lecun_normal", "he_normal", "glorot_uniform")


@click.command()
@data_dir_option
@click.option("--model", "kind", type=click.Choice(["logistic", "mlp", "convnet"]),
              default=None,
              help="Logistic regression, a network with hidden layers (mlp: the course's "
              "deep model 20,7,5 unless --hidden says) or a convolutional network (convnet: "
              "the recipe chosen by cross-validation) [default: logistic, or mlp with "
              "--hidden].")
@click.option("--hidden", type=Sizes(), default=None, metavar="SIZES",
              help="Hidden layer sizes, e.g. 7 or 20,7,5 (a network; none: logistic regression).")
@click.option("--activation", type=click.Choice(["relu", "tanh", "sigmoid"]), default=None,
              help="Activation of the hidden layers [default: relu].")
@click.option("--init", type=click.Choice(INITS), default=None,
              help="Initial weights [default: zeros for logistic regression (the lesson), "
              "lecun_normal for a network (the course's deep model)]; with --seed N the "
              "course's np.random.seed(N) numbers.")
@click.option("--learning-rate", "-a", type=PositiveFloat(), default=None,
              help="Gradient-descent step size alpha [default: 0.005, 0.0075 for a network].")
@click.option("--iterations", "-n", type=click.IntRange(min=1), default=None,
              help="Full-batch gradient-descent iterations [default: 2000, 2500 for a "
              "network]; epochs with --batch-size and for a ConvNet [default: 120].")
@click.option("--loss", type=click.Choice(["cross_entropy", "squared_error"]),
              default="cross_entropy", show_default=True)
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True)
@click.option("--engine", type=click.Choice(ENGINES), default="numpy", show_default=True,
              help="Who computes the gradients: numpy (hand-derived), autograd (logicat's graph) "
              "or torch (PyTorch).")
@click.option("--print-every", type=click.IntRange(min=0), default=100, show_default=True,
              help="Print the cost every N iterations (0: never).")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("model.safetensors"),
              show_default=True, help="Where to save the trained model.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Also save the learning curve (.png, .svg or .pdf).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where the torch engine runs (auto: CUDA if available).")
@click.option("--nproc", type=click.IntRange(min=1), default=None,
              help="Train data-parallel in N local processes (--engine torch, or --model "
              "convnet; starts torchrun).")
@click.option("--train-file", type=click.Path(path_type=Path), default=None,
              help="Train on this HDF5 file (cat-data layout: your photos, from `logicat "
              "pack`), streamed so memory stays bounded (a ConvNet reads it a mini-batch at a "
              "time).")
@click.option("--test-file", type=click.Path(path_type=Path), default=None,
              help="With --train-file: an HDF5 file of other images in the same layout "
              "(`logicat pack`), scored once after training: the held-out accuracy.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Mini-batch SGD with this batch size (1: stochastic); --iterations then "
              "counts epochs. Without it: exact full-batch gradient descent.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The seed of the shuffling (and of the --early-stopping split).")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=512, show_default=True,
              help="With --train-file: images read per chunk.")
@click.option("--layers", "layers_file", type=click.Path(path_type=Path), default=None,
              metavar="FILE",
              help="Train a network of your own layers: a JSON list, one object per layer "
              "(the list a model file's architecture holds; logicat.layers.write_layers "
              "writes one), ending in one logit - or a preset: resnet8, resnet10, resnet14. "
              "It trains as --model convnet does (its --param settings but the ConvNet's "
              "widths).")
@click.option("--param", "settings", multiple=True, metavar="NAME=VALUE",
              help="With --model convnet: one of its hyperparameters (ConvNetClassifier's "
              "names), e.g. --param widths=16,32,64 --param tta=false; repeatable.")
@image_options
@training_options
def train(**options):
    """Train the cat classifier by gradient descent and report train/test accuracy.

    The defaults are the lesson's reference run: zero initialisation, learning rate 0.005,
    2000 full-batch iterations, cross-entropy. With --hidden (or --model mlp), a network: the
    course's deep model is 'logicat train --hidden 20,7,5 --seed 1' (relu, lecun_normal,
    learning rate 0.0075, 2500 iterations), its two-layer model 'logicat train --hidden 7
    --init small_normal --seed 1'. With --model convnet, the ConvNet (PyTorch, data
    augmentation; --iterations counts epochs, --print-every defaults to 10 epochs).

    Ctrl-C saves a checkpoint that records the run: 'logicat train --resume --checkpoint
    FILE' goes on with it (options given then may change how long it runs and where it
    writes, not what it trains).
    """
    from logicat.core.errors import UsageError

    ctx = click.get_current_context()
    try:
        if options["resume"] and options["checkpoint"] is not None:
            from logicat.cli.resume import resumed_context

            resumed, run = resumed_context(ctx, options["checkpoint"])
            if resumed is not None:
                with resumed:
                    return _train(resumed_from=run, **resumed.params)
        return _train(**options)
    except UsageError as e:  # under train's usage line, not the group's
        raise click.UsageError((str(e).strip().splitlines() or [''])[0], ctx=ctx) from None


def _train(data_dir, kind, hidden, activation, init, learning_rate, iterations, loss, dtype,
           engine, print_every, out, plot, device, nproc, train_file, test_file, batch_size,
           seed, chunk_rows, layers_file, settings, images, test_images, test_fraction,
           positive, image_size, resumed_from=None, **training):
    """``train``'s run, from its options (the ones given, or those of the run resumed)."""
    from logicat.cli import resume as resuming
    from logicat.cli import training_options as topts
    from logicat.cli.options import check_hyperparameters
    from logicat.training.hyperparameters import CONSTRAINTS

    if images is not None and train_file is not None:
        raise click.BadParameter("trains on a packed file; --images on a folder: give one.",
                                 param_hint="'--train-file'")
    if layers_file is not None:
        if kind not in (None, "convnet"):
            raise click.BadParameter(f"trains a network of your layers, not --model {kind}.",
                                     param_hint="'--layers'")
        kind = "convnet"  # the image networks' machinery
    if device == "cuda" and (kind == "convnet" or engine == "torch"):
        _check_cuda()
    check_image_size(image_size, images, train_file)
    if test_file is not None and train_file is None:
        raise click.BadParameter("scores the model of a --train-file; the cat data is tested on "
                                 "its own test file, --images on the photos it holds out "
                                 "(or --test-images).", param_hint="'--test-file'")
    resume, ckpt = training["resume"], training["checkpoint"]
    inputs = [*data_files(data_dir).items(), ("--train-file", train_file),
              ("--test-file", test_file), ("--layers", layers_file),
              ("the checkpoint resumed (--checkpoint)", ckpt if resume else None),
              *image_inputs(images, test_images, positive)]
    check_outputs({"--out": out, "--plot": plot, "--checkpoint": None if resume else ckpt,
                   "the checkpoint Ctrl-C saves": None if ckpt or not out.name
                   else default_checkpoint(out),
                   "--log-csv": training["log_csv"]}, inputs)
    if plot is not None:
        _check_plot(plot)
    if test_file is not None:
        check_test_file(train_file, test_file)
    ctx = click.get_current_context()
    training.update(run=resuming.record(ctx), resumed=resumed_from)
    data = (data_dir, images, test_images, test_fraction, positive, seed, image_size)
    if images is not None and nproc is not None:  # decode once, before the processes start
        from logicat.data.folder_cache import load_cached

        for folder in (images, test_images):
            if folder is not None:
                load_cached(folder, positive, image_size or DEFAULT_IMAGE_SIZE)
    if kind == "convnet":
        from logicat.cli import train_images

        train_images.refuse_options()
        given = ctx.get_parameter_source("print_every").name != "DEFAULT"
        params = train_images.convnet_params(learning_rate, iterations, batch_size, seed,
                                              device, settings, training, layers_file)
        group = None
        if nproc is not None or int(os.environ.get("WORLD_SIZE", "1")) > 1:
            from logicat.cli.distributed import command_line_args
            from logicat.engines.torch import distributed

            if nproc is not None:  # start N processes of this same command, without --nproc
                train_images.refuse_processes(params)
                args = ["logicat", *command_line_args(ctx, drop=("nproc",), given_only=True)]
                raise SystemExit(distributed.run_torchrun(nproc, args))
            group = distributed.ProcessGroup(device)
            ctx.call_on_close(group.close)
        return train_images.train_convnet(params, data, train_file,
                                           print_every if given else None, out, plot,
                                           training, chunk_rows, group, inputs, test_file)
    if settings:
        raise click.BadParameter("sets a ConvNet's hyperparameters: give --model convnet.",
                                 param_hint="'--param'")
    params = {
        **architecture_params(kind, hidden, activation, init, learning_rate, iterations),
        "loss": loss, "dtype": dtype, "engine": engine, "device": device,
        "batch_size": batch_size, "random_state": seed, **topts.training_params(training),
    }
    check_hyperparameters(CONSTRAINTS, params)
    if train_file is not None:
        topts.refuse_with_train_file(training)
        if engine == "torch" or nproc is not None:
            raise click.BadParameter("--train-file trains with the numpy or autograd engine.",
                                     param_hint="'--engine'")
        from logicat.cli.out_of_core import train_from_file

        return train_from_file(params, train_file=train_file, data_dir=data_dir,
                               progress=topts.progress(training, print_every, "iteration"
                                                       if batch_size is None else "epoch"),
                               out=out, plot=plot, chunk_rows=chunk_rows, test_file=test_file,
                               training=training,
                               checkpoint=topts.check_checkpoint_options(training, out))

    processes = engine == "torch" and (nproc is not None
                                       or int(os.environ.get("WORLD_SIZE", "1")) > 1)
    checkpoint = topts.check_checkpoint_options(training, out, processes)
    group = None  # under torchrun: this process's rank; it reads only its shard of the data
    if processes:
        from logicat.cli.distributed import command_line_args
        from logicat.engines.torch import distributed

        if nproc is not None:
            ctx = click.get_current_context()
            args = ["logicat", *command_line_args(ctx, drop=("nproc",))]
            raise SystemExit(distributed.run_torchrun(nproc, args))
        group = distributed.ProcessGroup(device)
        click.get_current_context().call_on_close(group.close)
    elif nproc is not None:
        raise click.BadParameter("needs --engine torch.", param_hint="'--nproc'")

    import numpy as np

    from logicat.cli.datasets import (
        accuracy_lines,
        cat_data_set,
        training_set,
        validation_line,
    )
    from logicat.cli.saving import save_and_plot
    from logicat.data import find_catvnoncat
    from logicat.data.features import images_to_features, preprocessing_spec
    from logicat.evaluate.metrics import accuracy_percent, percent_correct
    from logicat.training.fit import early_stopping_message
    from logicat.training.labels import check_both_classes

    if group is None:
        image_set = training_set(*data)
        data = image_set.data
        check_both_classes(data.train_y, image_set.train_name)
    else:
        if images is not None:
            raise click.BadParameter("--engine torch --nproc reads shards of the cat data; "
                                     "train on your photos in one process or with --model "
                                     "convnet --nproc.", param_hint="'--images'")
        folder = find_catvnoncat(data_dir)
        data = distributed.load_catvnoncat_shard(folder, group)
        image_set = cat_data_set(folder, data)
    resuming.trains_on(training, image_set.training_data)
    n_train = len(data.train_y) if group is None else int(group.sum(len(data.train_y)))
    X_train = images_to_features(data.train_x, dtype=dtype)

    unit = "iteration" if batch_size is None else "epoch"
    bar, callbacks = topts.progress(training, print_every, unit)
    if group is not None and not group.is_main:
        callbacks = []
    try:
        done = topts.fit_with_checkpoints(params, X_train, data.train_y, training, checkpoint,
                                          callbacks)
    finally:
        bar.close()
    model = done.to_model(params)

    predicted = model.predict(X_train)
    if group is None:
        train_acc = accuracy_percent(predicted, data.train_y)
    else:  # over every process's shard: the lesson's formula from the summed counts
        train_acc = percent_correct(group.sum(float(np.sum(np.abs(predicted - data.train_y)))),
                                    group.sum(float(len(data.train_y))))
    if group is not None and not group.is_main:
        return  # only rank 0 prints and writes
    stopped = early_stopping_message(done.result, unit)
    if stopped:
        click.echo(stopped)
    test_acc = accuracy_percent(model.predict(images_to_features(data.test_x, dtype=dtype)),
                                data.test_y)
    metrics = {"train_accuracy": train_acc, "test_accuracy": test_acc}
    lines = accuracy_lines(image_set, train_acc, test_acc)
    if done.held_out is not None and group is None:  # early stopping's rows, as the ConvNet's
        rows = done.held_out
        metrics["validation_accuracy"] = accuracy_percent(predicted[rows], data.train_y[rows])
        lines.append(validation_line(metrics["validation_accuracy"], len(rows)))
    for line in lines:
        click.echo(line)
    save_and_plot(
        model, out, plot, f"Learning curve ({loss.replace('_', '-')}, {dtype})",
        preprocessing=preprocessing_spec(data.train_x.shape[1]),
        class_names=list(data.classes),
        positive_class=data.classes[1],
        training_data={**image_set.training_data, "n_samples": n_train},
        metrics=metrics,
    )


def architecture_params(kind, hidden, activation, init, learning_rate, iterations) -> dict:
    """The model's hyperparameters: its defaults (``training.hyperparameters``), with what the
    options say. A network when --hidden or --model mlp asks for one."""
    from logicat.training.hyperparameters import DEFAULTS, MLP_DEFAULTS

    network = kind == "mlp" or (kind is None and hidden is not None)
    if not network:
        for name, value in (("--hidden", hidden), ("--activation", activation)):
            if value is not None:
                raise click.BadParameter("needs a network (--model mlp), not logistic "
                                         "regression.", param_hint=f"'{name}'")
    params = dict(MLP_DEFAULTS if network else DEFAULTS)
    given = {"hidden_layer_sizes": hidden, "activation": activation, "init": init,
             "learning_rate": learning_rate, "max_iter": iterations}
    params.update({k: v for k, v in given.items() if v is not None})
    return params


def _check_cuda() -> None:
    """``--device cuda`` where PyTorch sees no CUDA device: a usage error in train's words,
    before any work (``training.torch_solver.resolve_device`` is the rule)."""
    from logicat.core.errors import ParameterError
    from logicat.training.torch_solver import resolve_device

    try:
        resolve_device("cuda")
    except ParameterError:
        import torch

        raise click.UsageError(f"--device cuda: this PyTorch ({torch.__version__}) sees no CUDA "
                               "device; use --device cpu or auto.",
                               ctx=click.get_current_context()) from None


def _check_plot(plot: Path) -> None:
    from logicat.core.errors import LogicatError
    from logicat.viz.canvas import check_plot_path

    try:
        check_plot_path(plot)
    except LogicatError as e:
        raise click.BadParameter(str(e), param_hint="'--plot'") from None
