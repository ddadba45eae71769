"""The ``logicat`` command line: train, predict, evaluate, info, download, ...

Each command lives in its own module and is registered on the ``main`` group below; a command
imports what it needs when it runs, so ``logicat --help`` loads neither NumPy nor scikit-learn.
Errors a user can fix become one line, ``Error: ...``, with the exit status of their class
(``logicat.core.errors``: 1 for bad input, 2 for a wrong use of the command, like click's usage
errors), and the OS errors one expects (a missing file, no permission, a full disk) exit 1 the
same way. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno

import click

from logicat import __version__
from logicat.core.errors import LogicatError, UsageError

#: OS errors that are the user's situation, not a bug: reported in one line, exit 1.
EXPECTED_OS_ERRORS = {
    errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EROFS,
    errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP, errno.EFBIG,
    errno.EMFILE, errno.EIO, errno.EBUSY, errno.ETXTBSY,
}


class LogicatGroup(click.Group):
    """A click group that turns logicat's errors and the expected OS errors into one line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UsageError as e:
            ctx = click.get_current_context(silent=True)
            raise click.UsageError(_one_line(e), ctx=ctx) from None
        except LogicatError as e:
            raise _error(_one_line(e), e.exit_code) from None
        except OSError as e:
            if e.errno not in EXPECTED_OS_ERRORS:
                raise
            where = f"{e.filename}: " if e.filename else ""
            raise _error(f"{where}{e.strerror or e}", 1) from None
        except KeyboardInterrupt:  # Ctrl-C: every write is atomic, so nothing is half-written
            click.echo("Interrupted.", err=True)
            raise SystemExit(130) from None


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _error(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


@click.group(cls=LogicatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logicat")
def main() -> None:
    """logicat: is this a cat? Logistic regression as a neural network, from first principles."""


from logicat.cli.bench import bench  # noqa: E402
from logicat.cli.data_commands import download  # noqa: E402
from logicat.cli.explain import explain  # noqa: E402
from logicat.cli.export import export  # noqa: E402
from logicat.cli.graph import graph  # noqa: E402
from logicat.cli.inspect import evaluate, info  # noqa: E402
from logicat.cli.pack import pack  # noqa: E402
from logicat.cli.plot import plot  # noqa: E402
from logicat.cli.predict import predict  # noqa: E402
from logicat.cli.report import report  # noqa: E402
from logicat.cli.serve import serve  # noqa: E402
from logicat.cli.sweep import sweep  # noqa: E402
from logicat.cli.train import train  # noqa: E402


def _set_threads(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        from logicat.core.machine import set_threads

        set_threads(value)


#: every command that computes takes --threads (applied before the command runs)
THREADS = click.Option(
    ["--threads"], type=click.IntRange(min=1), default=None, expose_value=False, is_eager=True,
    callback=_set_threads, metavar="N",
    help="Compute with N threads (PyTorch, NumPy's BLAS, the numba kernel). Default: the CPUs "
    "this process may use, with idle threads asleep (OMP_NUM_THREADS and OMP_WAIT_POLICY, "
    "where you set them, win; docs/speed.md).")
for command in (train, predict, evaluate, explain, serve, sweep, report, plot, export, pack):
    command.params.append(THREADS)
for command in (train, predict, evaluate, explain, info, download, serve, graph, bench, sweep,
                report, plot, export, pack):
    main.add_command(command)
