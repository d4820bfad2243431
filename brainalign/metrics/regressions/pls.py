"""``pls``: PLS regression with the protocol's number of components (Brain-Score's mapping).

scikit-learn's ``PLSRegression(n_components, scale=False)`` fitted on each split's train stimuli,
run in kernel form by :func:`brainalign.metrics.pls.kernel_cv_pls_predict` (NumPy, or torch on
CUDA when present), with the same predictions up to round-off.
"""

from __future__ import annotations

from ..pls import kernel_cv_pls_predict
from . import Regression, SplitPredictions, register_regression


@register_regression
class PLS(Regression):
    """PLS-``n_components`` (scale=False), the protocols' own mapping."""

    name = "pls"
    uses_components = True
    backends = ("numpy", "torch")

    def predict_splits(self, X, Y, splits, *, gram) -> SplitPredictions:
        return SplitPredictions(kernel_cv_pls_predict(gram, Y, splits, n_components=self.n_components,
                                                      backend=self.backend))
