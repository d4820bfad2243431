"""Addressable layers: names, output shapes, and recording their outputs during forward passes.

A layer name is ``NAME[:CALL][@TOKENS]``:

- ``NAME`` is a named submodule (``layer1.0.conv1``), a zoo model's computed output (StreamNet's
  ``VISpor``, exposed as an identity module) or a graph node that is not a module, such as a
  residual addition (``layer1.0.add``, found with torch.fx as in torchvision's feature
  extraction);
- ``:CALL`` picks the CALL-th call of a module that runs several times in one forward pass
  (``name`` is the first call, ``name:1`` the second, ...);
- ``@TOKENS`` (vision transformers) is ``patches`` (default: prefix tokens such as CLS and
  registers dropped, patch tokens reshaped to a (channels, rows, cols) grid), ``cls`` (the CLS
  token, shape (channels,)) or ``all`` (every token, shape (tokens, channels)).
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch

from ..errors import InputError, ModelError
from .base import LoadedModel
from .layer_names import LayerName, is_residual, parse_layer, unknown_layer

def resolve_layers(loaded: LoadedModel, layers: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The layer names to use, checked against the model.

    Parameters
    ----------
    loaded : LoadedModel
    layers : str, sequence of str or None
        None or ``"all"``: ``loaded.default_layers``. A comma-separated string or a sequence:
        those names, in that order, duplicates dropped.

    Returns
    -------
    tuple of str
        For a vision transformer loaded with ``tokens`` other than ``"patches"``, names without
        an ``@`` get ``@<tokens>`` appended, so that the name (and the activation cache key) says
        which tokens it holds.

    Raises
    ------
    InputError
        No layer names given (e.g. ``""``), or a malformed name.
    ModelError
        A name that is neither a module nor a graph node of the model; the hint lists close
        matches. (Whether a module runs ``CALL + 1`` times is only known in a forward pass.)

    Examples
    --------
    >>> from brainalign.models import load_model
    >>> resolve_layers(load_model("alexnet_bn64"), "features.3, classifier.7")
    ('features.3', 'classifier.7')
    """
    if layers is None or layers == "all":
        names = list(loaded.default_layers)
    else:
        names = layers.split(",") if isinstance(layers, str) else list(layers)
        names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not names:
        raise InputError(f"no layer names given for {loaded.spec}",
                         hint=f"pass 'all' or names from `brainalign models layers {loaded.spec}`")
    known = set(loaded.layers)
    for name in names:
        base = parse_layer(name).base
        if base not in known and base not in graph_nodes(loaded.module):
            raise unknown_layer(name, loaded.spec, loaded.layers)
    if loaded.tokens != "patches" and token_layout(loaded.module) is not None:
        names = [n if "@" in n else f"{n}@{loaded.tokens}" for n in names]
    return tuple(dict.fromkeys(names))


def layer_shapes(loaded: LoadedModel,
                 layers: str | Sequence[str] | None = None) -> dict[str, tuple[int, ...]]:
    """Output shape of each layer, without the batch dimension, from one forward pass.

    The pass runs on a zero batch of shape (1, channels, input_size, input_size) taken from
    ``loaded.preprocessing``.

    Returns
    -------
    dict of str to tuple of int
        In the order of the resolved layer names, e.g. ``{"features.3": (64, 7, 7)}``.

    Raises
    ------
    ModelError
        An unknown layer, a layer (or call) that does not run in the forward pass, or one whose
        output is not a tensor.

    Examples
    --------
    >>> from brainalign.models import load_model
    >>> layer_shapes(load_model("pixels"))
    {'pixels': (4096,)}
    """
    names = resolve_layers(loaded, layers)
    with record_outputs(loaded.module, names) as outputs, torch.no_grad():
        loaded.module(_zero_batch(loaded))
    shapes = {}
    for name in names:
        if name not in outputs:
            raise ModelError(f"layer {name!r} of {loaded.spec} does not run in a forward pass",
                             hint=f"pick another layer from `brainalign models layers {loaded.spec} --all`")
        if not isinstance(outputs[name], torch.Tensor):
            raise ModelError(f"layer {name!r} of {loaded.spec} outputs a {type(outputs[name]).__name__}, "
                             "not a tensor",
                             hint=f"pick one of its submodules, e.g. {_children(loaded, name)}")
        shapes[name] = tuple(outputs[name].shape[1:])
    return shapes


