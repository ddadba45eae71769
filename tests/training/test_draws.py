"""``logicat.training.draws``: the run's one generator, NumPy's or torch's, kept in a
checkpoint and put back (whole runs resumed through it: test_loop.py, test_image_fit.py,
test_dense_fit.py, test_torch_solver.py)."""

from __future__ import annotations

import numpy as np
import pytest

from logicat.core.errors import ModelFileError
from logicat.training.draws import draws_state, load_draws


def test_a_numpy_generator_goes_on_where_it_was_saved():
    rng = np.random.default_rng(7)
    rng.permutation(10)
    tensors, meta = draws_state(rng)
    expected = rng.permutation(209)
    again = np.random.default_rng(0)
    load_draws(again, tensors, meta)
    np.testing.assert_array_equal(again.permutation(209), expected)
    assert draws_state(None) == ({}, {})


def test_a_torch_generator_goes_on_where_it_was_saved():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(5)
    torch.randperm(10, generator=g)
    tensors, meta = draws_state(g)
    assert tensors["rng.generator"].dtype == np.uint8 and meta == {}
    expected = torch.randperm(209, generator=g)
    again = torch.Generator().manual_seed(0)
    load_draws(again, tensors, meta)
    assert torch.equal(torch.randperm(209, generator=again), expected)


def test_a_state_no_generator_wrote_is_a_model_file_error():
    with pytest.raises(ModelFileError, match="not one NumPy wrote"):
        load_draws(np.random.default_rng(0), {}, {"rng_state": {"bit_generator": "nope"}})
    torch = pytest.importorskip("torch")
    with pytest.raises(ModelFileError, match="not one torch wrote"):
        load_draws(torch.Generator(), {"rng.generator": np.zeros(3, np.uint8)}, {})
    kept = np.random.default_rng(1)
    load_draws(kept, {}, {})  # full batch never draws: nothing kept, nothing changed
    assert kept.integers(1 << 30) == np.random.default_rng(1).integers(1 << 30)
