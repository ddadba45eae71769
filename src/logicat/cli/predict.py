"""``logicat predict``: p(cat) for image files and folders of images."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--model", "-m", "model_paths", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A model file written by 'logicat train'; give -m several times to see "
              "the models' answers side by side.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Processes decoding images [default: the CPUs available].")
def predict(model_paths, paths, workers):
    """Print p(positive class) and the label of each image in PATHS (files or folders).

    Folders are searched recursively for image files. Unreadable files are reported on stderr
    and skipped; the exit status is then 1 (with one last error line if none could be read).
    With several -m, one column per model, in order (each model decodes the images at its own
    size).
    """
    import numpy as np

    from logicat.data.decode import iter_decoded
    from logicat.data.folders import image_files
    from logicat.files import read_model

    models = [read_model(path) for path in model_paths]
    for path, model in zip(model_paths, models, strict=True):
        model.image_preprocessing(path)
    files = [f for path in paths for f in (image_files(path) if path.is_dir() else [path])]
    if not files:
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}.")
    sizes = sorted({int(model.preprocessing["image_size"]) for model in models})
    # Decoded by worker processes, a batch at a time; each batch is predicted as it arrives.
    probas: dict[Path, list[float]] = {}
    failures: dict[Path, str] = {}
    for size in sizes:
        chosen = [k for k, model in enumerate(models)
                  if int(model.preprocessing["image_size"]) == size]
        for images, ok, bad in iter_decoded(files, size, workers=workers):
            failures.update(bad)
            if not ok:  # a batch of unreadable files only: nothing to predict
                continue
            for k in chosen:
                for path, p in zip(ok, models[k].proba(models[k].features(images)), strict=True):
                    probas.setdefault(path, [np.nan] * len(models))[k] = float(p)
    ok_paths = [f for f in files if f in probas and f not in failures]
    if ok_paths:
        width = max(len(str(p)) for p in ok_paths)
        if len(models) > 1:
            click.echo((" " * width + "".join(f"  {_column(path, 26)}"
                                              for path in model_paths)).rstrip())
        for path in ok_paths:
            cells = [f"p({m.positive_class}) = {p:.4f}  {m.label_names([p])[0]}"
                     for m, p in zip(models, probas[path], strict=True)]
            click.echo(f"{str(path):<{width}}" + "".join(
                f"  {cell:<26}" if len(models) > 1 else f"  {cell}" for cell in cells).rstrip())
    for path, reason in failures.items():
        click.echo(f"Error: {path}: {reason}", err=True)
    if not ok_paths:
        n = len(files)
        raise click.ClickException("the image could not be read." if n == 1
                                   else f"none of the {n} images could be read.")
    if failures:
        raise SystemExit(1)


def _column(path: Path, width: int) -> str:
    """A model's column header: its file name, cut to fit."""
    name = path.name
    return (name if len(name) <= width else name[:width - 3] + "...").ljust(width)
