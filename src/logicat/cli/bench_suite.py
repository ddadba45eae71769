"""``logicat bench suite`` (plain ``logicat bench`` too): the suite of ``logicat.fast.suite``."""

from __future__ import annotations

import click

from logicat.cli.options import data_dir_option

PARTS = ("L", "P", "S", "G", "ideas", "cli")


@click.command()
@data_dir_option
@click.option("--iterations", "-n", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Gradient-descent iterations of every training run.")
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True,
              help="Time each measurement this many times; the table shows the best and median.")
@click.option("--skip", type=click.Choice(PARTS), multiple=True,
              help="Leave out a baseline (L lesson, P PyTorch, S scikit-learn, G memory floor), "
                   "the per-idea rows (ideas) or the end-to-end process rows (cli). Repeatable.")
def suite(data_dir, iterations, repeat, skip):
    """Time the reference training run against the baselines L, P, S, G, in one run.

    Prints one table: seconds (best and median of --repeat), milliseconds per iteration, how many
    times faster than the lesson's NumPy code (L) and than PyTorch (P), the time per iteration
    over one read of X (G), then checks that every cost history matches the reference.
    """
    from logicat.fast.suite import run_suite

    run_suite(data_dir, iterations=iterations, repeat=repeat,
              include=tuple(p for p in PARTS if p not in skip), echo=click.echo)
