"""``logicat bench``: timings that back up claims the lesson makes.

``bench`` is a group: ``logicat bench vectorize`` is the lesson's demonstration, for-loops
against vectors. The speed suite and every other harness are the source tree's, not the
installed package's: ``python benchmarks/suite.py`` (BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

import click

from logicat.cli.options import data_dir_option


@click.group()
def bench() -> None:
    """The lesson's timings (each prints a table measured on this machine). The speed suite
    is the source tree's: python benchmarks/suite.py."""


def best_time(fn: Callable[[], object], repeat: int, min_total: float = 0.2) -> float:
    """The best time of one call of ``fn`` in seconds: best of ``repeat`` rounds, each round
    calling it often enough to last ``min_total`` seconds (once, if one call is that slow)."""
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, int(min_total / max(once, 1e-9)))
    best = once
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


@bench.command()
@click.option("--dot-size", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Length of the two vectors of the dot product.")
@click.option("--examples", "m", type=click.IntRange(min=1), default=None,
              help="Use the first M training images for the gradient step [default: all 209].")
@click.option("--features", "n", type=click.IntRange(min=1), default=None,
              help="Use the first N features of each image [default: all 12288].")
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True,
              help="Best of this many rounds.")
@click.option("--blas-threads", type=click.IntRange(min=0), default=1, show_default=True,
              help="Threads for NumPy's BLAS (0: the library's default). With 1, both versions "
              "use one core, so the speed-up is vectorization's alone.")
@data_dir_option
def vectorize(dot_size, m, n, repeat, blas_threads, data_dir):
    """For-loops against vectorized NumPy, as the lesson demonstrates it.

    Two operations, each by explicit Python for-loops and by one vectorized NumPy call: the dot
    product of two random vectors, and one gradient-descent step of logistic regression on the
    cat training images (cost, gradients, update). The loops run over plain Python floats
    (the fastest a loop gets); both versions must give the same numbers.
    """
    with _blas_threads(blas_threads):
        rows = _vectorize_rows(dot_size, m, n, repeat, data_dir)
    _print_table(rows, repeat, blas_threads)


@contextlib.contextmanager
def _blas_threads(n: int):
    """Limit NumPy's BLAS to ``n`` threads (0: leave it alone)."""
    if n == 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _vectorize_rows(dot_size, m, n, repeat, data_dir):
    import numpy as np

    from logicat.core.validation import check_memory
    from logicat.data import find_catvnoncat, load_catvnoncat
    from logicat.data.features import images_to_features
    from logicat.nn.loops import cost_and_gradients_loops, dot_loops
    from logicat.nn.loss import cost_and_gradients

    # two float64 vectors (16 bytes an element) and their Python lists (2 x 32 bytes)
    check_memory(80 * dot_size, f"--dot-size {dot_size} (two vectors, as arrays and as lists)")
    rng = np.random.default_rng(0)
    a, b = rng.random(dot_size), rng.random(dot_size)
    a_list, b_list = a.tolist(), b.tolist()
    loop_dot, vec_dot = dot_loops(a_list, b_list), float(np.dot(a, b))
    _check_same("dot product", loop_dot, vec_dot, scale=abs(vec_dot))
    rows = [(
        f"dot product of two {dot_size:,}-element vectors",
        best_time(lambda: dot_loops(a_list, b_list), repeat),
        best_time(lambda: np.dot(a, b), repeat),
    )]

    data = load_catvnoncat(find_catvnoncat(data_dir))
    X = images_to_features(data.train_x[:m])[:, :n]
    y = data.train_y[:m].astype(X.dtype)
    X = np.ascontiguousarray(X)
    w0, lr = np.zeros(X.shape[1]), 0.005

    def step(cost_and_grads):
        w, b0 = w0.copy(), 0.0
        cost, dw, db = cost_and_grads(w, b0, X, y)
        return cost, w - lr * dw, b0 - lr * db

    loop_step, vec_step = step(cost_and_gradients_loops), step(cost_and_gradients)
    _check_same("gradient step", loop_step[0], vec_step[0], scale=1.0)
    _check_same("gradient step", loop_step[1], vec_step[1], scale=1.0)
    rows.append((
        f"one gradient step, m = {X.shape[0]}, n_x = {X.shape[1]:,}",
        best_time(lambda: step(cost_and_gradients_loops), repeat, min_total=0.0),
        best_time(lambda: step(cost_and_gradients), repeat),
    ))
    return rows


def _print_table(rows, repeat: int, blas_threads: int) -> None:
    import numpy as np

    threads = "default" if blas_threads == 0 else str(blas_threads)
    click.echo(
        f"Loops vs vectors (float64; numpy {np.__version__}; {os.cpu_count()} CPUs; "
        f"BLAS threads: {threads}; best of {repeat})"
    )
    header = ("operation", "for-loops", "vectorized", "speed-up")
    table = [header]
    table += [(op, _fmt_time(t1), _fmt_time(t2), f"{t1 / t2:.0f}x") for op, t1, t2 in rows]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for i, r in enumerate(table):
        cells = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        click.echo("  ".join([r[0].ljust(widths[0]), *cells]))
        if i == 0:
            click.echo("-" * (sum(widths) + 6))


def _check_same(what: str, loops, vectorized, scale: float) -> None:
    import numpy as np

    diff = float(np.max(np.abs(np.asarray(loops) - np.asarray(vectorized))))
    if not diff <= 1e-9 * max(scale, 1.0):
        raise click.ClickException(
            f"The for-loop and vectorized {what} differ by {diff:.3g}; they should agree."
        )
