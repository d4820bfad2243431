"""Extraction: hooks equal a direct forward pass, in-place safety, the content-keyed cache, files."""

import numpy as np
import pytest
import torch

import brainalign
from brainalign.activations import ActivationCache, extract_activations
from brainalign.activations import extract as extract_module
from brainalign.errors import FileFormatError, ModelError
from brainalign.models import load_model, resolve_layers
from brainalign.stimuli import resolve_stimuli


def _direct_input(loaded, stimuli):
    images = [torch.from_numpy(stimuli.load(i)).permute(2, 0, 1)[None] for i in range(len(stimuli))]
    return torch.cat([loaded.preprocessing(image) for image in images])


def test_hooked_activations_equal_direct_forward(image_folder, tmp_path):
    loaded = load_model("alexnet_bn64", seed=3)
    stimuli = resolve_stimuli(str(image_folder))
    acts = extract_activations(loaded, stimuli, ("features.3", "features.7", "classifier.3"), batch_size=4,
                               cache=ActivationCache(tmp_path), progress=False)
    x = _direct_input(loaded, stimuli)
    with torch.no_grad():
        pool1 = loaded.module.features[:4](x)
        pool2 = loaded.module.features[:8](x)
    np.testing.assert_allclose(acts["features.3"].values, pool1.flatten(1).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acts["features.7"].values, pool2.flatten(1).numpy(), rtol=1e-5, atol=1e-5)
    assert acts["classifier.3"].shape == (6, 4096)
    assert list(acts["features.3"]["stimulus_id"].values) == list(stimuli.stimulus_ids)
    assert acts["features.3"].attrs["layer_shape"] == list(pool1.shape[1:])