def layer_inventory(loaded: LoadedModel, *, graph: bool = True) -> dict[str, tuple[tuple[int, ...] | None, str]]:
    """Every addressable layer with its output shape, from one forward pass.

    Returns
    -------
    dict of str to (shape or None, kind)
        ``kind`` is ``"module"``, ``"call"`` (a repeated call, ``name:1`` ...) or ``"graph"``
        (a residual addition that is not a module). Modules come in registration order, each
        followed by its repeated calls; graph nodes follow in graph order. The shape is None for
        modules that do not run or do not output a tensor. Token layers of vision transformers
        are shown in ``loaded.tokens`` mode.
    """
    module = loaded.module
    calls: dict[str, list] = {name: [] for name in loaded.layers}
    nodes = [n for n in graph_nodes(module) if n not in calls] if graph else []
    outputs: dict[str, object] = {}
    if nodes:
        with record_outputs(module, [f"{n}@{loaded.tokens}" for n in nodes]) as recorded, torch.no_grad():
            module(_zero_batch(loaded))
        outputs = {parse_layer(k).base: v for k, v in recorded.items()}
    layout = token_layout(module)
    handles = [sub.register_forward_hook(_shape_hook(calls[name], layout, loaded.tokens))
               for name, sub in module.named_modules() if name]
    try:
        with torch.no_grad():
            module(_zero_batch(loaded))
    finally:
        for handle in handles:
            handle.remove()
    inventory: dict[str, tuple] = {}
    for name, shapes in calls.items():
        inventory[name] = (shapes[0] if shapes else None, "module")
        for call, shape in enumerate(shapes[1:], start=1):
            inventory[f"{name}:{call}"] = (shape, "call")
    for name in nodes:
        value = outputs.get(name)
        inventory[name] = (tuple(value.shape[1:]) if isinstance(value, torch.Tensor) else None, "graph")
    return inventory


