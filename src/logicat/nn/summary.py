r"""A model's layers as a table, one row per layer, as Keras's ``model.summary()`` prints them.

Each row is a layer's name, its type with its key options (``conv2d 3x3, 16``, ``maxpool 2``,
``dense 1``), the shape of its output for one example - (C, H, W) for images, (n,) for
vectors, written as PyTorch writes a size: ``(16, 64, 64)`` - and how many values its tensors
hold. The first row is the input; a layer that holds layers (a residual block's ``body`` and
``shortcut``) is followed by its own, indented, the shortcut's marked. At the bottom, the
totals:

    total      every value the tensors hold            = ``logicat.nn.layers.n_params``
    trained    the weights and biases gradient descent moves
    not trained  what is measured on the data: the input's normalisation (mean, std) and
               BatchNorm's running statistics

It reads only what every layer answers - ``type``, ``name``, ``tensor_names()``,
``shapes([layer], input_shape)`` and, where the layer has them, ``describe()`` and the inner
lists ``body`` and ``shortcut`` - so a new layer type needs nothing here (``_TYPES`` describes
the layers that do not describe themselves). No line is wider than ``width``: long names are
cut with an ellipsis, never wrapped.

Beside the table, the hyperparameters a summary shows of a model (``meaningful``: ``logicat
info``, the web page, the report): those that mean something for it - no momentum for Adam, no
activation without hidden layers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

from logicat.nn.layers import ACTIVATIONS, Layer, logit_layers, shapes

#: the narrowest table printed, whatever ``width`` asks: the columns' headings fit
MIN_WIDTH = 60
#: the roles whose values gradient descent moves; every other role is measured on the data
TRAINED_ROLES = ("weight", "bias")
_HEADINGS = ("layer", "type", "output shape", "params")
_GAP = "  "


#: a layer type -> its options in a few characters, for layers without ``describe()``; a type
#: not listed shows its name only
_TYPES: dict[str, Callable[[dict], str]] = {
    "conv2d": lambda o: f"conv2d {o['kernel']}x{o['kernel']}, {o['filters']}" + (
        f", stride {o['stride']}" if o["stride"] != 1 else ""),
    "maxpool": lambda o: f"maxpool {o['kernel']}" + (
        f", stride {o['stride']}" if o["stride"] != o["kernel"] else ""),
    "dropout": lambda o: f"dropout {o['rate']:g}",
    "dense": lambda o: f"dense {o['units']}",
}


@dataclass(frozen=True)
class _Row:
    depth: int  # 0 for the model's own layers, 1 inside a block, ...
    name: str
    type: str
    shape: tuple[int, ...]
    params: int


def summary(layers: Sequence[Layer], input_shape: tuple[int, ...], width: int = 80) -> str:
    """The table of ``layers`` taking one example of ``input_shape`` - (C, H, W) images or
    (n,) vectors - in lines of at most ``max(width, MIN_WIDTH)`` characters.

    A layer whose shapes do not fit raises ``logicat.nn.layers``' ``ShapeError``."""
    shape = tuple(int(s) for s in input_shape)
    rows = [_Row(0, "", "input", shape, 0)]
    held: dict[str, tuple[int, str]] = {}  # tensor name -> (values, role)
    kinds: dict[str, list[str]] = {}  # layer type -> its roles that are not trained
    for lay in layers:
        shape = _rows(lay, shape, 0, rows, held, kinds)
    trained = sum(n for n, role in held.values() if role in TRAINED_ROLES)
    total = sum(n for n, _ in held.values())
    measured = "; ".join(f"{kind} {'/'.join(roles)}" for kind, roles in kinds.items())
    return _table(rows, width, [
        ("total", total, "values the model holds"),
        ("trained", trained, "weights and biases"),
        ("not trained", total - trained, measured or "-"),
    ])


def describe(lay: Layer) -> str:
    """The layer's type and its key options: ``conv2d 3x3, 16``, ``maxpool 2``, ``dense 1`` -
    what the layer's own ``describe()`` says where it has one, else ``_TYPES``'s line."""
    own = getattr(lay, "describe", None)
    if callable(own):
        return str(own())
    show = _TYPES.get(lay.type)
    return show(dict(lay.options)) if show else lay.type


def _rows(lay: Layer, shape: tuple[int, ...], depth: int, rows: list[_Row],
          held: dict[str, tuple[int, str]], kinds: dict[str, list[str]],
          mark: str = "") -> tuple[int, ...]:
    """Append the layer's row, then its inner layers' rows, for an input of ``shape``; return
    its output's shape. ``held`` gathers the tensors (name -> values, role), each once;
    ``kinds`` the roles that are not trained, by layer type."""
    tensors, out = shapes([lay], shape)
    own = {name: (prod(tensors[name]), role) for role, name in lay.tensor_names().items()
           if name in tensors}
    for _, role in own.values():
        if role not in TRAINED_ROLES and role not in kinds.get(lay.type, []):
            kinds.setdefault(lay.type, []).append(role)
    at = len(rows)
    rows.append(_Row(depth, mark + _name(lay), describe(lay), out, 0))
    body: Sequence[Layer] = getattr(lay, "body", None) or ()
    shortcut: Sequence[Layer] = (getattr(lay, "shortcut", None) or ()) if body else ()
    for part, part_mark in ((body, ""), (shortcut, "shortcut ")):
        step = shape  # both paths of a block start from the block's input
        for sub in part:
            step = _rows(sub, step, depth + 1, rows, own, kinds, part_mark)
    held.update(own)
    rows[at] = _Row(depth, rows[at].name, rows[at].type, out, sum(n for n, _ in own.values()))
    return out


