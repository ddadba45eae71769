"""``logicat export``: a trained model in another format (ONNX) for other runtimes."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import (
    model_option_or_argument,
    one_model,
    prior_option,
)
from logicat.core.paths import check_outputs


@click.command()
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="Output format.")
@click.option("--input", "input_kind", type=click.Choice(["images", "features"]),
              default="images", show_default=True,
              help="What the exported graph takes: uint8 images (N, s, s, 3) of the model's "
              "size s (64 for the cat data; `logicat info` says), or the features (N, 3*s*s) "
              "= pixels / 255.")
@model_option_or_argument
@click.argument("out", metavar="OUT", type=click.Path(path_type=Path), required=False)
@prior_option
def export(fmt, input_kind, model_opt, model_arg, out, prior):
    """Export a model file (from 'logicat train', as -m MODEL or as the first argument) to OUT,
    e.g. 'logicat export -m model.safetensors model.onnx' or 'logicat export model.safetensors
    model.onnx'.

    The ONNX graph outputs 'probability' (of the positive class) and 'logit' for each image,
    after the model's output step (an ensemble's members, a calibration, --prior); run it with
    onnxruntime, e.g. session.run(["probability"], {"images": batch}).

    The graph takes images of the model's size only (64x64 for the cat data; train
    --image-size N for your photos): resize each one first as logicat does, Lanczos without
    keeping the aspect ratio - logicat.load_image(path, size=N), or with PIL
    Image.open(path).convert('RGB').resize((N, N), Image.LANCZOS). The line it prints says N.
    """
    from logicat.io.files import read_model
    from logicat.io.onnx import export_onnx

    if model_opt is not None and out is None:  # logicat export -m MODEL OUT: OUT came first
        model_arg, out = None, model_arg
    if out is None:
        raise click.UsageError("Missing argument 'OUT'.")
    model_path = one_model(model_opt, model_arg)
    check_outputs({"OUT": out}, {"the model": model_path})
    model = read_model(model_path).at_prior(prior)
    export_onnx(model, out, input=input_kind)
    click.echo(f"Saved the {fmt.upper()} model to {out}")
    size = int(model.preprocessing["image_size"]) if model.preprocessing else None
    if input_kind == "images" and size is not None:
        from logicat.io.onnx import input_doc

        click.echo(f"Its input 'images' takes {input_doc(size)}.")
