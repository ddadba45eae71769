r"""What a model does after its layers: from its members' logits to the logit it decides on.

A model is one list of layers (``logicat.nn.layers``) trained once or K times (an ensemble's
members: the same layers, their own tensors). Its output step turns the members' logits z_k
into the logit z whose sigmoid is p(positive class):

    temperature   c_k = z_k / T                     calibration: T > 1 softens, T < 1 sharpens,
                                                    fitted on out-of-fold logits
                                                    (``fit_temperature``)
    combine       c = mean_k c_k                    "logit": the mean logit
                  c = logit(mean_k sigma(c_k))      "proba": the mean probability
    prior         z = c + ln(P / (1 - P))           the decision at the class mix P instead of
                        - ln(pi / (1 - pi))         the training mix pi (Bayes: the likelihood
                                                    ratio stays, the prior odds change)

pi is the fraction of positives the model was trained on (weighted, as the loss weighs them:
with ``class_weight="balanced"`` it is 0.5); P is "train" (pi itself: z = c), "balanced" (0.5)
or a number in (0, 1). One member, T = 1 and P = "train" is the identity: the lesson's model
decides at sigma(z) > 0.5 exactly as before. Every engine applies the same step: the NumPy
engine here (``Model.decision_function``), the ONNX exporter as graph nodes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

COMBINES = ("logit", "proba")
#: the temperatures a file may hold (a model calibrated to T = 1000 says nothing)
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-2, 1e2
MAX_MEMBERS = 64
PRIOR_WORDS = ("train", "balanced")


@dataclass(frozen=True)
class Output:
    """A model's output step (see the module docstring), as model files record it under
    ``output``."""

    members: int = 1
    combine: str = "logit"
    temperature: float = 1.0
    #: the fraction of (weighted) positives among the training images; None for files written
    #: before logicat recorded it, which can then decide at their training mix only
    training_prior: float | None = None
    #: the class mix decisions are made at when a caller names none
    prior: float | str = "train"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"members": self.members, "combine": self.combine,
                               "temperature": self.temperature, "prior": self.prior}
        if self.training_prior is not None:
            out["training_prior"] = self.training_prior
        return out

    @classmethod
    def from_json(cls, entry: Any) -> Output:
        """The output step a file's ``output`` entry describes, checked (``ValueError``, one
        line naming what is wrong)."""
        if not isinstance(entry, Mapping):
            raise ValueError(f"the output must be an object. Got {_short(entry)}.")
        unknown = sorted(set(entry) - {"members", "combine", "temperature", "prior",
                                       "training_prior"})
        if unknown:
            raise ValueError(f"the output has an unknown entry {_short(unknown[0])}.")
        members = entry.get("members", 1)
        if not (isinstance(members, int) and not isinstance(members, bool)
                and 1 <= members <= MAX_MEMBERS):
            raise ValueError(f"the output's members must be an int in [1, {MAX_MEMBERS}]. Got "
                             f"{_short(members)}.")
        combine = entry.get("combine", "logit")
        if combine not in COMBINES:
            raise ValueError(f"the output's combine must be one of {', '.join(COMBINES)}. Got "
                             f"{_short(combine)}.")
        temperature = entry.get("temperature", 1.0)
        if not (_number(temperature) and MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE):
            raise ValueError(f"the output's temperature must be a number in "
                             f"[{MIN_TEMPERATURE}, {MAX_TEMPERATURE}]. Got "
                             f"{_short(temperature)}.")
        training = entry.get("training_prior")
        if training is not None and not (_number(training) and 0 < training < 1):
            raise ValueError(f"the output's training_prior must be a number in (0, 1). Got "
                             f"{_short(training)}.")
        prior = check_prior(entry.get("prior", "train"), "the output's prior")
        if prior != "train" and training is None:
            raise ValueError(f"the output decides at the prior {prior!r}, but it does not "
                             "record the training class mix (training_prior) to correct from.")
        return cls(members, combine, float(temperature),
                   None if training is None else float(training), prior)

    def at(self, prior: float | str | None) -> Output:
        """This output deciding at ``prior`` (None: as it is)."""
        return self if prior is None else replace(self, prior=check_prior(prior, "prior"))

    def decision_prior(self, prior: float | str | None = None) -> float | None:
        """The class mix P decisions are made at: ``prior``, else the model's own; None when
        that is "train" and the training mix is not recorded."""
        prior = self.prior if prior is None else check_prior(prior, "prior")
        if prior == "train":
            return self.training_prior
        return 0.5 if prior == "balanced" else float(prior)

    def shift(self, prior: float | str | None = None) -> float:
        """ln(P / (1 - P)) - ln(pi / (1 - pi)): what deciding at P adds to the logit; 0 at the
        training mix. A ``ValueError`` when P is not the training mix and pi is unknown."""
        prior = self.prior if prior is None else check_prior(prior, "prior")
        if prior == "train":
            return 0.0
        if self.training_prior is None:
            raise ValueError("this model does not record the class mix it was trained on "
                             "(it was written before logicat recorded it), so it decides at "
                             "that mix only: predict without a prior, or train it again.")
        target = self.decision_prior(prior)
        return log_odds(target) - log_odds(self.training_prior)

    def logit(self, member_logits: np.ndarray, prior: float | str | None = None) -> np.ndarray:
        """z (m,) from the members' logits (K, m): temperature, combination, prior."""
        z = np.asarray(member_logits) / self.temperature
        if len(z) == 1:
            c = z[0]
        elif self.combine == "logit":
            c = z.mean(axis=0)
        else:  # logit(mean sigma(z_k)) = log mean sigma(z_k) - log mean sigma(-z_k), stably
            log_p = np.logaddexp.reduce(-np.logaddexp(0.0, -z), axis=0)
            log_q = np.logaddexp.reduce(-np.logaddexp(0.0, z), axis=0)
            c = log_p - log_q
        shift = self.shift(prior)
        return c + shift if shift else c

    def describe(self, prior: float | str | None = None) -> str:
        """The output step in words, for ``logicat info``, the page and the report: "mean logit
        of 5 members, T = 1.84, deciding at p(positive) = 0.5 (balanced; trained at 0.344)"."""
        parts = []
        if self.members > 1:
            parts.append(f"mean {'logit' if self.combine == 'logit' else 'probability'} of "
                         f"{self.members} members")
        if self.temperature != 1.0:
            parts.append(f"logit / T, T = {self.temperature:.4g}")
        prior = self.prior if prior is None else check_prior(prior, "prior")
        at = self.decision_prior(prior)
        trained = ("" if self.training_prior is None
                   else f"trained at {self.training_prior:.3g}")
        if prior == "train":
            parts.append("deciding at the training class mix"
                         + (f" ({self.training_prior:.3g} positive)" if trained else ""))
        else:
            word = "balanced, " if prior == "balanced" else ""
            parts.append(f"deciding at a class mix of {at:.3g} positive ({word}{trained})")
        return "; ".join(parts)


