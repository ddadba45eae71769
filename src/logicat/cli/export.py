"""``logicat export``: a trained model in another format (ONNX) for other runtimes."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import writable_output


@click.command()
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="Output format.")
@click.option("--input", "input_kind", type=click.Choice(["images", "features"]),
              default="images", show_default=True,
              help="What the exported graph takes: uint8 images (N, 64, 64, 3), or the "
              "features (N, 12288) = pixels / 255.")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", metavar="OUT", type=click.Path(path_type=Path))
def export(fmt, input_kind, model_path, out):
    """Export the model file MODEL (from 'logicat train') to OUT, e.g. model.onnx.

    The ONNX graph outputs 'probability' (of the positive class) and 'logit' for each image;
    run it with onnxruntime, e.g. session.run(["probability"], {"images": batch}).
    """
    from logicat.model_io import load_model
    from logicat.torch_backend.export import export_onnx

    writable_output(out, "ONNX")
    clf = load_model(model_path)
    export_onnx(clf, out, input=input_kind)
    click.echo(f"Saved the {fmt.upper()} model to {out}")
