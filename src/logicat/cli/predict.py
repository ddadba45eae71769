"""``logicat predict``: p(cat) for image files and folders of images.

Three formats, on stdout, one entry per input file in input order:

    text   PATH  p(cat) = 0.8123  cat      (several -m: one column per model); unreadable
           files as ``Error: PATH: reason`` on stderr; first, a line saying at which class
           mix the model decides when that is not its training mix (``--prior``)
    json   [{"path", "probability", "label", "positive_class"} | {"path", "error"}, ...];
           several -m: "probabilities", "labels", "positive_classes", each keyed by model path
    csv    path,probability,label,error; several -m: probability:MODEL,label:MODEL per model
"""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import prior_option

FORMATS = ("text", "json", "csv")


@click.command()
@click.option("--model", "-m", "model_paths", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A model file written by 'logicat train'; give -m several times to see "
              "the models' answers side by side.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Processes decoding images [default: the CPUs available].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: aligned lines; json: one list of records; csv: a header and one row "
              "per file. Unreadable files are records (json, csv) or lines on stderr (text).")
@prior_option
def predict(model_paths, paths, workers, fmt, prior):
    """Print p(positive class) and the label of each image in PATHS (files or folders).

    Folders are searched recursively for image files. Unreadable files are reported and
    skipped; the exit status is then 1 (with one last error line if none of several could be
    read).
    With several -m, one column per model, in order (each model decodes the images at its own
    size). With --prior, every model decides at that class mix.
    """
    from logicat.io.files import read_model

    if fmt != "text":
        twice = next((p for i, p in enumerate(model_paths) if p in model_paths[:i]), None)
        if twice is not None:
            raise click.BadParameter(f"expected each model once (--format {fmt} keys the "
                                     f"answers by model file). Got {twice} twice instead.",
                                     param_hint="'--model'")
    models = [read_model(path).at_prior(prior) for path in model_paths]
    for path, model in zip(model_paths, models, strict=True):
        model.image_preprocessing(path)
        model.check_memory()
    files, probas, failures = _predicted(models, paths, workers)
    if fmt == "json":
        import json

        click.echo(json.dumps(records(files, model_paths, models, probas, failures), indent=2,
                              allow_nan=False))
    elif fmt == "csv":
        click.echo(_csv(files, model_paths, models, probas, failures), nl=False)
    else:
        _echo_text(files, model_paths, models, probas, failures)
    if all(f in failures for f in files):
        n = len(files)
        if n == 1 and fmt == "text":  # its one line said why
            raise SystemExit(1)
        raise click.ClickException("the image could not be read." if n == 1
                                   else f"none of the {n} images could be read.")
    if failures:
        raise SystemExit(1)


def _predicted(models, paths, workers):
    """(the image files of paths, {file: [p of each model]}, {unreadable file: reason})."""
    import numpy as np

    from logicat.data.decode import iter_decoded
    from logicat.data.folders import image_files

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
    return files, probas, failures


def records(files, model_paths, models, probas, failures) -> list[dict]:
    """One JSON record per file, in order (see the module docstring)."""
    out = []
    for path in files:
        if path in failures:
            out.append({"path": str(path), "error": failures[path]})
            continue
        answers = [(str(m_path), p, m.label_names([p])[0], m.positive_class)
                   for m_path, m, p in zip(model_paths, models, probas[path], strict=True)]
        if len(models) == 1:
            _, p, label, positive = answers[0]
            out.append({"path": str(path), "probability": p, "label": label,
                        "positive_class": positive})
        else:
            out.append({"path": str(path),
                        "probabilities": {name: p for name, p, _, _ in answers},
                        "labels": {name: label for name, _, label, _ in answers},
                        "positive_classes": {name: c for name, _, _, c in answers}})
    return out


def _csv(files, model_paths, models, probas, failures) -> str:
    """A header and one row per file (``core.csv_cells``: no cell can become a formula)."""
    from logicat.core.csv_cells import csv_text

    if len(models) == 1:
        columns = ["probability", "label"]
    else:
        columns = [f"{what}:{path}" for path in model_paths for what in ("probability", "label")]
    rows = []
    for path in files:
        if path in failures:
            rows.append([path, *[None] * len(columns), failures[path]])
        else:
            cells = [cell for m, p in zip(models, probas[path], strict=True)
                     for cell in (float(p), m.label_names([p])[0])]
            rows.append([path, *cells, None])
    return csv_text(["path", *columns, "error"], rows)


def _echo_text(files, model_paths, models, probas, failures) -> None:
    from logicat.core.paths import shown

    ok_paths = [f for f in files if f not in failures]
    if ok_paths:
        for path, model in zip(model_paths, models, strict=True):  # said once, first
            if model.output.prior != "train":
                where = f"{path}: " if len(models) > 1 else ""
                click.echo(f"{where}{model.output.describe()}")
        width = max(len(shown(p)) for p in ok_paths)
        if len(models) > 1:
            click.echo((" " * width + "".join(f"  {_column(path, 26)}"
                                              for path in model_paths)).rstrip())
        for path in ok_paths:
            cells = [f"p({m.positive_class}) = {p:.4f}  {m.label_names([p])[0]}"
                     for m, p in zip(models, probas[path], strict=True)]
            click.echo(f"{shown(path):<{width}}" + "".join(
                f"  {cell:<26}" if len(models) > 1 else f"  {cell}" for cell in cells).rstrip())
    for path, reason in failures.items():
        click.echo(f"Error: {shown(path)}: {reason}", err=True)


def _column(path: Path, width: int) -> str:
    """A model's column header: its file name, cut to fit."""
    name = path.name
    return (name if len(name) <= width else name[:width - 3] + "...").ljust(width)
