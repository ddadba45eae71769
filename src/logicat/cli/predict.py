"""``logicat predict``: p(cat) for image files and folders of images.

Three formats, on stdout, one entry per input file in input order:

    text   PATH  p(cat) = 0.8123  cat      (several -m: one column per model); unreadable
           files as ``Error: PATH: reason`` on stderr; first, a line saying at which class
           mix the model decides when that is not its training mix (``--prior``)
    json   [{"path", "probability", "label", "positive_class"} | {"path", "error"}, ...];
           several -m: "probabilities", "labels", "positive_classes", each keyed by model path
    csv    path,probability,label,error; several -m: probability:MODEL,label:MODEL per model

A folder laid out as ``DIR/<class>/...`` with the model's class names (what ``train --images``
reads, ``data.folders.list_image_folder``) gives each of its images a true label: text adds a
``true: NAME`` column after the path, ``right`` or ``wrong`` after each answer and a closing
accuracy line; json adds ``"true_label"`` and ``"correct"`` (several -m: keyed by model path);
csv a ``true_label`` column after ``path`` and ``correct`` (``correct:MODEL``) after each label.
``--errors`` keeps only the images some model got wrong (and the unreadable files).
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
@click.option("--errors", "errors_only", is_flag=True,
              help="Only the images the model got wrong, in a folder of class folders named "
              "like the model's classes (DIR/cat/, DIR/non-cat/: the layout train --images "
              "reads).")
def predict(model_paths, paths, workers, fmt, prior, errors_only):
    """Print p(positive class) and the label of each image in PATHS (files or folders).

    Folders are searched recursively for image files. Unreadable files are reported and
    skipped; the exit status is then 1 (with one last error line if none of several could be
    read).
    With several -m, one column per model, in order (each model decodes the images at its own
    size). With --prior, every model decides at that class mix.

    A folder of class folders named like the model's classes (DIR/cat/..., DIR/non-cat/...)
    gives each of its images its true label: whether each answer is right, and the accuracy.
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
    truth = true_labels(paths, models)
    if errors_only and not truth:
        names = models[0].class_names
        raise click.BadParameter(
            f"lists the images a model got wrong, which needs their true class: expected a "
            f"folder of class folders named like the model's classes ({names[1]}/ and "
            f"{names[0]}/, the layout train --images reads). Got none among "
            f"{', '.join(map(str, paths))}.", param_hint="'--errors'")
    files, probas, failures = _predicted(models, paths, workers)
    right = {f: [m.label_names([p])[0] == truth[f] for m, p in zip(models, probas[f],
                                                                     strict=True)]
             for f in files if f in truth and f not in failures}
    shown_files = [f for f in files if not errors_only or f in failures
                   or (f in right and not all(right[f]))]
    answers = (model_paths, models, probas, failures, truth)
    if fmt == "json":
        import json

        click.echo(json.dumps(records(shown_files, *answers), indent=2, allow_nan=False))
    elif fmt == "csv":
        click.echo(_csv(shown_files, *answers), nl=False)
    else:
        _echo_text(shown_files, *answers)
        _echo_accuracy(model_paths, right)
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


def true_labels(paths, models) -> dict[Path, str]:
    """{image file: its true class} for the folders among ``paths`` laid out as
    ``DIR/<class>/...`` with the models' class names (``list_image_folder``, the listing
    ``train --images`` reads: the positive class's folder by name, every other folder its
    negative class); {} when there is none, or when the models' classes differ."""
    from logicat.core.errors import DataFileError
    from logicat.data.folders import list_image_folder

    names = {tuple(model.class_names) for model in models}
    if len(names) != 1:
        return {}
    classes = names.pop()
    truth: dict[Path, str] = {}
    for path in paths:
        if not path.is_dir():
            continue
        try:
            samples, found = list_image_folder(path, classes[1])
        except DataFileError:  # not a folder of class folders: predicted as it is
            continue
        if found == classes:
            truth.update((file, classes[label]) for file, label in samples)
    return truth