@contextlib.contextmanager
def record_outputs(module: torch.nn.Module, names: Sequence[str], *,
                   reuse_buffers: bool | dict = False) -> Iterator[dict[str, object]]:
    """Record the outputs of the named layers during the forward passes run in the body.

    Parameters
    ----------
    module : torch.nn.Module
    names : sequence of str
        Layer names as in the module docstring: ``NAME[:CALL][@TOKENS]``, where NAME is a
        submodule or a graph node (e.g. ``layer1.0.add``).
    reuse_buffers : bool or dict of str to torch.Tensor
        Copy each output into the same tensor on every forward pass (no fresh allocation, so no
        page faults for large layers). The recorded tensors are then only valid until the next
        pass: copy them out before running the module again. A dict holds these tensors by
        layer name, and the caller may put there, before a pass, the tensor a layer's output
        should be copied into (used when its shape, dtype and device match the output's).

    Yields
    ------
    dict of str to object
        Filled during each forward pass of ``module``: for each name that ran, its output.
        Call counts restart with every forward pass of ``module``; clear the dict between passes.
        Hooks are removed (and ``forward`` restored) on exit.

    Notes
    -----
    - A tensor output is copied (detached) when its module returns, so a later in-place op,
      e.g. torchvision AlexNet's ``ReLU(inplace=True)`` after ``features.0``, does not change it.
    - A tuple or list output whose first element is a tensor records that element; other
      outputs (dicts) are stored as returned.
    - Vision transformers (timm or torchvision): an output of shape (batch, tokens, channels)
      with the model's token count is turned into the ``@TOKENS`` view: (batch, channels, rows,
      cols) for ``patches``, (batch, channels) for ``cls``, unchanged for ``all``.
    - Graph nodes are computed by a torch.fx trace of ``module`` (sharing its parameters) that
      runs before the module's own forward pass, with the module hooks paused meanwhile; asking
      for one therefore costs one extra forward pass.
    """
    modules = dict(module.named_modules())
    parsed = {name: parse_layer(name) for name in names}
    outputs: dict[str, object] = {}
    buffers = reuse_buffers if isinstance(reuse_buffers, dict) else {} if reuse_buffers else None
    state = {"counts": {}, "paused": False, "buffers": buffers}
    layout = token_layout(module)
    by_module: dict[str, dict[str, LayerName]] = {}
    nodes: dict[str, dict[str, LayerName]] = {}
    for name, layer in parsed.items():
        target = by_module if layer.base in modules and layer.base else nodes
        target.setdefault(layer.base, {})[name] = layer
    for base in nodes:
        if any(layer.call for layer in nodes[base].values()):
            raise ModelError(f"graph node {base!r} runs once per forward pass; it has no repeated calls",
                             hint=f"use {base!r} without ':CALL'")
    extractor = _graph_extractor(module, list(nodes)) if nodes else None  # trace before any hook exists
    handles = [module.register_forward_pre_hook(lambda *_: state["counts"].clear())]
    handles += [modules[base].register_forward_hook(_store(outputs, state, base, wanted, layout))
                for base, wanted in by_module.items()]
    if nodes:
        _patch_forward(module, extractor, nodes, outputs, state, layout)
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()
        if nodes:
            del module.forward


def token_layout(module: torch.nn.Module) -> tuple[int, int, tuple[int, int]] | None:
    """``(n_prefix, cls_index, (rows, cols))`` for timm/torchvision vision transformers, else None.

    ``n_prefix`` counts the tokens before the patch tokens (CLS and register tokens);
    ``cls_index`` is the CLS token's position, or -1 when the model has none.
    """
    patch_embed = getattr(module, "patch_embed", None)
    grid = getattr(patch_embed, "grid_size", None)
    if isinstance(getattr(module, "num_prefix_tokens", None), int) and grid is not None:
        has_cls = getattr(module, "cls_token", None) is not None
        return module.num_prefix_tokens, 0 if has_cls else -1, tuple(int(g) for g in grid)
    if isinstance(getattr(module, "class_token", None), torch.nn.Parameter) and hasattr(module, "patch_size"):
        side = module.image_size // module.patch_size
        return 1, 0, (side, side)
    return None


def graph_nodes(module: torch.nn.Module) -> tuple[str, ...]:
    """Names of the residual additions in ``module``'s eval-mode torch.fx graph (empty if untraceable).

    Examples
    --------
    >>> import torchvision
    >>> graph_nodes(torchvision.models.resnet18())[:2]
    ('layer1.0.add', 'layer1.1.add')
    """
    cached = getattr(module, "_brainalign_graph_nodes", None)
    if cached is None:
        from timm.models import get_graph_node_names

        try:
            _, names = get_graph_node_names(module)
        except Exception:  # torch.fx cannot trace every model (data-dependent control flow)
            names = []
        cached = tuple(n for n in names if is_residual(n))
        object.__setattr__(module, "_brainalign_graph_nodes", cached)
    return cached


def _graph_extractor(module: torch.nn.Module, nodes: list[str]):
    from timm.models import create_feature_extractor

    training = module.training
    try:
        extractor = create_feature_extractor(module.eval(), return_nodes={n: n for n in nodes})
    except Exception as exc:  # a node that exists in training mode only, or an untraceable model
        raise ModelError(f"cannot compute graph node(s) {', '.join(nodes)}: {type(exc).__name__}",
                         hint="pick module layers from `brainalign models layers MODEL --all`") from None
    finally:
        module.train(training)
    for graph in {id(g): g for g in (getattr(extractor, "train_graph", None), getattr(extractor, "eval_graph", None),
                                     extractor.graph) if g is not None}.values():
        _copy_returned_nodes(graph)
    extractor.recompile()
    return extractor.eval()


