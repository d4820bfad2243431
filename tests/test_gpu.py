"""GPU: scores with ``--device cuda`` (extraction, and the torch PLS and ridge backends on the GPU) equal the CPU's.

Skipped on machines without CUDA; run them where a GPU is present.
"""

import numpy as np
import pytest
import torch

from brainalign import api
from brainalign.benchmarks.options import ScoreOptions

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

LAYERS = ["features.3", "features.7"]


def _score(results, **kwargs) -> dict[str, dict]:
    records = api.score("alexnet_bn64", benchmarks=["sim.V1"], layers=LAYERS, results=results, progress=False,
                        **kwargs)
    return {record["layer"]: record for record in records}


@pytest.mark.parametrize("regression, backend", [("pls", "numpy"), ("pls", "torch"), ("ridge", "torch")])
def test_cuda_scores_equal_cpu_scores(tmp_path, regression, backend):
    cpu = _score(tmp_path / "cpu", options=ScoreOptions(regression=regression, n_boot=50))
    gpu = _score(tmp_path / "gpu", device="cuda", options=ScoreOptions(regression=regression, backend=backend,
                                                                       n_boot=50))
    for layer in LAYERS:
        assert gpu[layer]["model"]["extraction"]["device"] == "cuda"
        assert gpu[layer]["score"]["raw"] == pytest.approx(cpu[layer]["score"]["raw"], abs=1e-3)
        assert gpu[layer]["score"]["ceiled"] == pytest.approx(cpu[layer]["score"]["ceiled"], abs=1e-3)


def test_cuda_fp16_autocast_is_recorded_keyed_apart_and_close(tmp_path):
    fp32 = _score(tmp_path, device="cuda", options=ScoreOptions(n_boot=0))
    fp16 = _score(tmp_path, device="cuda", precision="fp16", options=ScoreOptions(n_boot=0))
    for layer in LAYERS:
        assert fp16[layer]["model"]["extraction"]["precision"] == "fp16"
        assert fp16[layer]["key"] != fp32[layer]["key"]
        assert fp16[layer]["score"]["raw"] == pytest.approx(fp32[layer]["score"]["raw"], abs=0.02)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cuda_kernel_pls_equals_numpy_on_the_cpu(dtype):
    from brainalign.metrics.pls import kernel_cv_pls_predict, linear_kernel
    from brainalign.metrics.splits import brainscore_splits

    from test_metrics_pls_torch import FLOAT32_TOLERANCE, _problem

    for q in (6, 90):  # fewer and more targets than stimuli
        X, Y = _problem(q=q)
        gram, splits = linear_kernel(X), brainscore_splits(60)
        numpy = kernel_cv_pls_predict(gram, Y, splits, n_components=6)
        cuda = kernel_cv_pls_predict(gram, Y, splits, n_components=6, backend="torch", device="cuda", dtype=dtype)
        difference = max(float(np.abs(a - b).max()) for a, b in zip(numpy, cuda))
        assert difference < (1e-6 if dtype == "float64" else FLOAT32_TOLERANCE * np.abs(Y).max())
