"""The command line of each ``torchrun`` process: what ``logicat train --nproc N`` starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def command_line_args(ctx, drop: Sequence[str] = (), given_only: bool = False) -> list[str]:
    """The click command of ``ctx`` and its parsed options as command-line arguments again
    (without the parameters named in ``drop``; with ``given_only``, only those the user gave,
    for a command that tells given options from defaults): what each torchrun process is
    started with.
    """
    args = [ctx.info_name]
    for param in ctx.command.params:
        if param.name in drop or getattr(param, "hidden", False) or not param.opts:
            continue
        source = ctx.get_parameter_source(param.name)
        if given_only and (source is None or source.name == "DEFAULT"):
            continue
        args += option_args(param, ctx.params.get(param.name))
    return args


def option_args(param, value: Any) -> list[str]:
    """One parameter's ``value`` as the words that would give it on a command line
    (``["--hidden", "20,7,5"]``; ``[]`` for None, or a flag at its default)."""
    if value is None:
        return []
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        flag = param.opts[0] if value else (param.secondary_opts or [None])[0]
        return [flag] if flag is not None and value != param.default else []
    if getattr(param, "param_type_name", "") == "argument":
        values = value if param.multiple or param.nargs != 1 else [value]
        return [str(v) for v in values]
    args = []
    for v in value if param.multiple else [value]:
        args.append(param.opts[0])
        if param.nargs != 1:
            args.extend(str(x) for x in v)
        else:  # a value of one argument, as the user would type it again ("20,7,5")
            args.append(param.type.to_text(v) if hasattr(param.type, "to_text") else str(v))
    return args
