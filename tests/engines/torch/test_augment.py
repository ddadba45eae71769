"""The ConvNet's augmentation of a batch (``logicat.engines.torch.augment``): seeded by one
generator; mixup and CutMix mix each image with the image ``perm`` gives it, and its label by
exactly the share of it that each image makes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from logicat.engines.torch.augment import (  # noqa: E402
    Augmentation,
    augment,
    cut_batch,
    mix_batch,
)


def _numbered(m=8, s=12):
    """Image i is the constant i (so each pixel says which image it came from), label i % 2."""
    x = torch.arange(m, dtype=torch.float64)[:, None, None, None].expand(m, 3, s, s).clone()
    return x, (torch.arange(m) % 2).double(), torch.arange(1, m + 1).double()


@pytest.mark.parametrize("alpha", [0.2, 1.0, 5.0])
def test_cutmix_mixes_each_label_by_the_area_it_keeps(alpha):
    x, y, w = _numbered()
    for seed in range(20):
        out, mixed_y, mixed_w = cut_batch(x, y, alpha, torch.Generator().manual_seed(seed), w)
        for i in range(len(x)):
            values, counts = np.unique(out[i, 0].numpy(), return_counts=True)
            share = dict(zip(values.astype(int).tolist(), (counts / counts.sum()).tolist(),
                             strict=True))
            assert set(share) <= {i} | set(range(len(x)))
            other = next((j for j in share if j != i), None)
            kept = share.get(i, 0.0)
            expected_y = kept * y[i] + (1 - kept) * (y[other] if other is not None else 0)
            assert float(mixed_y[i]) == pytest.approx(float(expected_y), abs=1e-12)
            expected_w = kept * w[i] + (1 - kept) * (w[other] if other is not None else 0)
            assert float(mixed_w[i]) == pytest.approx(float(expected_w), abs=1e-12)
        box = out[:, 0] != x[:, 0]  # one box, the same for every image that got another's
        rows, cols = box.any(dim=(0, 2)), box.any(dim=(0, 1))
        if rows.any():
            assert bool(box.any(0)[rows][:, cols].all())  # a rectangle


def test_mixup_is_one_convex_combination_of_images_labels_and_weights_and_is_seeded():
    from logicat.engines.torch.augment import _beta

    x, y, w = _numbered()
    out, mixed_y, mixed_w = mix_batch(x, y, 0.4, torch.Generator().manual_seed(0), w)
    replay = torch.Generator().manual_seed(0)  # the same draws, in the same order
    lam = _beta(0.4, replay)
    perm = torch.randperm(len(x), generator=replay)
    torch.testing.assert_close(out, lam * x + (1 - lam) * x[perm], rtol=0, atol=1e-12)
    torch.testing.assert_close(mixed_y, lam * y + (1 - lam) * y[perm], rtol=0, atol=1e-12)
    torch.testing.assert_close(mixed_w, lam * w + (1 - lam) * w[perm], rtol=0, atol=1e-12)
    assert 0 < lam < 1 and not torch.equal(perm, torch.arange(len(x)))
    first = cut_batch(x, y, 1.0, torch.Generator().manual_seed(3))
    assert torch.equal(first[0], cut_batch(x, y, 1.0, torch.Generator().manual_seed(3))[0])


def test_flips_and_padded_shifts_move_pixels_only():
    x = torch.rand(4, 3, 10, 10, generator=torch.Generator().manual_seed(0))
    out = augment(x, Augmentation(flip=True, crop="pad", pad=2), torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    for i in range(4):  # every value of the augmented image is one of the image's own
        assert set(out[i].flatten().tolist()) <= set(x[i].flatten().tolist())
