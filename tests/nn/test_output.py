"""The output step: the Bayes correction against its formula, the combinations, the
temperature's fit, and the file entry's checks."""

import math

import numpy as np
import pytest

from logicat.nn.loss import sigmoid
from logicat.nn.output import Output, check_prior, fit_temperature, log_odds, training_prior


def test_the_identity_leaves_the_logit_alone():
    z = np.array([[-3.0, 0.0, 2.5]])
    np.testing.assert_array_equal(Output(training_prior=0.3).logit(z), z[0])
    np.testing.assert_array_equal(Output().logit(z), z[0])  # no recorded mix: still decides


@pytest.mark.parametrize("prior, target", [("balanced", 0.5), (0.9, 0.9), (0.1, 0.1),
                                           ("train", 0.344)])
def test_the_prior_is_the_exact_bayes_correction(prior, target):
    """p' = P l / (P l + (1 - P)), l = the likelihood ratio p / (1 - p) * (1 - pi) / pi."""
    pi = 0.344
    z = np.linspace(-6, 6, 13)
    p = sigmoid(z)
    ratio = p / (1 - p) * (1 - pi) / pi
    expected = target * ratio / (target * ratio + (1 - target))
    got = sigmoid(Output(training_prior=pi, prior=prior).logit(z[None]))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert Output(training_prior=pi).shift(prior) == pytest.approx(
        log_odds(target) - log_odds(pi), abs=1e-15)


def test_a_prior_given_to_logit_overrides_the_models():
    out = Output(training_prior=0.25, prior="balanced")
    z = np.zeros((1, 2))
    np.testing.assert_allclose(out.logit(z), [math.log(3)] * 2)
    np.testing.assert_allclose(out.logit(z, prior="train"), [0, 0])


def test_deciding_at_another_mix_needs_the_training_mix():
    with pytest.raises(ValueError, match="does not record the class mix"):
        Output().logit(np.zeros((1, 3)), prior="balanced")


def test_mean_logit_and_mean_probability():
    z = np.array([[2.0, -1.0], [-4.0, 3.0], [0.5, 0.5]])
    np.testing.assert_allclose(Output(members=3).logit(z), z.mean(axis=0), rtol=1e-15)
    p = sigmoid(Output(members=3, combine="proba").logit(z))
    np.testing.assert_allclose(p, sigmoid(z).mean(axis=0), rtol=1e-12)
    # stable where sigma saturates: a logit of 800 and one of -800 average to p = 0.5
    assert Output(members=2, combine="proba").logit(np.array([[800.0], [-800.0]]))[0] == (
        pytest.approx(0.0, abs=1e-9))


def test_the_temperature_divides_each_members_logit():
    z = np.array([[2.0, -1.0], [-4.0, 3.0]])
    np.testing.assert_allclose(Output(members=2, temperature=2.0).logit(z),
                               z.mean(axis=0) / 2, rtol=1e-15)
    p = sigmoid(Output(members=2, combine="proba", temperature=2.0).logit(z))
    np.testing.assert_allclose(p, sigmoid(z / 2).mean(axis=0), rtol=1e-12)


def test_fit_temperature_recovers_the_temperature_of_the_labels():
    """Labels drawn from sigma(z / 3): the fitted T is 3 to sampling error, and it minimises
    the log-loss (no T nearby does better)."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 6, 20000)
    y = (rng.random(len(z)) < sigmoid(z / 3)).astype(int)
    t = fit_temperature(z, y)
    assert t == pytest.approx(3.0, rel=0.05)

    def cost(temp):
        p = sigmoid(z / temp)
        return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))

    assert cost(t) <= min(cost(t * 1.01), cost(t / 1.01))


def test_fit_temperature_weighs_the_examples():
    z = np.array([-2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([0, 1, 0, 1, 1])
    w = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    repeated = fit_temperature(np.repeat(z, w.astype(int)), np.repeat(y, w.astype(int)))
    assert fit_temperature(z, y, w) == pytest.approx(repeated, rel=1e-6)


def test_training_prior_is_the_weighted_fraction_of_positives():
    y = np.array([1, 0, 0, 0])
    assert training_prior(y) == 0.25
    balanced = np.where(y == 1, 4 / 2, 4 / 6)
    assert training_prior(y, balanced) == pytest.approx(0.5)


@pytest.mark.parametrize("value, expected", [("train", "train"), ("Balanced", "balanced"),
                                             ("0.25", 0.25), (0.75, 0.75)])
def test_check_prior_accepts(value, expected):
    assert check_prior(value) == expected


@pytest.mark.parametrize("value", [0, 1, 1.5, -0.1, "abc", float("nan"), None, True, "1"])
def test_check_prior_refuses_with_one_line(value):
    with pytest.raises(ValueError, match=r"^--prior must be 'train', 'balanced' or a number") as e:
        check_prior(value, "--prior")
    assert "\n" not in str(e.value)


def test_the_file_entry_round_trips_and_is_checked():
    out = Output(members=5, combine="proba", temperature=1.7, training_prior=0.344,
                 prior="balanced")
    assert Output.from_json(out.to_json()) == out
    assert Output.from_json({}) == Output()
    for bad, words in [({"members": 0}, "members"), ({"members": 1.5}, "members"),
                       ({"combine": "max"}, "combine"), ({"temperature": 0}, "temperature"),
                       ({"temperature": 1e9}, "temperature"), ({"training_prior": 1}, "prior"),
                       ({"prior": "cats"}, "prior"), ({"extra": 1}, "unknown"), ([], "object"),
                       ({"prior": "balanced"}, "does not record the training class mix")]:
        with pytest.raises(ValueError, match=words):
            Output.from_json(bad)


def test_describe_says_what_the_output_does():
    out = Output(members=5, temperature=1.84, training_prior=0.344, prior="balanced")
    text = out.describe()
    assert "mean logit of 5 members" in text and "T = 1.84" in text
    assert "0.5 positive (balanced, trained at 0.344)" in text
    assert out.describe("train").endswith("training class mix (0.344 positive)")
