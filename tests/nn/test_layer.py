"""The registry of layer types (``logicat.nn.layer``): every registered type has its cases in its
module's test file (``tests/nn/layer_types/test_<module>.py``, where each goes through every
check of ``tests.nn.layer_types.checks``), every list of them goes through the JSON round trip,
and no two types read the same torch class."""

from __future__ import annotations

import json

import pytest

from logicat.nn.layer import TYPES
from logicat.nn.layers import from_json, to_json
from tests.nn.layer_types.checks import cases_module, every_case, resolved

ALL = resolved(every_case())


def test_every_registered_type_is_covered():
    """A new type fails here until its module's test file has a case for it (and so every
    check)."""
    assert set(every_case()) == set(TYPES)
    for kind in TYPES:
        variants = cases_module(kind).CASES[kind]
        for variant, (layers, _) in variants.items():
            assert kind in {inner.type for lay in layers for inner in lay.walk()}, variant


@pytest.mark.parametrize("name, layers, shape", ALL, ids=[case[0] for case in ALL])
def test_to_json_and_from_json_give_the_same_list(name, layers, shape):
    text = json.dumps(to_json(layers))  # through the file's text
    assert from_json(json.loads(text)) == layers


def test_no_two_types_read_the_same_torch_class():
    names = [name for cls in TYPES.values() for name in cls.TORCH]
    assert len(names) == len(set(names))
