"""What a training command writes when it is done: the model file and its learning curve."""

from __future__ import annotations

from pathlib import Path

import click


def save_and_plot(model, out: Path, plot: Path | None, title: str, **metadata) -> None:
    """Write the model file, then (``--plot``) its learning curve - with the validation cost
    and the iteration kept, if early stopping watched one; one line each."""
    from logicat.io.files import save_model

    save_model(model, out, **metadata)
    click.echo(f"Saved the model to {out}")
    if plot is not None:
        from logicat.viz.canvas import save_figure
        from logicat.viz.plots import model_learning_curves_figure

        save_figure(model_learning_curves_figure(model, title), plot)
        click.echo(f"Saved the learning curve to {plot}")