def _name(lay: Layer) -> str:
    """The layer's name, or else its tensors' names (``coef, intercept``), or else "-"."""
    return lay.name or ", ".join(lay.tensor_names().values()) or "-"


def _table(rows: list[_Row], width: int, totals: list[tuple[str, int, str]]) -> str:
    """The rows in four columns and the totals under them, no line over ``width``."""
    width = max(int(width), MIN_WIDTH)
    cells = [(_GAP * r.depth + r.name, r.type, str(r.shape), f"{r.params:,}") for r in rows]
    cols = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(_HEADINGS)]
    # too wide: the names give way first, then the types, down to 8 characters each
    excess = sum(cols) + len(_GAP) * 3 - width
    for i in (0, 1):
        cut = min(max(excess, 0), max(cols[i] - 8, 0))
        cols[i] -= cut
        excess -= cut
    rule = "=" * min(sum(cols) + len(_GAP) * 3, width)

    def line(cell: Sequence[str]) -> str:
        name, kind, shape, params = (_fit(c, n) for c, n in zip(cell, cols, strict=True))
        return _fit(_GAP.join([f"{name:<{cols[0]}}", f"{kind:<{cols[1]}}",
                               f"{shape:<{cols[2]}}", f"{params:>{cols[3]}}"]).rstrip(), width)

    lines = [line(_HEADINGS), rule, *(line(c) for c in cells), rule]
    label = max(len(what) for what, _, _ in totals) + 1
    digits = max(len(f"{n:,}") for _, n, _ in totals)
    lines += [_fit(f"{what + ':':<{label}} {n:>{digits},}  {why}", width)
              for what, n, why in totals]
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    """``text``, or its first ``width - 1`` characters and an ellipsis."""
    return text if len(text) <= width else text[:width - 1] + "…"


# ------------------------------------------------- what a model's hyperparameters mean to it
def _hidden_activation(params, layers) -> bool:
    """Whether an activation sits before the output unit: a network's hidden layers."""
    return any(lay.type in ACTIVATIONS for lay in logit_layers(layers))


#: hyperparameter -> whether it means anything for the model (its hyperparameters, its layers);
#: ``logicat info`` and the web page leave it out where not. The rest always mean something.
USED_WHEN = {
    "callbacks": lambda p, layers: False,  # Python objects while fitting; a file holds None
    "verbose": lambda p, layers: False,  # what fit printed, not what the model is
    # where torch computed: the dense models' torch engine; a ConvNet has no engine but torch
    "device": lambda p, layers: p.get("engine", "torch") == "torch",
    "activation": _hidden_activation,
    "momentum": lambda p, layers: p.get("optimizer") in ("momentum", "nesterov", "sgd"),
    "beta_1": lambda p, layers: p.get("optimizer") in ("adam", "adamw"),
    "beta_2": lambda p, layers: p.get("optimizer") in ("adam", "adamw"),
    "epsilon": lambda p, layers: p.get("optimizer") in ("adam", "adamw"),
    "lr_decay": lambda p, layers: p.get("lr_schedule") in ("inverse", "exponential"),
    "warmup": lambda p, layers: p.get("lr_schedule") == "cosine",
    "shuffle": lambda p, layers: p.get("batch_size") is not None,  # full batch: one order
    "n_iter_no_change": lambda p, layers: bool(p.get("early_stopping"))
    or p.get("tol") is not None,
    "validation_fraction": lambda p, layers: bool(p.get("early_stopping")),
    "crop_pad": lambda p, layers: p.get("crop") == "pad",
    "crop_min_scale": lambda p, layers: p.get("crop") == "resized",
    "average_decay": lambda p, layers: p.get("average") == "ema",
    "average_start": lambda p, layers: p.get("average") == "swa",
    "members": lambda p, layers: p.get("n_members", 1) > 1,
    "combine": lambda p, layers: p.get("n_members", 1) > 1,
    "calibration_cv": lambda p, layers: p.get("calibration") is not None and not (
        p.get("members") == "folds" and p.get("n_members", 1) > 1),
}


def meaningful(entries: dict, params: dict, layers) -> dict:
    """``entries`` (hyperparameters, or an architecture's options) less those that mean nothing
    for the model of ``params`` and ``layers`` (``USED_WHEN``)."""
    return {k: v for k, v in entries.items() if k not in USED_WHEN or USED_WHEN[k](params, layers)}
