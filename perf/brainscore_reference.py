"""Brain-Score's own metric and ceiling, timed in process: run with the Python of a Brain-Score venv.

``BSPYTHON perf/brainscore_reference.py ACTIVATIONS ASSEMBLY [--repeats N] [--layer NAME]`` reads a
``brainalign extract``-style activations file (one layer, ``stimulus`` x ``unit``) and a brainalign
assembly file (``presentation`` x ``neuroid`` with ``stimulus_id``, ``repetition``, ``neuroid_id``,
``region``), builds Brain-Score ``NeuroidAssembly`` objects from them, and times, ``--repeats`` times
(default 5), what a Brain-Score ``NeuralBenchmark`` does with them:

- ``average_repetition`` of the assembly (``benchmark_helpers.neural_common``),
- ``load_metric('pls', crossvalidation_kwargs=dict(stratification_coord=None))(source, target)``
  (``metrics.regression_correlation``: PLS-25, 10 ``ShuffleSplit`` splits of 90 %, seed 1, Pearson r
  per neuroid, median; the unstratified variant Brain-Score's own Cowley benchmark uses),
- ``load_ceiling('internal_consistency')(assembly)`` on the repetitions (split-half, Spearman-Brown),
- ``explained_variance(raw, ceiling)`` (r^2 / c).

It imports nothing from brainalign (the Brain-Score venv has its own, older numpy/xarray/sklearn),
and prints one JSON object: median wall and CPU seconds of the whole and of each part, and the
numbers (raw, error, per-split values, ceiling, ceiled). File reading, imports and the metric
objects' construction are outside the timed part.

Set-up of the venv (no torch: ``--no-deps`` and only what the metric and the ceiling import)::

    python3 -m venv /work/bsvenv
    /work/bsvenv/bin/pip install --no-deps brainscore-vision==2.4.2 brainscore-core==2.5.0 \\
        brainscore-brainio==1.1.0 result-caching==0.5
    /work/bsvenv/bin/pip install "numpy<2" "pandas<2" "xarray<2022.6" "scikit-learn<1.6" scipy netCDF4 \\
        h5py tqdm pyyaml "importlib-metadata<5" six entrypoints Pillow boto3 requests pybtex psutil

Then ``python perf/bench_cli.py --brainscore-python /work/bsvenv/bin/python``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")  # Brain-Score's cross-validation loops draw progress bars

import numpy as np
import xarray as xr


def files(ids: np.ndarray) -> np.ndarray:
    """A second per-stimulus coordinate (``ID.jpg``): with ``stimulus_id`` alone, averaging the repetitions
    collapses brainio's ``presentation`` MultiIndex into a plain ``stimulus_id`` dimension, which Brain-Score's
    cross-validation cannot index; its own assemblies always carry several stimulus coordinates."""
    return np.char.add(ids.astype(str), ".jpg")


def read_inputs(activations_path: str, assembly_path: str, layer: str | None):
    """(source NeuroidAssembly (presentation x neuroid), target NeuroidAssembly with repetitions)."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    with xr.open_dataset(activations_path, engine="netcdf4") as opened:
        dataset = opened.load()
    layers = json.loads(dataset.attrs["layers"])
    layer = layer or layers[0]
    features = dataset[layer].values
    ids = dataset["stimulus_id"].values.astype(str)
    source = NeuroidAssembly(features, dims=("presentation", "neuroid"),
                             coords={"stimulus_id": ("presentation", ids), "image_file_name": ("presentation", files(ids)),
                                     "neuroid_id": ("neuroid", [f"{layer}.{i}" for i in range(features.shape[1])]),
                                     "region": ("neuroid", [layer] * features.shape[1])})
    with xr.open_dataset(assembly_path, engine="netcdf4") as opened:
        dataset = opened.load()
    [name] = [n for n, v in dataset.data_vars.items() if {"presentation", "neuroid"} <= set(v.dims)]
    data = dataset[name]
    coords = {key: (coord.dims[0], coord.values.astype(str) if coord.dtype == object else coord.values)
              for key, coord in data.coords.items() if len(coord.dims) == 1 and key not in data.dims}
    coords["image_file_name"] = ("presentation", files(coords["stimulus_id"][1]))
    target = NeuroidAssembly(data.values, dims=("presentation", "neuroid"), coords=coords)
    return source, target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("activations")
    parser.add_argument("assembly")
    parser.add_argument("--layer", default=None, help="layer of the activations file (default: its first)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    import brainscore_vision
    from brainscore_vision import load_ceiling, load_metric
    from brainscore_vision.benchmark_helpers.neural_common import average_repetition, explained_variance

    source, repetitions = read_inputs(args.activations, args.assembly, args.layer)
    metric = load_metric("pls", crossvalidation_kwargs=dict(stratification_coord=None))
    ceiler = load_ceiling("internal_consistency")
    runs = []
    for _ in range(args.repeats):
        times = {}
        start, cpu = time.perf_counter(), time.process_time()
        target = average_repetition(repetitions)
        times["average_repetition"] = (time.perf_counter() - start, time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        raw = metric(source, target)
        times["metric"] = (time.perf_counter() - start, time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        ceiling = ceiler(repetitions)
        times["ceiling"] = (time.perf_counter() - start, time.process_time() - cpu)
        ceiled = explained_variance(raw, ceiling)
        runs.append(times)
    parts = {name: {"wall_s": float(np.median([r[name][0] for r in runs])),
                    "cpu_s": float(np.median([r[name][1] for r in runs]))} for name in runs[0]}
    total = {"wall_s": float(np.median([sum(t[0] for t in r.values()) for r in runs])),
             "cpu_s": float(np.median([sum(t[1] for t in r.values()) for r in runs]))}
    per_split = raw.attrs["raw"].median("neuroid")  # the per-split medians that the mean is taken of
    print(json.dumps({
        "brainscore_vision": getattr(brainscore_vision, "__version__", None) or _version("brainscore_vision"),
        "repeats": args.repeats, "total": total, "parts": parts,
        "n_stimuli": int(source.sizes["presentation"]), "n_features": int(source.sizes["neuroid"]),
        "n_neuroids": int(target.sizes["neuroid"]), "n_presentations": int(repetitions.sizes["presentation"]),
        "raw": float(raw.values), "error": float(raw.attrs["error"].values),
        "per_split": [float(v) for v in per_split.values],
        "ceiling": float(ceiling.values), "ceiled": float(ceiled.values)}))
    return 0


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name.replace("_", "-"))
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
