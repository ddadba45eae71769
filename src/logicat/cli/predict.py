"""``logicat predict``: p(cat) for image files and folders of images."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import model_option


@click.command()
@model_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Processes decoding images [default: the CPUs available].")
def predict(model_path, paths, workers):
    """Print p(positive class) and the label of each image in PATHS (files or folders).

    Folders are searched recursively for image files. Unreadable files are reported on stderr
    and skipped; the exit status is then 1.
    """
    import numpy as np

    from logicat.data.decode import iter_decoded
    from logicat.data.folders import image_files
    from logicat.files import read_model

    model = read_model(model_path)
    spec = model.preprocessing
    if not spec:
        raise click.ClickException(f"{model_path}: this model was not trained on images.")
    files = [f for path in paths for f in (image_files(path) if path.is_dir() else [path])]
    if not files:
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}.")
    # Decoded by worker processes, a batch at a time; each batch is predicted as it arrives.
    ok_paths, failures, probas = [], [], []
    for images, ok, bad in iter_decoded(files, spec["image_size"], workers=workers):
        if ok:
            probas.append(model.proba(model.features(images)))
        ok_paths += ok
        failures += bad
    if ok_paths:
        proba = np.concatenate(probas)
        width = max(len(str(p)) for p in ok_paths)
        for path, p, label in zip(ok_paths, proba, model.label_names(proba), strict=True):
            click.echo(f"{str(path):<{width}}  p({model.positive_class}) = {p:.4f}  {label}")
    for path, reason in failures:
        click.echo(f"Error: {path}: {reason}", err=True)
    if failures:
        raise SystemExit(1)
