"""What a training command writes when it is done: the model file and its learning curve."""

from __future__ import annotations

from pathlib import Path

import click


def save_and_plot(model, out: Path, plot: Path | None, learning_rate: float, title: str,
                  **metadata) -> None:
    """Write the model file, then (``--plot``) its learning curve, with the validation cost if
    early stopping watched one; one line each."""
    from logicat.files import save_model

    save_model(model, out, **metadata)
    click.echo(f"Saved the model to {out}")
    if plot is not None:
        from logicat.viz.plots import plot_learning_curves

        curves = {f"learning rate = {learning_rate:g}": model.cost_history}
        if model.validation_cost_history is not None:
            curves["validation cost"] = model.validation_cost_history
        plot_learning_curves(curves, plot, title=title)
        click.echo(f"Saved the learning curve to {plot}")
