"""``logicat predict``: p(cat) for image files and folders of images."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import model_option

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


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

    from logicat.fast.loader import iter_decoded
    from logicat.features import apply_preprocessing
    from logicat.model_io import load_model

    clf = load_model(model_path)
    meta = clf.metadata_
    spec = meta.get("preprocessing")
    if not spec:
        raise click.ClickException(f"{model_path}: this model was not trained on images.")
    files = list(_expand(paths))
    if not files:
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}.")
    # Decoded by worker processes, a batch at a time; each batch is predicted as it arrives.
    ok_paths, failures, probas = [], [], []
    for images, ok, bad in iter_decoded(files, spec["image_size"], workers=workers):
        if ok:
            features = apply_preprocessing(images, spec, clf.coef_.dtype)
            probas.append(clf.predict_proba(features)[:, 1])
        ok_paths += ok
        failures += bad
    if len(ok_paths):
        proba = np.concatenate(probas)
        names = meta.get("class_names", [str(c) for c in clf.classes_])
        positive = meta.get("positive_class", names[1])
        width = max(len(str(p)) for p in ok_paths)
        for path, p in zip(ok_paths, proba, strict=True):
            label = names[1] if p > 0.5 else names[0]
            click.echo(f"{str(path):<{width}}  p({positive}) = {p:.4f}  {label}")
    for path, reason in failures:
        click.echo(f"Error: {path}: {reason}", err=True)
    if failures:
        raise SystemExit(1)


def _expand(paths):
    """Files as given; folders recursively, image files only, in sorted order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path
