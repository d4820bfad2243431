"""Adding a model is one file: the README's worked example (under "Adding a model") registered,
listed, and its activations checked against scipy's difference of Gaussians."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.ndimage import gaussian_filter

import brainalign
from brainalign.cli import main
from brainalign.models import layer_shapes, load_model
from brainalign.models import registry

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def lgn(monkeypatch) -> Iterator[types.ModuleType]:
    """The README's model module, imported as a plugin would be: registered for this test only.

    Only its own name is removed afterwards: zoo modules imported meanwhile stay registered.
    """
    text = README.read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(# mylab_brainalign/lgn\.py.*?)```", text, flags=re.S)
    registry.list_zoo()                                          # installed plugins first
    module = types.ModuleType("mylab_brainalign.lgn")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, "README.md:lgn.py", "exec"), module.__dict__)  # noqa: S102  (our own README)
    yield module
    del registry._ZOO["lgn_dog"]


def test_the_readme_model_is_listed_with_its_layer(lgn):
    result = CliRunner().invoke(main, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["spec"]: row for row in json.loads(result.output)}
    assert rows["lgn_dog"]["source"] == "zoo"
    assert rows["lgn_dog"]["description"] == lgn.lgn_dog.__doc__  # a plugin model's docstring line
    assert lgn.lgn_dog.__doc__.startswith("LGN: ON/OFF difference-of-Gaussians cells")
    loaded = load_model("lgn_dog")
    assert loaded.default_layers == ("cells",)
    assert layer_shapes(loaded) == {"cells": (2, 64, 64)}


def test_the_readme_model_computes_scipys_difference_of_gaussians(lgn):
    """Same preprocessing as `pixels`, so pixels' activations are the images the model sees."""
    cells = brainalign.extract("lgn_dog", stimuli="sim", progress=False)["cells"]
    pixels = brainalign.extract("pixels", stimuli="sim", progress=False)["pixels"]
    assert list(cells["stimulus_id"].values) == list(pixels["stimulus_id"].values)
    images = pixels.values.reshape(-1, 64, 64).astype(np.float64)
    dog = np.stack([gaussian_filter(image, 1.0, mode="constant") - gaussian_filter(image, 3.0, mode="constant")
                    for image in images])
    expected = np.stack([np.maximum(dog, 0), np.maximum(-dog, 0)], axis=1).reshape(len(images), -1)
    assert cells.shape == (len(images), 2 * 64 * 64)
    assert np.abs(expected).max() > 0.1                          # the images have edges to respond to
    np.testing.assert_allclose(cells.values, expected, atol=2e-6)
