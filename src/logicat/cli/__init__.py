"""The ``logicat`` command line: train, predict, evaluate, info, download, ...

Each command lives in its own module and is registered on the ``main`` group below. Errors a
user can fix (bad files, bad values) become one line, ``Error: ...``, with exit status 1; usage
errors exit with 2 (click's convention); nothing prints a traceback.
"""

from __future__ import annotations

import click

from logicat import __version__


class LogicatGroup(click.Group):
    """A click group that turns logicat's and the OS's errors into clean one-line messages."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (ValueError, OSError) as e:  # LogicatError is a ValueError
            message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise click.ClickException(message) from None


@click.group(cls=LogicatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="logicat")
def main() -> None:
    """logicat: is this a cat? Logistic regression as a neural network, from first principles."""


from logicat.cli.bench import bench  # noqa: E402
from logicat.cli.data_commands import download  # noqa: E402
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

main.add_command(train)
main.add_command(predict)
main.add_command(evaluate)
main.add_command(info)
main.add_command(download)
main.add_command(serve)
main.add_command(graph)
main.add_command(bench)
main.add_command(sweep)
main.add_command(report)
main.add_command(plot)
main.add_command(export)
main.add_command(pack)
