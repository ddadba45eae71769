"""``logicat train --resume --checkpoint FILE``: the run its checkpoint records, parsed again.

``record(ctx)`` is what a training command's checkpoints record of its command line (a
``training.resume.Run``); ``resumed_context(ctx, checkpoint)`` is the context of the command that
goes on with that run: the recorded options, and those given now where ``training.resume``
allows it (its ``check_options`` refuses a contradiction). This module parses and renders
command lines; what may differ and what is refused is ``training.resume``'s.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from logicat.cli.distributed import option_args

#: train's parameters a checkpoint does not record: the resumption's own
NOT_RECORDED = ("resume", "checkpoint")


def continue_with(checkpoint: Path) -> str:
    """The command that goes on with the run a checkpoint records (``Interrupted ...`` says it)."""
    return f"logicat train --resume --checkpoint {shlex.quote(str(checkpoint))}"


def record(ctx: click.Context):
    """The ``Run`` a training command's checkpoints record: the options given (paths made
    absolute, so the run can be resumed from another folder) and ``--out`` always."""
    from logicat.training.resume import Run

    words: list[str] = []
    for param in _recorded_params(ctx.command):
        source = ctx.get_parameter_source(param.name)
        if param.name == "out" or (source is not None and source.name != "DEFAULT"):
            words += option_args(param, _absolute(param, ctx.params.get(param.name)))
    return Run(words)


def resumed_context(ctx: click.Context, checkpoint: Path):
    """(the context of the resumed command, the ``Run`` the checkpoint records), or (None,
    None) for a checkpoint that records no run (the Python API's): its options are then the
    ones given. An option given that contradicts the run is a usage error of ``ctx``."""
    from logicat.core.errors import ModelFileError, ParameterError
    from logicat.training.resume import MAY_DIFFER, check_options

    run = _recorded_run(checkpoint)
    if run is None:
        return None, None
    command = ctx.command
    try:
        if {"-h", "--help"} & set(run.command):  # parsed, it would print help and stop
            raise click.UsageError("it asks for help")
        recorded = command.make_context(ctx.info_name, list(run.command), parent=ctx.parent)
    except click.ClickException as e:
        raise ModelFileError(f"{checkpoint}: the command it records does not parse "
                             f"({e.format_message()}).") from None
    params = _recorded_params(command)
    given = [p for p in params
             if ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE]
    try:
        check_options({p.opts[0]: _typed(p, recorded.params.get(p.name)) for p in params},
                      {p.opts[0]: _typed(p, ctx.params.get(p.name)) for p in given},
                      str(checkpoint))
    except ParameterError as e:
        raise click.UsageError(str(e), ctx=ctx) from None
    words: list[str] = []
    for param in params:  # the run's options, with those given now that may differ
        if param in given and param.opts[0] in MAY_DIFFER:
            words += option_args(param, ctx.params.get(param.name))
        elif recorded.get_parameter_source(param.name) == ParameterSource.COMMANDLINE:
            words += option_args(param, recorded.params.get(param.name))
    click.echo(f"Resuming the run of {checkpoint}: logicat {ctx.info_name} "
               f"{shlex.join(words)}")
    words += ["--resume", "--checkpoint", str(checkpoint)]
    return command.make_context(ctx.info_name, words, parent=ctx.parent), run


def trains_on(training: dict[str, Any], data: dict[str, Any]) -> None:
    """Record in the run's checkpoints the data it trains on (the model file's record of it);
    a resumed run must train on what its checkpoint recorded."""
    from logicat.training.resume import check_data

    training["run"].data = dict(data)
    resumed = training.get("resumed")
    if resumed is not None:
        check_data(resumed.data, data, str(training["checkpoint"]))


def _recorded_params(command: click.Command) -> list[click.Parameter]:
    return [p for p in command.params
            if p.opts and p.expose_value and p.name not in NOT_RECORDED]


def _recorded_run(checkpoint: Path):
    """The ``Run`` recorded in ``checkpoint`` - or, for an ensemble, in its first fit's, beside
    it - or None: no such file (``--resume`` says so), a checkpoint that records none, or a
    file that is no checkpoint (refused when the run reads it, once its outputs are checked)."""
    from logicat.core.errors import ModelFileError
    from logicat.io.files import load_checkpoint
    from logicat.training.ensemble import member_checkpoint
    from logicat.training.resume import Run

    for path in (Path(checkpoint), member_checkpoint(Path(checkpoint), "member-1")):
        if path.is_file():
            try:
                return Run.from_meta(load_checkpoint(path).meta)
            except ModelFileError:
                return None
    return None


def _absolute(param: click.Parameter, value: Any) -> Any:
    if value is not None and isinstance(param.type, click.Path):
        return Path(os.path.abspath(value))
    return value


def _typed(param: click.Parameter, value: Any) -> str:
    """How ``value`` reads on a command line (``""``: unset, or a flag at its default)."""
    return shlex.join(option_args(param, _absolute(param, value)))