def _copy_returned_nodes(graph: torch.fx.Graph) -> None:
    """Clone each returned value right where it is computed, before later in-place ops change it."""
    output = next(n for n in graph.nodes if n.op == "output")
    returned = output.args[0]
    copies = {}
    for key, node in returned.items():
        with graph.inserting_after(node):
            copies[key] = graph.call_method("clone", (node,))
    output.args = (copies,)
    graph.lint()


def _patch_forward(module, extractor, nodes, outputs, state, layout) -> None:
    forward = module.forward

    def forward_with_nodes(*args, **kwargs):
        state["paused"] = True
        try:
            values = extractor(*args, **kwargs)
        finally:
            state["paused"] = False
        for base, wanted in nodes.items():
            for name, layer in wanted.items():
                outputs[name] = _view(values[base], layer.tokens, layout, state["buffers"], name)
        return forward(*args, **kwargs)

    module.forward = forward_with_nodes


def _store(outputs: dict[str, object], state: dict, base: str, wanted: dict[str, LayerName], layout):
    def hook(_module, _inputs, output):
        if state["paused"]:
            return
        call = state["counts"].get(base, 0)
        state["counts"][base] = call + 1
        for name, layer in wanted.items():
            if layer.call == call and name not in outputs:
                outputs[name] = _view(output, layer.tokens, layout, state["buffers"], name)
    return hook


def _shape_hook(shapes: list, layout, tokens: str):
    def hook(_module, _inputs, output):
        value = _view(output, tokens, layout)
        shapes.append(tuple(value.shape[1:]) if isinstance(value, torch.Tensor) else None)
    return hook


def _view(output, tokens: str, layout, buffers: dict | None = None, name: str = ""):
    """Copy of a hooked output: first tensor of a tuple, token view for transformer token maps.

    With ``buffers`` ({name: tensor}), the copy goes into the tensor kept there from the previous
    forward pass when shape, dtype and device match, instead of a fresh allocation.
    """
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        return output
    output = output.detach()
    if layout is not None and tokens != "all" and output.dim() == 3:
        n_prefix, cls_index, (rows, cols) = layout
        if output.shape[1] == n_prefix + rows * cols:
            if tokens == "cls":
                if cls_index < 0:
                    raise ModelError("this vision transformer has no CLS token",
                                     hint="use --tokens patches or --tokens all")
                output = output[:, cls_index]
            else:
                output = output[:, n_prefix:].reshape(len(output), rows, cols, -1).permute(0, 3, 1, 2)
    return _copy(output, buffers, name)


def _copy(tensor: torch.Tensor, buffers: dict | None, name: str) -> torch.Tensor:
    """A contiguous copy of ``tensor``, into ``buffers[name]`` when it can be reused."""
    if buffers is None:
        return tensor.clone(memory_format=torch.contiguous_format)
    kept = buffers.get(name)
    if kept is None or kept.shape != tensor.shape or kept.dtype != tensor.dtype or kept.device != tensor.device:
        kept = buffers[name] = torch.empty(tensor.shape, dtype=tensor.dtype, device=tensor.device)
    return kept.copy_(tensor)


def _zero_batch(loaded: LoadedModel) -> torch.Tensor:
    pre = loaded.preprocessing
    param = next(loaded.module.parameters(), None)
    return torch.zeros(1, pre.channels, pre.input_size, pre.input_size,
                       device=None if param is None else param.device,
                       dtype=None if param is None else param.dtype)


def _children(loaded: LoadedModel, name: str) -> str:
    children = [n for n in loaded.layers if n.startswith(name + ".")][:3]
    return ", ".join(children) or f"see `brainalign models layers {loaded.spec}`"
