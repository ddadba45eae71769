"""The ConvNet trained by PyTorch, as a solver of the one training loop: one epoch per iteration.

Each epoch shuffles the training images (one ``torch.Generator``, seeded), augments each
mini-batch (``augment``), optionally mixes pairs of examples (mixup) and smooths the labels,
and takes one optimizer step per batch (AdamW or SGD with Nesterov momentum; weight decay on the
convolution and linear weights only, not on biases or BatchNorm's scale and shift), with the
learning rate of each *step* following a linear warm-up and a cosine decay to 0 over the whole
run. The cost the loop records for an epoch is the mean training loss of its batches (on the
augmented images, as they were trained on). Batches of one image are skipped: BatchNorm needs
two.

Seeded and reproducible: the initial weights come from ``torch.manual_seed(seed)`` on the CPU
(then moved to the device), every random draw of shuffling and augmentation from the solver's
generator on the CPU, and deterministic algorithms are asked for while training, so the same
seed gives the same model on the same machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from logicat.convnet import ConvNetSpec, param_shapes
from logicat.torch_backend.augment import Augmentation, augment, mix_batch
from logicat.torch_backend.convnet import ConvNet, images_to_tensor
from logicat.training.loop import Solver


class ConvNetSolver(Solver):
    """One epoch of mini-batch training per ``run`` iteration.

    images : uint8 (m, s, s, 3); y : (m,) labels 0/1; hyper : the ConvNet hyperparameters
    (``logicat.training.hyperparameters.CONVNET_DEFAULTS``' names); epochs : the run's length
    (for the per-step schedule); device : a ``torch.device``; dtype : of the arithmetic
    (float32; float64 to check it against logicat's own engine).
    """

    def __init__(self, spec: ConvNetSpec, images: np.ndarray, y: np.ndarray,
                 hyper: dict[str, Any], epochs: int, device: torch.device,
                 dtype: torch.dtype = torch.float32) -> None:
        self.spec, self.hyper, self.device = spec, hyper, device
        self.names = tuple(param_shapes(spec))
        seed = int(hyper["random_state"] or 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = ConvNet(spec, dropout=float(hyper["dropout"])).to(dtype)
        x = images_to_tensor(images, dtype)  # (m, 3, s, s) in [0, 1] on the CPU
        with torch.no_grad():  # the input normalisation: the training images' channel stats
            net.input.mean.copy_(x.mean(dim=(0, 2, 3)))
            net.input.std.copy_(x.std(dim=(0, 2, 3)).clamp_min(1e-3))
        self.net = net.to(device)
        self.x = x.to(device)
        self.y = torch.as_tensor(np.asarray(y), dtype=dtype, device=device)
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.augmentation = Augmentation(
            flip=bool(hyper["flip"]), crop=hyper["crop"], pad=int(hyper["crop_pad"]),
            scale=(float(hyper["crop_min_scale"]), 1.0), rotation=float(hyper["rotation"]),
            brightness=float(hyper["brightness"]), contrast=float(hyper["contrast"]),
            saturation=float(hyper["saturation"]))
        decay = [p for p in self.net.parameters() if p.ndim > 1]
        no_decay = [p for p in self.net.parameters() if p.ndim <= 1]
        groups = [{"params": decay, "weight_decay": float(hyper["weight_decay"])},
                  {"params": no_decay, "weight_decay": 0.0}]
        lr = float(hyper["learning_rate"])
        if hyper["optimizer"] == "adamw":
            self.optimizer = torch.optim.AdamW(groups, lr=lr)
        else:
            momentum = float(hyper["momentum"])
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=momentum,
                                             nesterov=momentum > 0)
        self.batch_size = int(hyper["batch_size"])
        self.steps_per_epoch = math.ceil(len(self.y) / self.batch_size)
        self.total_steps = epochs * self.steps_per_epoch
        self.step = 0

    # ------------------------------------------------------------------ the epochs
    def run(self, first: int, lrs: Sequence[float]) -> np.ndarray:
        costs = np.empty(len(lrs))
        self.net.train()
        with _deterministic():
            for k, lr in enumerate(lrs):
                costs[k] = self._epoch(lr)
        return costs

    def _epoch(self, base_lr: float) -> float:
        hyper, total, n = self.hyper, 0.0, 0
        order = torch.randperm(len(self.y), generator=self.generator).to(self.device)
        for b in range(self.steps_per_epoch):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            if len(idx) < 2:
                continue
            x = augment(self.x[idx], self.augmentation, self.generator)
            y = self.y[idx]
            if hyper["label_smoothing"]:
                y = y * (1 - hyper["label_smoothing"]) + 0.5 * hyper["label_smoothing"]
            if hyper["mixup"]:
                x, y = mix_batch(x, y, float(hyper["mixup"]), self.generator)
            for group in self.optimizer.param_groups:
                group["lr"] = base_lr * self._factor(self.step)
            loss = F.binary_cross_entropy_with_logits(self.net(x), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.step += 1
            total += float(loss.detach()) * len(idx)
            n += len(idx)
        return total / max(n, 1)

    def _factor(self, step: int) -> float:
        """The step's share of the base learning rate: warm-up, then cosine to 0."""
        if self.hyper["lr_schedule"] == "constant":
            return 1.0
        warmup = int(self.hyper["warmup"] * self.total_steps)
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, self.total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))

    # ------------------------------------------------------------------ the protocol
    def params(self) -> list[np.ndarray]:
        state = self.net.state_dict()
        return [state[name].detach().cpu().numpy() for name in self.names]

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        state = self.net.state_dict()
        with torch.no_grad():
            for name, value in zip(self.names, params, strict=True):
                state[name].copy_(torch.as_tensor(np.asarray(value)))

    def params_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.net.state_dict().values()
                   if p.is_floating_point())


class _deterministic:
    """Ask PyTorch for deterministic algorithms while training; restore the setting after."""

    def __enter__(self) -> None:
        self.before = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(True, warn_only=True)

    def __exit__(self, *exc: object) -> None:
        torch.use_deterministic_algorithms(self.before)
