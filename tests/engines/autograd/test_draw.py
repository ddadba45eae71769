"""Pictures of the computation graph (``logicat.engines.autograd.draw``): the lesson's examples
as text, DOT, SVG, PNG, and the CLI. (The examples' values and gradients: ``test_graphs.py``.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from logicat import LogisticRegression, cost_and_gradients
from logicat.engines.autograd import draw
from logicat.engines.autograd import graphs as examples
from logicat.engines.autograd.tensor import topological_order
from tests.conftest import invoke
from tests.engines.autograd.test_graphs import by_name


def _svg_texts(path) -> list[str]:
    tree = ET.parse(path)  # the SVG must be well-formed XML
    assert tree.getroot().tag == "{http://www.w3.org/2000/svg}svg"
    return [t.text for t in tree.getroot().iter("{http://www.w3.org/2000/svg}text") if t.text]


def test_text_rendering_lists_every_node():
    text = draw.to_text(examples.abc(), title="J = 3(a + bc)")
    lines = text.splitlines()
    assert lines[0] == "J = 3(a + bc)"
    assert lines[1].split() == ["node", "shape", "value", "grad", "=", "dJ/d(node)"]
    assert lines[-1].split() == ["J", "=", "3", "*", "v", "()", "33", "1"]
    assert ["u", "=", "b", "*", "c", "()", "6", "3"] in [line.split() for line in lines]


def test_large_arrays_are_summarized(cat_features):
    X, y, _, _ = cat_features
    text = draw.to_text(examples.vectorized(X, y.astype(float)))
    assert "(209, 12288)" in text and "mean 0.4039, range [0, 1]" in text
    assert max(len(line) for line in text.splitlines()) < 200


def test_summarize():
    assert draw.summarize(np.array(33.0)) == "33"
    assert draw.summarize(np.array(-0.0)) == "0"
    assert draw.summarize(np.array([1.0, 2.5])) == "[1 2.5]"
    assert draw.summarize(np.arange(10.0)) == "mean 4.5, range [0, 9]"
    assert draw.summarize(None) == "-"


def test_dot_has_one_node_per_tensor_and_forward_edges():
    dot = draw.to_dot(examples.abc())
    assert dot.count("[label=<") == 6  # a, b, c, u, v, J; the constant 3 is written inline
    assert dot.count("->") == 5


def test_abc_svg_parses_and_shows_labels_values_and_gradients(tmp_path):
    path = draw.render(examples.abc(), tmp_path / "abc.svg", title="J = 3(a + bc)")
    texts = _svg_texts(path)
    for expected in ["J = 3 * v", "v = a + u", "u = b * c", "value 33", "value 11", "value 6",
                     "grad 3", "grad 6", "grad 9", "grad 1", "J = 3(a + bc)"]:
        assert expected in texts, expected


def test_png_render(tmp_path):
    path = draw.render(examples.logistic(), tmp_path / "logistic.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_suffix():
    with pytest.raises(ValueError, match=r"must end in \.svg, \.png"):
        draw.format_for(draw.Path("graph.jpg"))


# ---- the command line


def _run(*args):
    return invoke("graph", *args)


def test_cli_prints_text_by_default():
    result = _run("--example", "abc")
    assert result.exit_code == 0, result.output
    assert "J = 3 * v" in result.output and "33" in result.output


@pytest.mark.parametrize("example", ["abc", "logistic", "vectorized"])
def test_cli_writes_svg(example, tmp_path):
    out = tmp_path / f"{example}.svg"
    result = _run("--example", example, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Saved the graph to {out}" in result.output
    texts = _svg_texts(out)
    assert any(t.startswith("grad") for t in texts)
    if example == "vectorized":
        assert "shape (209, 12288)" in texts and "A = sigmoid(Z)" in texts


def test_cli_png_and_dot(tmp_path):
    assert _run("--example", "abc", "--out", str(tmp_path / "g.png")).exit_code == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    result = _run("--example", "abc", "--format", "dot")
    assert result.exit_code == 0 and result.output.startswith("digraph")


def test_cli_model_step(cat_features, tmp_model_path, tmp_path):
    X, y, _, _ = cat_features
    LogisticRegression(max_iter=3).fit(X, y).save(tmp_model_path)
    out = tmp_path / "step.svg"
    result = _run("--model", str(tmp_model_path), "--out", str(out))
    assert result.exit_code == 0, result.output
    texts = _svg_texts(out)
    assert "J = mean(L)" in texts and "z = t1 + b" in texts
    assert any("One training step of model.safetensors" in t for t in texts)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give either --example or --model"),
        (("--example", "abc", "--model", "m.safetensors"), "Give either --example or --model"),
        (("--example", "abc", "--out", "g.jpg"), "must end in .svg, .png"),
        (("--example", "abc", "--format", "svg"), "--format svg writes a file"),
        (("--example", "nope"), "'nope' is not one of"),
    ],
)
def test_cli_usage_errors(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_missing_model_is_one_line_error(tmp_path):
    result = _run("--model", str(tmp_path / "missing.safetensors"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


def test_model_step_with_standardisation_and_l2(cat_features, tmp_model_path):
    X, y, _, _ = cat_features
    clf = LogisticRegression(max_iter=3, standardize=True, alpha=0.5).fit(X, y)
    clf.save(tmp_model_path)
    result = _run("--model", str(tmp_model_path))
    assert result.exit_code == 0, result.output
    assert "cost = mean(L)" in result.output and "J = cost + t" in result.output
    # the graph's J is the training objective at the saved parameters
    from logicat.nn.scaling import standardize

    Xs = standardize(X, clf.feature_mean_, clf.feature_scale_)
    J, _, _ = cost_and_gradients(clf.coef_, clf.intercept_, Xs, y.astype(float))
    J += 0.25 / len(y) * float(clf.coef_ @ clf.coef_)
    assert f"J = {J:.6g}" in result.output


def test_cli_draws_the_tiny_convnet_after_forward_and_backward(cat_data):
    result = _run("--example", "convnet")
    assert result.exit_code == 0, result.output
    rows = [line.split("  ")[0] for line in result.output.splitlines()[3:]]
    for expected in ["conv = conv2d(X, conv.weight, stride=1, padding=1)",
                     "bn = batch_norm(conv, bn.weight, bn.bias, eps=1e-05)",
                     "relu = relu(bn)",
                     "pool = max_pool2d(relu, kernel=2, stride=2, padding=0)",
                     "gap = mean(pool, axis=(2, 3))", "linear = t2 + linear.bias",
                     "z = reshape(linear)", "J = mean(L)"]:
        assert expected in rows, expected
    # the drawn J is the cost of the example's network on its 8 images, gradients on every node
    from logicat.engines.autograd.layers import example

    y = cat_data.train_y
    pick = np.concatenate([np.flatnonzero(y == 1)[:4], np.flatnonzero(y == 0)[:4]])
    J = example(cat_data.train_x[pick, ::4, ::4], y[pick])
    assert result.output.splitlines()[-1].split()[-2:] == [draw.summarize(J.data), "1"]
    nodes = by_name(J)
    assert nodes["X"].shape == (8, 3, 16, 16) and nodes["pool"].shape == (8, 4, 8, 8)
    assert all(n.grad is not None for n in topological_order(J) if n.requires_grad)
    dot = _run("--example", "convnet", "--format", "dot").output
    assert dot.startswith("digraph") and dot.count("[label=<") == len(rows)
