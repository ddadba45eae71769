"""``logicat sweep``: the lesson's learning-rate comparison (and cross-entropy vs squared error),
and the course's comparison of hidden-layer sizes."""

from __future__ import annotations

from pathlib import Path

import click

from logicat.cli.options import PositiveFloat, Sizes, data_dir_option, data_files
from logicat.cli.train import INITS
from logicat.core.paths import check_outputs

LESSON_RATES = (0.01, 0.001, 0.0001)


@click.command()
@click.argument("more_rates", nargs=-1, type=PositiveFloat(), metavar="[RATE]...")
@click.option("--learning-rates", "-a", "rates", type=PositiveFloat(), multiple=True,
              help="Learning rates to compare, e.g. '--learning-rates 0.01 0.001 0.0001' "
              f"[default: {' '.join(map(str, LESSON_RATES))}, the lesson's; 0.0075 with "
              "--hidden].")
@click.option("--hidden", type=Sizes(), multiple=True, metavar="SIZES",
              help="Compare networks with these hidden layers instead, one per option: "
              "'--hidden 7 --hidden 20,7,5' ('' is logistic regression).")
@click.option("--activation", type=click.Choice(["relu", "tanh", "sigmoid"]), default=None,
              help="With --hidden: the hidden layers' activation [default: relu].")
@click.option("--init", type=click.Choice(INITS), default=None,
              help="With --hidden: the initial weights [default: lecun_normal].")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="With --hidden: the seed of the initial weights (the course's 1).")
@click.option("--iterations", "-n", type=click.IntRange(min=1), default=None,
              help="Full-batch gradient-descent iterations for each run [default: 1500, the "
              "lesson's; 2500 with --hidden, the course's].")
@click.option("--loss-comparison", is_flag=True,
              help="Train every run with cross-entropy AND squared error; plot both.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True)
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Save the curves as a picture (.png, .svg or .pdf).")
@data_dir_option
def sweep(more_rates, rates, hidden, activation, init, seed, iterations, loss_comparison, dtype,
          out, data_dir):
    """Train one model per learning rate (or per network); plot the learning curves together
    and print a table of train/test accuracies.

    The lesson's comparison: 'logicat sweep --learning-rates 0.01 0.001 0.0001 --iterations 1500'
    (train 99.52 / 88.99 / 68.42 %, test 68 / 64 / 36 %; accuracies are printed in full, as
    'logicat train' prints them). Learning rates may also be given
    as arguments: 'logicat sweep 0.01 0.001'.

    Hidden-layer sizes, the course's way: 'logicat sweep --hidden 7 --hidden 20,7,5' trains its
    two-layer and deep models' architectures (relu, lecun_normal, seed 1, rate 0.0075, 2500
    iterations) side by side.
    """
    from logicat.cli.train import architecture_params
    from logicat.core.errors import LogicatError
    from logicat.data import load_catvnoncat
    from logicat.data.features import images_to_features
    from logicat.evaluate.metrics import accuracy_percent
    from logicat.training.callbacks import ProgressBar
    from logicat.training.fit import fit
    from logicat.viz.canvas import check_plot_path, save_figure
    from logicat.viz.plots import learning_curves_figure, loss_comparison_figure

    networks = list(dict.fromkeys(hidden))
    if not networks:
        for name, value in (("--activation", activation), ("--init", init)):
            if value is not None:
                raise click.BadParameter("compares networks: give --hidden too.",
                                         param_hint=f"'{name}'")
    default_rates = [0.0075] if networks else list(LESSON_RATES)
    learning_rates = list(dict.fromkeys(rates + more_rates)) or default_rates
    if iterations is None:
        iterations = 2500 if networks else 1500
    if out is not None:
        check_outputs({"--out": out}, data_files(data_dir))
        try:
            check_plot_path(out)
        except LogicatError as e:
            raise click.BadParameter(str(e), param_hint="'--out'") from None
    losses = ["cross_entropy", "squared_error"] if loss_comparison else ["cross_entropy"]
    runs = [(sizes, lr) for sizes in networks or [None] for lr in learning_rates]

    data = load_catvnoncat(data_dir)
    X_train = images_to_features(data.train_x, dtype=dtype)
    X_test = images_to_features(data.test_x, dtype=dtype)
    curves: dict[str, dict[str, object]] = {loss: {} for loss in losses}
    column = f"{'hidden layers':>13} " if networks else ""
    click.echo(f"{'loss':<14} {column}{'learning rate':>13} {'final cost':>11} "
               f"{'train accuracy':>20} {'test accuracy':>20}")
    for loss in losses:
        for sizes, lr in runs:
            if sizes:
                params = architecture_params("mlp", sizes, activation, init, lr, iterations)
            else:  # no --hidden, or '' among them: logistic regression, the lesson's zero init
                params = architecture_params("logistic", None, None, None, lr, iterations)
            params.update(loss=loss, dtype=dtype, random_state=seed)
            kind = Sizes.to_text(sizes) if sizes else "logistic"
            bar = ProgressBar(desc=f"{loss}, {kind}, {lr:g}",
                              leave=False)  # each run's bar gives way to its row
            try:
                model = fit(params, X_train, data.train_y, callbacks=[bar]).to_model(params)
            finally:
                bar.close()
            train_acc = accuracy_percent(model.predict(X_train), data.train_y)
            test_acc = accuracy_percent(model.predict(X_test), data.test_y)
            shown = f"{Sizes.to_text(sizes) or 'none':>13} " if networks else ""
            click.echo(f"{loss:<14} {shown}{lr:>13g} {model.cost_history[-1]:>11.6f} "
                       f"{train_acc!s:>18} % {test_acc!s:>18} %")
            label = f"learning rate = {lr:g}"
            if networks:
                label = f"hidden {Sizes.to_text(sizes) or 'none'}" + (
                    f", {label}" if len(learning_rates) > 1 else "")
            curves[loss][label] = model.cost_history

    if out is not None:
        if loss_comparison:
            fig = loss_comparison_figure(curves)
        else:
            what = "Hidden layers" if networks else "Learning rates"
            fig = learning_curves_figure(
                curves["cross_entropy"], title=f"{what} ({iterations} iterations)"
            )
        save_figure(fig, out)
        click.echo(f"Saved the curves to {out}")