def check_prior(value: Any, name: str = "prior") -> float | str:
    """``value`` as a prior: "train", "balanced" or a number in (0, 1) (a string of one too),
    else a ``ValueError`` naming ``name``."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in PRIOR_WORDS:
            return text
        try:
            value = float(text)
        except ValueError:
            value = text
    if _number(value) and 0 < value < 1:
        return float(value)
    raise ValueError(f"{name} must be 'train', 'balanced' or a number in (0, 1) (the fraction "
                     f"of positives to decide at). Got {_short(value)} instead.")


def log_odds(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def training_prior(y01: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The fraction of positives among labels ``y01``, each weighted as the loss weighs it."""
    y = np.asarray(y01, np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, np.float64)
    return float((w * y).sum() / w.sum())


def fit_temperature(z: np.ndarray, y01: np.ndarray, weights: np.ndarray | None = None
                    ) -> float:
    """The T minimising the (weighted) mean cross-entropy of sigma(z / T) on labels ``y01``
    (Guo et al. 2017's temperature scaling; convex in 1 / T), within the bounds a file may
    hold."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(z, np.float64)
    y = np.asarray(y01, np.float64)
    w = np.ones_like(z) if weights is None else np.asarray(weights, np.float64)

    def cost(log_t: float) -> float:
        a = z / math.exp(log_t)  # -[y log s(a) + (1 - y) log s(-a)], stably
        return float((w * (y * np.logaddexp(0.0, -a) + (1 - y) * np.logaddexp(0.0, a))).sum()
                     / w.sum())

    best = minimize_scalar(cost, bounds=(math.log(MIN_TEMPERATURE), math.log(MAX_TEMPERATURE)),
                           method="bounded", options={"xatol": 1e-8})
    return float(math.exp(best.x))


def _number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
