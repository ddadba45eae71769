"""``logicat explain``: for each photo, a picture of which pixels pushed p(cat) up or down."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import model_option


@click.command()
@model_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", "out_dir", type=click.Path(path_type=Path),
              default=Path("explanations"), show_default=True,
              help="Folder for the pictures (made if missing): one <photo name>.png per photo. "
              "For one photo it may be the picture itself (a .png, .svg or .pdf file).")
@click.option("--method", type=click.Choice(["auto", "contributions", "gradient_input",
                                             "grad_cam"]),
              default="auto", show_default=True,
              help="contributions w*x (logistic regression: they add up to z - b), gradient x "
              "input (any model) or Grad-CAM (a ConvNet); auto: the first that applies.")
@click.option("--engine", type=click.Choice(["numpy", "autograd", "torch"]), default="numpy",
              show_default=True, help="Who computes the gradient for gradient_input.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True)
def explain(model_path, paths, out_dir, method, engine, fmt):
    """Explain the model's answer on each image in PATHS (files or folders): the image it sees
    (s x s) beside a map of each pixel's push on the logit z, red towards the positive class,
    blue away, titled with p and the label.

    For logistic regression the map is exact: each pixel's w * x (R, G and B added), and the
    pixels' contributions plus the bias b add up to z; the line printed for each photo shows
    the sum. A network's map is gradient x input, a ConvNet's Grad-CAM (signed: red where its
    last feature maps push z up). Unreadable files are reported and skipped (exit status 1).
    """
    from logicat.core.paths import shown
    from logicat.data.folders import image_files
    from logicat.data.images import load_images
    from logicat.evaluate.explain import explain as explain_images
    from logicat.io.files import read_model
    from logicat.viz.canvas import save_figure
    from logicat.viz.explanations import explanation_figure

    model = read_model(model_path)
    spec = model.image_preprocessing(model_path)
    model.check_memory(gradients=True)
    files = [f for path in paths for f in (image_files(path) if path.is_dir() else [path])]
    if not files:
        raise click.ClickException(f"no image files found in {', '.join(map(str, paths))}.")
    inputs = [("the model", model_path), *(("a photo explained", f) for f in files)]
    picture = _one_picture(out_dir, files, fmt)
    _check_pictures(picture or _picture_names(files, out_dir, fmt), inputs)
    images, ok_paths, failures = load_images(files, spec["image_size"])
    if ok_paths:
        outputs = picture or _picture_names(ok_paths, out_dir, fmt)
        _check_pictures(outputs, inputs)  # numbered anew once the unreadable ones are out
        outputs[0].parent.mkdir(parents=True, exist_ok=True)
        explanation = explain_images(model, images, method=method, engine=engine)
        labels = model.label_names(explanation.proba)
        width = max(len(shown(p)) for p in ok_paths)
        for k, (path, out) in enumerate(zip(ok_paths, outputs, strict=True)):
            one = _select(explanation, k)
            save_figure(explanation_figure(images[k:k + 1], one, [path.name],
                                           model.positive_class, labels[k:k + 1]), out)
            line = (f"{shown(path):<{width}}  p({model.positive_class}) = {one.proba[0]:.4f}  "
                    f"{labels[k]}")
            if one.offset is not None:
                total = float(one.values.sum())
                line += (f"  (pixels {total:+.6f} + b {one.offset:+.6f} = z "
                         f"{total + one.offset:+.6f})")
            click.echo(f"{line}  -> {shown(out)}")
    for path, reason in failures:
        click.echo(f"Error: {shown(path)}: {reason}", err=True)
    if failures:
        raise SystemExit(1)


def _one_picture(out: Path, files: list[Path], fmt: str) -> list[Path] | None:
    """``--out`` as the picture itself - a file name ending in .png, .svg or .pdf, for one
    photo - or None: a folder. A picture's name for several photos, a folder's that is a file,
    or a suffix that says another format than ``--format`` is a usage error."""
    ctx = click.get_current_context()
    suffix = out.suffix.lower().lstrip(".")
    if out.is_dir() or suffix not in ("png", "svg", "pdf"):
        if out.is_file():
            raise click.BadParameter(f"{out} is a file; give a folder for the pictures (or, "
                                     "for one photo, a .png, .svg or .pdf file).",
                                     param_hint="'--out'")
        return None
    if len(files) != 1:
        raise click.BadParameter(f"{out} names one picture, and there are {len(files)} "
                                 "photos: give a folder for their pictures (one <photo "
                                 "name>.png each), e.g. -o explanations.", param_hint="'--out'")
    source = ctx.get_parameter_source("fmt")
    if source is not None and source.name != "DEFAULT" and fmt != suffix:
        raise click.BadParameter(f"{out} is a .{suffix} file, and --format says {fmt}: "
                                 "give one.", param_hint="'--out'")
    return [out]


def _check_pictures(outputs: list[Path], inputs: list) -> None:
    """No picture may overwrite a photo being explained or the model (``--out`` the photos'
    folder, say)."""
    from logicat.core.paths import check_outputs

    check_outputs([("the picture", out) for out in outputs], inputs, folders_made=True)


def _picture_names(paths: list[Path], out_dir: Path, fmt: str) -> list[Path]:
    """<name>.<fmt> in out_dir for each photo; a photo whose name is taken (by a photo of one
    name from another folder, or by a numbered one: a.jpg, a-2.jpg and another a.jpg) gets the
    first free -2, -3, ... so that every photo gets its own picture."""
    taken: set[str] = set()
    names = []
    for path in paths:
        name, count = f"{path.stem}.{fmt}", 1
        while name in taken:
            count += 1
            name = f"{path.stem}-{count}.{fmt}"
        taken.add(name)
        names.append(out_dir / name)
    return names


def _select(explanation, k: int):
    """The explanation of image k alone."""
    from dataclasses import replace

    values = None if explanation.values is None else explanation.values[k:k + 1]
    return replace(explanation, values=values, pixel_map=explanation.pixel_map[k:k + 1],
                   logit=explanation.logit[k:k + 1], proba=explanation.proba[k:k + 1])