def records(files, model_paths, models, probas, failures, truth) -> list[dict]:
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
            record = {"path": str(path), "probability": p, "label": label,
                      "positive_class": positive}
            if path in truth:
                record |= {"true_label": truth[path], "correct": label == truth[path]}
        else:
            record = {"path": str(path),
                      "probabilities": {name: p for name, p, _, _ in answers},
                      "labels": {name: label for name, _, label, _ in answers},
                      "positive_classes": {name: c for name, _, _, c in answers}}
            if path in truth:
                record |= {"true_label": truth[path],
                           "correct": {name: label == truth[path]
                                       for name, _, label, _ in answers}}
        out.append(record)
    return out


def _csv(files, model_paths, models, probas, failures, truth) -> str:
    """A header and one row per file (``core.csv_cells``: no cell can become a formula)."""
    from logicat.core.csv_cells import csv_text

    labelled = bool(truth)
    what = ("probability", "label", "correct") if labelled else ("probability", "label")
    if len(models) == 1:
        columns = list(what)
    else:
        columns = [f"{name}:{path}" for path in model_paths for name in what]
    rows = []
    for path in files:
        known = [truth.get(path)] if labelled else []
        if path in failures:
            rows.append([path, *known, *[None] * len(columns), failures[path]])
            continue
        cells = []
        for m, p in zip(models, probas[path], strict=True):
            label = m.label_names([p])[0]
            cells += [float(p), label]
            if labelled:
                cells.append(None if path not in truth else label == truth[path])
        rows.append([path, *known, *cells, None])
    return csv_text(["path", *(["true_label"] if labelled else []), *columns, "error"], rows)


def _echo_text(files, model_paths, models, probas, failures, truth) -> None:
    from logicat.core.paths import shown

    ok_paths = [f for f in files if f not in failures]
    if ok_paths:
        for path, model in zip(model_paths, models, strict=True):  # said once, first
            if model.output.prior != "train":
                where = f"{path}: " if len(models) > 1 else ""
                click.echo(f"{where}{model.output.describe()}")
        width = max(len(shown(p)) for p in ok_paths)
        # a folder of class folders: a column of true labels, right or wrong after each answer
        known = {p: f"true: {truth[p]}" for p in ok_paths if p in truth}
        true_width = max(map(len, known.values()), default=0)
        label_width = max(len(name) for m in models for name in m.class_names) if known else 0
        column = 33 if known else 26
        if len(models) > 1:
            click.echo((" " * width + (" " * (true_width + 2) if known else "") + "".join(
                f"  {_column(path, column)}" for path in model_paths)).rstrip())
        for path in ok_paths:
            cells = []
            for m, p in zip(models, probas[path], strict=True):
                label = m.label_names([p])[0]
                verdict = "" if path not in truth else (
                    "  right" if label == truth[path] else "  wrong")
                cells.append(f"p({m.positive_class}) = {p:.4f}  {label:<{label_width}}{verdict}")
            true_cell = f"  {known.get(path, ''):<{true_width}}" if known else ""
            click.echo(f"{shown(path):<{width}}{true_cell}" + "".join(
                f"  {cell:<{column}}" if len(models) > 1 else f"  {cell}"
                for cell in cells).rstrip())
    for path, reason in failures.items():
        click.echo(f"Error: {shown(path)}: {reason}", err=True)


def _echo_accuracy(model_paths, right: dict[Path, list[bool]]) -> None:
    """The closing line (one per model with several -m) of a folder of class folders: each
    model's accuracy on its images that could be read, all of them, whatever --errors showed."""
    if not right:
        return
    n = len(right)
    for k, path in enumerate(model_paths):
        n_right = sum(answers[k] for answers in right.values())
        where = f"{path}: " if len(model_paths) > 1 else ""
        click.echo(f"{where}accuracy {n_right / n:.4f} on the {n} images in class folders "
                   f"({n_right} right, {n - n_right} wrong)")


def _column(path: Path, width: int) -> str:
    """A model's column header: its file name, cut to fit."""
    name = path.name
    return (name if len(name) <= width else name[:width - 3] + "...").ljust(width)
