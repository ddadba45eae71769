"""``logicat graph``: draw a computation graph, its forward values and its gradients."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import data_dir_option, data_files
from logicat.core.errors import LogicatError
from logicat.core.paths import check_outputs

EXAMPLES = ("abc", "logistic", "vectorized", "convnet")


@click.command()
@click.option("--example", type=click.Choice(EXAMPLES),
              help="abc: J = 3(a + bc); logistic: one example, z -> a -> L(a, y); "
              "vectorized: all m cat images at once, Z = Xw + b -> A -> J; "
              "convnet: a tiny ConvNet (conv, batch norm, ReLU, max-pool, average pool, "
              "linear) on 8 cat images at 16 x 16.")
@click.option("--model", "-m", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Instead of an example: one training step of this model on its training data "
              "(a network: its layers as nodes, the shapes on the edges).")
@data_dir_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Write the picture to FILE.svg, FILE.png, FILE.dot or FILE.txt "
              "[default: text on the terminal].")
@click.option("--format", "fmt", type=click.Choice(["text", "dot", "svg", "png"]), default=None,
              help="Output format [default: from the --out suffix, else text].")
def graph(example, model_path, data_dir, out, fmt):
    """Draw a computation graph after one forward and one backward pass.

    Each node shows its op, its shape, its value and its gradient (the derivative of the
    output by it). Arrows point the way values flow forward; gradients flow back along them.

    \b
    Examples:
      logicat graph --example abc
      logicat graph --example logistic --out logistic.svg
      logicat graph --example convnet --out convnet.svg
      logicat graph --model model.safetensors --out step.png
    """
    from logicat.engines.autograd import draw

    if (example is None) == (model_path is None):
        raise click.UsageError("Give either --example or --model (one of them).")
    if out is not None:
        check_outputs({"--out": out}, {"the model": model_path,
                                       **data_files(data_dir)})
        if fmt is None:
            try:
                fmt = draw.format_for(out)
            except LogicatError as e:
                raise click.BadParameter(str(e), param_hint="'--out'") from None
    fmt = fmt or "text"
    if out is None and fmt in ("svg", "png"):
        raise click.UsageError(f"--format {fmt} writes a file: add --out FILE.{fmt}.")

    if example is not None:
        root, title = _example(example, data_dir)
    else:
        root, title = _model_step(model_path, data_dir)

    if out is None:
        text = draw.dot_of(root, title) if fmt == "dot" else draw.text_of(root, title)
        click.echo(text, nl=False)
        return
    draw.render(root, out, fmt, title)
    click.echo(f"Saved the graph to {out}")


def _cat_training_set(data_dir, dtype="float64", preprocessing=None):
    """Training features (m, n) and 0/1 labels (m,) of the cat data."""
    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.data.features import apply_preprocessing, images_to_features

    data = load_catvnoncat(find_catvnoncat(data_dir))
    if preprocessing:
        X = apply_preprocessing(data.train_x, preprocessing, dtype=dtype)
    else:
        X = images_to_features(data.train_x, dtype=dtype)
    return X, data.train_y


def _example(name: str, data_dir):
    from logicat.engines.autograd import graphs as examples

    if name == "abc":
        return examples.abc(), "J = 3(a + bc)"
    if name == "logistic":
        return examples.logistic(), "One example: z = w1 x1 + w2 x2 + b, a = sigmoid(z), L(a, y)"
    if name == "convnet":
        return _convnet_example(data_dir)
    X, y = _cat_training_set(data_dir)
    m, n = X.shape
    title = f"All m = {m} examples at once: Z = Xw + b, A = sigmoid(Z), J = mean L(A, Y); w = 0"
    return examples.vectorized(X, y.astype(X.dtype)), title


def _convnet_example(data_dir):
    import numpy as np

    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.engines.autograd import layers as engine

    data = load_catvnoncat(find_catvnoncat(data_dir))
    y = data.train_y
    pick = np.concatenate([np.flatnonzero(y == 1)[:4], np.flatnonzero(y == 0)[:4]])
    images = data.train_x[pick, ::4, ::4]  # 8 images, every fourth pixel: (8, 16, 16, 3)
    title = ("A tiny ConvNet on 8 cat images (4 cats) at 16 x 16: conv 3x3 (3 -> 4) -> batch norm "
             "-> ReLU -> max-pool 2 -> average pool -> linear -> z; J = mean cross-entropy")
    return engine.example(images, y[pick]), title


def _convnet_model(model, model_path: Path, data_dir, m: int = 8):
    """A ConvNet's graph in logicat's own engine (``engines.autograd.layers``), as it predicts
    (batch norm on its running statistics), with the gradients of J on m of its training images."""
    import numpy as np

    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.engines.autograd import layers as engine
    from logicat.engines.autograd.tensor import Tensor

    data = load_catvnoncat(find_catvnoncat(data_dir))
    input_shape = (3, *data.train_x.shape[1:3])
    _check_graph_memory(model, model_path, input_shape, np.float64, m)
    net = engine.LayerGraph(model.layers, input_shape)
    trained = set(net.trained_names())
    tensors = {k: Tensor(v.astype(np.float64), requires_grad=True, name=k) if k in trained
               else v.astype(np.float64) for k, v in model.tensors.items()}
    y = Tensor(data.train_y[:m].astype(np.float64), name="y")
    J = net.forward(Tensor(engine.nchw(data.train_x[:m]), name="X"), tensors, y,
                    training=False).cost
    J.backward()
    return J, (f"{model_path.name}: the {model.description} in logicat's own engine, on {m} "
               f"training images (batch norm on its running statistics): "
               f"J = {float(J.data):.6g}")


def _model_step(model_path: Path, data_dir):
    import numpy as np

    from logicat.engines.autograd.graphs import training_step
    from logicat.io.files import read_model
    from logicat.nn.architectures import dense
    from logicat.nn.layers import has, is_linear
    from logicat.nn.scaling import standardize

    model = read_model(model_path)
    layers = model.layers
    if has(layers, "conv2d"):
        return _convnet_model(model, model_path, data_dir)
    hyper = model.metadata.get("hyperparameters") or {}
    X, y = _cat_training_set(data_dir, model.dtype, model.preprocessing)
    if X.shape[1] != model.n_features:
        raise click.ClickException(
            f"{model_path} expects {model.n_features} features per image; the training data "
            f"has {X.shape[1]}."
        )
    _check_graph_memory(model, model_path, (X.shape[1],), X.dtype, X.shape[0])
    found = dense(layers)  # the course's layers: what the lesson's graphs draw
    if found is None:
        raise click.ClickException(f"{model_path}: a {model.description}; the graph of a "
                                   "model of feature vectors draws the course's layers.")
    params = found.weights(layers, model.tensors)
    mean, scale = found.statistics(layers, model.tensors)
    if mean is not None:  # trained on standardised features
        X = standardize(X, mean, scale)
    y01 = (np.asarray(y) == model.classes[1]).astype(X.dtype)
    loss = hyper.get("loss", "cross_entropy")
    lr = float(hyper.get("learning_rate", 0.005))
    if not is_linear(layers):  # hidden layers
        from logicat.engines.autograd.draw import network_graph

        return network_graph(params, found.activation, X, y01, loss), (
            f"{model_path.name}: the {model.description}, one forward and "
            f"backward pass on its m = {X.shape[0]} training images")
    w, b = params
    root = training_step(w, float(b[0]), X, y01, loss, float(hyper.get("alpha") or 0.0))
    title = (
        f"One training step of {model_path.name} ({loss.replace('_', '-')}) on its m = "
        f"{X.shape[0]} training images: J = {float(root.data):.6g}; "
        f"next: w -= {lr:g} * dJ/dw, b -= {lr:g} * dJ/db"
    )
    return root, title


def _check_graph_memory(model, model_path: Path, input_shape: tuple[int, ...], dtype,
                        m: int) -> None:
    """Refuse, before building it, a graph of ``model`` on m examples of ``input_shape`` in
    ``dtype`` that does not fit in memory (``nn.bounds.graph_bytes``): one line naming the
    file, exit 1."""
    from logicat.core.errors import ModelFileError
    from logicat.core.validation import check_memory
    from logicat.nn.bounds import graph_bytes

    check_memory(graph_bytes(model.layers, input_shape, dtype, m),
                 f"{model_path}: its graph on {m} training images, every value and gradient "
                 "kept,", ModelFileError)
