"""``logicat.layers``: every registered type under its class name, a torch ``nn.Sequential`` read
as layers and weights (its logits through NumPy and ``LayerNet``), what ``from_torch`` refuses,
and the layers' JSON files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import logicat.layers
from logicat.core.errors import InputFileError, ParameterError
from logicat.layers import (
    AvgPool,
    BatchNorm,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LeakyReLU,
    MaxPool,
    ReLU,
    Residual,
    Sigmoid,
    Tanh,
    from_torch,
    read_layers,
    write_layers,
)
from logicat.nn import forward
from logicat.nn.layer import TYPES
from logicat.nn.layers import resolve
from tests.conftest import assert_one_line_error
from tests.test_architecture import _imported_by


def test_every_registered_type_is_here_under_its_class_name():
    names = {cls.__name__: cls for cls in TYPES.values()}
    assert set(logicat.layers.__all__) == set(names) | {"from_torch", "read_layers",
                                                        "write_layers"}
    for name, cls in names.items():
        assert getattr(logicat.layers, name) is cls
    assert Conv2d(16)["filters"] == 16 and Dense(1).type == "dense"


def test_importing_it_imports_no_torch():
    assert "torch" not in _imported_by("import logicat.layers")


# ------------------------------------------------------------------ from_torch
def _sequential(torch):
    """Every module type from_torch reads, on (3, 16, 16) images, with random statistics."""
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8, eps=1e-3),
        nn.LeakyReLU(0.1), nn.MaxPool2d(2),                             # (8, 4, 4)
        nn.Conv2d(8, 12, 1, padding=0, groups=4), nn.Tanh(), nn.AvgPool2d(3, stride=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 6), nn.Sigmoid(),
        nn.Dropout(0.3), nn.BatchNorm1d(6), nn.Linear(6, 1))
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return net.eval()


def test_a_sequential_reads_as_its_layers_and_weights_and_gives_its_logits():
    torch = pytest.importorskip("torch")
    from logicat.engines.torch.layers import LayerNet

    module = _sequential(torch)
    layers, tensors = from_torch(module, weights=True)
    assert [lay.type for lay in layers] == [
        "conv2d", "batchnorm", "relu", "conv2d", "batchnorm", "leaky_relu", "maxpool", "conv2d",
        "tanh", "avgpool", "gap", "flatten", "dense", "sigmoid", "dropout", "batchnorm",
        "dense"]
    assert layers[0].options == {"filters": 8, "kernel": 3, "stride": 2, "padding": 1,
                                 "bias": False, "groups": 1}
    assert layers[3]["groups"] == 8 and layers[5]["slope"] == pytest.approx(0.1)
    assert layers[4]["eps"] == pytest.approx(1e-3) and layers[14]["rate"] == pytest.approx(0.3)
    assert resolve(layers, (3, 16, 16)) == layers  # named as resolve names them
    state = {k: v for k, v in module.state_dict().items() if "num_batches" not in k}
    assert set(tensors) == {f"net.{key}" for key in state}
    for key, value in state.items():
        assert tensors[f"net.{key}"].dtype == np.float32
        np.testing.assert_array_equal(tensors[f"net.{key}"], value.numpy())
    assert from_torch(module) == layers

    images = np.random.default_rng(0).uniform(size=(6, 16, 16, 3)).astype(np.float32)
    x = torch.from_numpy(images).permute(0, 3, 1, 2)
    with torch.no_grad():
        theirs = module(x)[:, 0].numpy()
        net = LayerNet(layers, (3, 16, 16)).load_numpy_params(tensors).eval()
        np.testing.assert_allclose(net(x).numpy(), theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(forward.logit(layers, tensors, images), theirs, rtol=0, atol=1e-5)


def test_float64_weights_stay_float64_and_a_layer_without_tensors_has_no_name():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1)).double()
    layers, tensors = from_torch(module, weights=True, prefix="head.")
    assert layers == [Flatten(), Dense(1, name="head.1")]
    assert {k: v.dtype for k, v in tensors.items()} == {"head.1.weight": np.float64,
                                                        "head.1.bias": np.float64}


@pytest.mark.parametrize("build, problem", [
    (lambda nn: nn.Linear(4, 1), "reads an nn.Sequential of standard torch.nn modules. "
                                 "Got Linear."),
    (lambda nn: nn.Sequential(), "reads an nn.Sequential of 1 to 256 modules. Got 0."),
    (lambda nn: nn.Sequential(nn.Flatten(), nn.Softplus()),
     "module 1 (Softplus) of the Sequential has no logicat layer type"),
    (lambda nn: nn.Sequential(nn.Sequential(nn.ReLU())),
     "module 0 (Sequential) of the Sequential has no logicat layer type"),
    (lambda nn: nn.Sequential(nn.ReLU(), type("Linear", (nn.Linear,), {})(4, 1)),
     "module 1 (Linear) of the Sequential has no logicat layer type"),
    (lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3, dilation=2)),
     "module 0 (Conv2d) of the Sequential: logicat's conv2d is square, undilated"),
    (lambda nn: nn.Sequential(nn.ReLU(), nn.Conv2d(3, 4, (3, 5))),
     "module 1 (Conv2d) of the Sequential: logicat's conv2d is square"),
    (lambda nn: nn.Sequential(nn.Conv2d(3, 4, 13)),
     "module 0 (Conv2d) of the Sequential: A conv2d layer's kernel must be an int in [1, 11]"),
    (lambda nn: nn.Sequential(nn.BatchNorm2d(4, affine=False)),
     "module 0 (BatchNorm2d) of the Sequential: logicat's batchnorm is affine"),
    (lambda nn: nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)),
     "module 0 (MaxPool2d) of the Sequential: logicat's maxpool has square windows"),
    (lambda nn: nn.Sequential(nn.AvgPool2d(2, padding=1)),
     "module 0 (AvgPool2d) of the Sequential: logicat's avgpool has square windows"),
    (lambda nn: nn.Sequential(nn.AdaptiveAvgPool2d(2)),
     "module 0 (AdaptiveAvgPool2d) of the Sequential: logicat pools to one value per channel"),
    (lambda nn: nn.Sequential(nn.Flatten(0)),
     "module 0 (Flatten) of the Sequential: logicat's flatten keeps the batch axis"),
    (lambda nn: nn.Sequential(nn.LeakyReLU(1.5)),
     "module 0 (LeakyReLU) of the Sequential: A leaky_relu layer's slope must be a number"),
])
def test_what_from_torch_refuses_is_one_line_naming_the_module(build, problem):
    torch = pytest.importorskip("torch")
    with pytest.raises(ParameterError) as err:
        from_torch(build(torch.nn))
    assert problem in str(err.value) and "\n" not in str(err.value), str(err.value)


# ------------------------------------------------------------------ JSON files
LAYERS = [Conv2d(8, stride=2), BatchNorm(), LeakyReLU(0.2), MaxPool(3, stride=2),
          Residual([Conv2d(8, groups=8, bias=True), BatchNorm(), ReLU(), Conv2d(8)]), Tanh(),
          AvgPool(), GlobalAvgPool(), Dropout(0.1), Dense(4), Sigmoid(), Dense(1)]


@pytest.mark.parametrize("named", [False, True], ids=["as-written", "resolved"])
def test_write_and_read_give_the_same_layers(tmp_path, named):
    layers = resolve(LAYERS, (3, 32, 32)) if named else LAYERS
    path = write_layers(layers, tmp_path / "net.json")
    assert read_layers(path) == layers
    assert len(json.loads(path.read_text())) == len(layers)
    assert path.read_text().count("\n") == len(layers) + 2  # one layer per line


@pytest.mark.parametrize("text, problem", [
    ("[{\"type\": \"relu\"},", "not a JSON list of layers (Expecting value: line 1"),
    (b"\xff\xfe[]", "not a JSON list of layers ("),
    ("{\"type\": \"relu\"}", "the architecture's layers must be a list of 1 to 256 objects"),
    ("[]", "the architecture's layers must be a list of 1 to 256 objects"),
    ("[{\"type\": \"conv3d\"}]", "layer 0: A layer's type must be one of"),
    ("[{\"type\": \"conv2d\", \"filters\": 4, \"dilation\": 2}]",
     "layer 0: A conv2d layer takes the options"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_a_file_that_is_not_a_list_of_layers_is_one_line_naming_it(tmp_path, text, problem):
    path = tmp_path / "net.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputFileError) as err:
        read_layers(path)
    assert_one_line_error(err, path, problem)


def test_a_missing_or_huge_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(InputFileError) as err:
        read_layers(tmp_path / "absent.json")
    assert_one_line_error(err, tmp_path / "absent.json", "")
    huge = tmp_path / "huge.json"
    huge.write_text(" " * (logicat.layers.MAX_FILE_BYTES + 1))
    with pytest.raises(InputFileError) as err:
        read_layers(huge)
    assert_one_line_error(err, huge, "a layers file holds at most")


def test_write_layers_takes_layers_only(tmp_path):
    with pytest.raises(ParameterError, match="a list of 1 or more logicat layers. Got 'relu'"):
        write_layers([ReLU(), "relu"], tmp_path / "net.json")
    assert not (tmp_path / "net.json").exists()