def test_outputs_are_copied_before_an_inplace_relu(image_folder, tmp_path):
    loaded = load_model("torchvision:alexnet", seed=0)
    assert loaded.module.features[1].inplace  # ReLU(inplace=True) overwrites features.0's output
    stimuli = resolve_stimuli(str(image_folder))
    acts = extract_activations(loaded, stimuli, ("features.0",), cache=ActivationCache(tmp_path), progress=False)
    with torch.no_grad():
        conv = loaded.module.features[0](_direct_input(loaded, stimuli))
    assert (acts["features.0"].values < 0).any()
    np.testing.assert_allclose(acts["features.0"].values, conv.flatten(1).numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("use_cache", [True, False])
def test_batches_written_in_place_equal_a_direct_forward_pass(image_folder, tmp_path, use_cache):
    # batches of 4 then 2: from the second batch on the hooks copy each output straight into the
    # cache's staging buffer (or the in-memory array), past an in-place ReLU
    loaded = load_model("torchvision:alexnet", seed=0)
    stimuli = resolve_stimuli(str(image_folder))
    acts = extract_activations(loaded, stimuli, ("features.0", "features.2"), batch_size=4,
                               cache=ActivationCache(tmp_path), use_cache=use_cache, progress=False)
    with torch.no_grad():
        x = _direct_input(loaded, stimuli)
        conv, pool = loaded.module.features[0](x), loaded.module.features[:3](x)
    np.testing.assert_allclose(acts["features.0"].values, conv.flatten(1).numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(acts["features.2"].values, pool.flatten(1).numpy(), rtol=1e-4, atol=1e-4)


def test_rows_are_reported_filled_during_the_forward_pass_with_their_final_values(image_folder):
    # from the second batch on, each hooked module layer's rows are handed over as soon as its hook
    # has copied them (so they can be written while the later layers run): once per batch, before
    # the pass reaches the next hooked layer, already equal to a direct forward pass
    loaded = load_model("torchvision:alexnet", seed=0)
    stimuli = resolve_stimuli(str(image_folder))
    layers = ("features.0", "features.2", "classifier.4")
    with torch.no_grad():
        x = _direct_input(loaded, stimuli)
        expected = {"features.0": loaded.module.features[0](x), "features.2": loaded.module.features[:3](x)}
    arrays, events, batch_rows = {}, [], {}

    def into(layer, shape):
        arrays[layer] = np.full(shape, np.nan, dtype=np.float32)
        return arrays[layer]

    def filled(layer):
        events.append((layer, tuple(other for other in layers if np.isnan(arrays[other]).all())))  # not run yet
        rows = batch_rows["rows"]
        if layer in expected:
            np.testing.assert_allclose(arrays[layer], expected[layer][rows].numpy(), rtol=1e-4, atol=1e-4)
        assert not np.isnan(arrays[layer]).any()

    batches = extract_module.iter_batches(loaded, stimuli, layers, batch_size=2, progress=False,
                                          into=into, filled=filled)
    seen = []
    while True:
        batch_rows["rows"] = slice(2 * len(seen), 2 * len(seen) + 2)  # the batch about to run
        try:
            batch, outputs = next(batches)
        except StopIteration:
            break
        seen.append(batch)
        assert len(seen) == 1 or all(np.shares_memory(outputs[layer], arrays[layer]) for layer in layers)
    in_pass = [("features.0", ("features.2", "classifier.4")), ("features.2", ("classifier.4",)), ("classifier.4", ())]
    assert len(seen) == 3 and events == in_pass * 2  # not for the first batch (shapes unknown then)


def test_in_memory_images_and_the_module_output_from_the_same_loop(image_folder, tmp_path):
    # psychometric responses: images already in memory, and the network's own output as "logits"
    from brainalign.psychometrics.responses import model_responses

    loaded = load_model("alexnet_bn64", seed=3)
    stimuli = resolve_stimuli(str(image_folder))
    images = np.stack([stimuli.load(i) for i in range(len(stimuli))])
    responses = model_responses(loaded, images, ("features.3", "logits"), batch_size=4)
    with torch.no_grad():
        logits = loaded.module(loaded.preprocessing(torch.from_numpy(images).permute(0, 3, 1, 2)))
    np.testing.assert_allclose(responses["logits"], logits.numpy(), rtol=1e-5, atol=1e-5)
    acts = extract_activations(loaded, stimuli, ("features.3",), batch_size=4, use_cache=False, progress=False)
    np.testing.assert_allclose(responses["features.3"], acts["features.3"].values, rtol=1e-6, atol=1e-6)
    assert responses["logits"].shape == (6, 1000) and responses["features.3"].dtype == np.float32


def test_cache_is_used_and_keyed_by_weights(image_folder, tmp_path, monkeypatch):
    stimuli = resolve_stimuli(str(image_folder))
    cache = ActivationCache(tmp_path)
    first = extract_activations(load_model("pixels"), stimuli, ("pixels",), cache=cache, progress=False)

    def no_forward(*args, **kwargs):
        raise AssertionError("forward pass run despite a cache hit")

    monkeypatch.setattr(extract_module, "_run_forward", no_forward)
    again = extract_activations(load_model("pixels"), stimuli, ("pixels",), cache=cache, progress=False)
    np.testing.assert_array_equal(first["pixels"].values, again["pixels"].values)
    with pytest.raises(AssertionError, match="despite a cache hit"):
        extract_activations(load_model("alexnet_bn64", seed=1), stimuli, ("features.3",), cache=cache,
                            progress=False)


def test_extract_file_round_trip_and_refusal_to_overwrite(image_folder, tmp_path):
    out = tmp_path / "acts.nc"
    acts = brainalign.extract("alexnet_bn64", stimuli=str(image_folder), layers="features.3,features.7",
                              output=out, progress=False)
    back = brainalign.load_activations(out)
    assert list(back) == ["features.3", "features.7"]
    np.testing.assert_array_equal(back["features.7"].values, acts["features.7"].values)
    assert back["features.3"].attrs["provenance"]["model"]["spec"] == "alexnet_bn64"
    before = out.read_bytes()
    with pytest.raises(brainalign.errors.OutputExistsError):
        brainalign.extract("pixels", stimuli=str(image_folder), output=out, progress=False)
    assert out.read_bytes() == before


def test_unknown_layer_and_bad_activation_file(tmp_path):
    loaded = load_model("alexnet_bn64")
    with pytest.raises(ModelError, match="unknown layer"):
        resolve_layers(loaded, "features.99")
    (tmp_path / "bad.nc").write_bytes(b"\x89HDF\r\n garbage")
    with pytest.raises(FileFormatError):
        brainalign.load_activations(tmp_path / "bad.nc")


def test_device_out_of_memory_is_one_line_with_a_hint(image_folder, tmp_path, monkeypatch):
    loaded = load_model("alexnet_bn64")

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(loaded.module, "forward", exhausted)
    with pytest.raises(brainalign.errors.InputError, match="ran out of memory .* at batch size 4") as caught:
        extract_activations(loaded, resolve_stimuli(str(image_folder)), ("features.3",), batch_size=4,
                            cache=ActivationCache(tmp_path / "cache"), progress=False)
    assert "--batch-size" in caught.value.hint
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
