"""The run's one random generator - NumPy's or torch's - and its state in a checkpoint.

Every random draw of a run after its start (the order of each epoch's examples, the
augmentation of each batch) comes from one generator the loop holds (``draws``); a snapshot
keeps its state so that a resumed run draws what the uninterrupted one would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logicat.core.errors import ModelFileError


def draws_state(draws: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """What a snapshot keeps of the run's random generator: a NumPy generator's state as
    ``rng_state`` (JSON), a torch generator's as the tensor ``rng.generator`` (uint8)."""
    if draws is None:
        return {}, {}
    if isinstance(draws, np.random.Generator):
        return {}, {"rng_state": draws.bit_generator.state}
    return {"rng.generator": draws.get_state().numpy().copy()}, {}


def load_draws(draws: Any, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Put back what ``draws_state`` kept (a snapshot without it - full batch never draws -
    leaves ``draws`` as it is); a state that is not one the generator wrote is a
    ``ModelFileError``."""
    if draws is None:
        return
    try:
        if isinstance(draws, np.random.Generator):
            if "rng_state" in meta:
                draws.bit_generator.state = meta["rng_state"]
        elif "rng.generator" in tensors:
            import torch

            draws.set_state(torch.from_numpy(np.array(tensors["rng.generator"])))
    except (KeyError, TypeError, RuntimeError, ValueError) as e:
        who = "NumPy" if isinstance(draws, np.random.Generator) else "torch"
        raise ModelFileError(f"the checkpoint's random generator state is not one {who} "
                             f"wrote ({str(e).splitlines()[0][:80]}).") from None
