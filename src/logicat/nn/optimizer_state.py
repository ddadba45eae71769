"""The update rules every model trains with, and the state each keeps: the one layout of the
optimizer state in every checkpoint, ``torch.optim``'s names by tensor.

``training.optimizers`` (logicat's NumPy rules and the ``torch.optim`` factory) and the
solvers step by these names; ``io.validate_checkpoint`` checks a checkpoint's state against
``optimizer_state_shapes`` without importing any training code.
"""

from __future__ import annotations

from collections.abc import Mapping

#: every model's update rules, one registry: logicat's NumPy rules (``training.optimizers``) and
#: their ``torch.optim`` twins (the torch engine, the ConvNet) - plain gradient descent, heavy-ball
#: momentum, SGD with Nesterov momentum, Adam, and AdamW (Adam with decoupled weight decay)
OPTIMIZERS = ("gd", "momentum", "nesterov", "adam", "adamw")
#: what ConvNet files written before the one registry call their SGD: "nesterov" with a
#: momentum > 0, "gd" with none (``update_rule``); still read and trained, never written
LEGACY_OPTIMIZERS = ("sgd",)


def update_rule(optimizer: str, momentum: float) -> str:
    """The rule of ``OPTIMIZERS`` an optimizer's name stands for (a legacy "sgd": nesterov
    with a momentum, gd without)."""
    if optimizer in LEGACY_OPTIMIZERS:
        return "nesterov" if momentum > 0 else "gd"
    return optimizer


def moments(optimizer: str, momentum: float) -> tuple[str, ...]:
    """What the ``torch.optim`` twin of an optimizer of ``OPTIMIZERS`` keeps per trained tensor
    (Adam's and AdamW's step count besides: ``steps_counted``)."""
    rule = update_rule(optimizer, momentum)
    if steps_counted(rule):  # Adam and AdamW
        return ("exp_avg", "exp_avg_sq")
    return ("momentum_buffer",) if rule != "gd" and momentum > 0 else ()


def steps_counted(optimizer: str) -> bool:
    """Whether the optimizer keeps a step count (Adam's bias correction)."""
    return optimizer in ("adam", "adamw")


def optimizer_state_shapes(trained: Mapping[str, tuple[int, ...]], optimizer: str,
                           momentum: float) -> dict[str, tuple[int, ...]]:
    """The optimizer state a checkpoint holds for the ``trained`` tensors ({name: shape}), in
    the one layout of every solver (``torch.optim``'s names by tensor): its moments per tensor
    (``optimizer.<name>.exp_avg``, ...) and Adam's or AdamW's step count (``optimizer.step``)."""
    out = {f"optimizer.{name}.{key}": shape for name, shape in trained.items()
           for key in moments(optimizer, momentum)}
    if steps_counted(update_rule(optimizer, momentum)):
        out["optimizer.step"] = (1,)
    return out
