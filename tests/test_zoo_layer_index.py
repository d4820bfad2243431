"""The zoo's layer index (brainalign/models/zoo/layer_index.py) equals the built models, and a layer a
zoo model lacks is refused from it with the same error as from the built model.

When a zoo model changes, this test fails and prints the new table; or write it with
``python tests/test_zoo_layer_index.py > brainalign/models/zoo/layer_index.py``.
"""

import textwrap

import pytest

from brainalign.errors import ModelError
from brainalign.models import load_model
from brainalign.models.layers import graph_nodes, resolve_layers
from brainalign.models.specs import check_model_spec
from brainalign.models.zoo import MODELS
from brainalign.models.zoo.layer_index import LAYERS

HEADER = '''"""Every zoo model's layer names, so that a misspelt one is refused before the model is built.

Generated from the built models: their module names in network order, then the residual additions
that torch.fx finds (:func:`brainalign.models.layers.graph_nodes`). ``tests/test_zoo_layer_index.py``
holds this table equal to the models and, when one changes, prints the new table to paste here.
"""

#: zoo name -> (module names, graph-node names)
LAYERS = {
'''


def _built_index() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    index = {}
    for name in MODELS:
        loaded = load_model(name)
        index[name] = (tuple(loaded.layers), tuple(graph_nodes(loaded.module)))
    return index


def _names(names, indent: int) -> str:
    body = ", ".join(repr(n) for n in names) + ("," if len(names) == 1 else "")
    return "(" + "\n".join(textwrap.wrap(body, 110 - indent, subsequent_indent=" " * (indent + 1),
                                         break_long_words=False, break_on_hyphens=False)) + ")"


def render(index) -> str:
    """The source of layer_index.py for ``index``."""
    rows = [f"    {name!r}: (\n        {_names(modules, 8)},\n        {_names(nodes, 8)}),\n"
            for name, (modules, nodes) in sorted(index.items())]
    return HEADER + "".join(rows) + "}\n"


@pytest.fixture(scope="module")
def built_index():
    return _built_index()


def test_the_index_equals_the_built_zoo_models(built_index):
    assert LAYERS == built_index, "brainalign/models/zoo/layer_index.py is stale; replace it with:\n" + render(built_index)


def test_the_index_file_is_what_render_writes(built_index):
    import brainalign.models.zoo.layer_index as module
    with open(module.__file__, encoding="utf-8") as handle:
        assert handle.read() == render(built_index)


@pytest.mark.parametrize("spec, layer", [
    ("alexnet_bn64", "features.99"),
    ("alexnet_bn64", "featurs.3"),           # close matches in the hint
    ("zoo:alexnet_bn64", "featurs.3"),       # named as the built model names itself
    ("streamnet_six", "VISp.ad"),
    ("tang_amit_cnn", "nope"),
])
def test_a_missing_layer_is_refused_as_the_built_model_refuses_it(spec, layer):
    name = spec.removeprefix("zoo:")
    with pytest.raises(ModelError) as early:
        check_model_spec(spec, f"{LAYERS[name][0][1]},{layer}")
    with pytest.raises(ModelError) as built:
        resolve_layers(load_model(spec), [LAYERS[name][0][1], layer])
    assert (early.value.message, early.value.hint) == (built.value.message, built.value.hint)


def test_a_missing_psychometric_layer_is_refused_as_the_psychometric_run_refuses_it():
    import numpy as np

    from brainalign.psychometrics.responses import model_responses

    with pytest.raises(ModelError) as early:
        check_model_spec("alexnet_bn64", "featurs.10", alternative="use --logits")
    with pytest.raises(ModelError) as built:
        model_responses(load_model("alexnet_bn64"), np.zeros((2, 3, 64, 64), np.float32), ["featurs.10"])
    assert (early.value.message, early.value.hint) == (built.value.message, built.value.hint)
    assert early.value.hint.endswith("or use --logits")


def test_modules_graph_nodes_calls_and_tokens_pass():
    nodes = LAYERS["streamnet_six"][1]
    assert nodes, "streamnet_six has residual additions"
    check_model_spec("streamnet_six", [nodes[0], "VISp", "VISp:0"])
    check_model_spec("streamnet_six", "VISp.add_99")       # a residual name: left to the built model's torch.fx
    check_model_spec("alexnet_bn64", "features.3 , features.7@patches")
    for layers in (None, "all", "auto"):
        check_model_spec("alexnet_bn64", layers)


def test_layers_of_library_models_wait_for_the_model():
    check_model_spec("timm:resnet18", "nope")


if __name__ == "__main__":
    print(render(_built_index()), end="")
