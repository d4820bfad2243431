"""``ridge``: ridge with one penalty per neuroid, chosen by leave-one-out over ``alphas``.

What ``sklearn.linear_model.RidgeCV(alphas, alpha_per_target=True)`` selects and predicts on each
split's train stimuli, from the linear kernel alone (:func:`brainalign.metrics.ridge.kernel_cv_ridge_predict`,
NumPy or torch); the chosen penalties are kept per split and neuroid.
"""

from __future__ import annotations

from ..ridge import DEFAULT_ALPHAS, kernel_cv_ridge_predict
from . import Regression, SplitPredictions, register_regression


@register_regression
class Ridge(Regression):
    """Per-neuroid RidgeCV by efficient leave-one-out over ``alphas`` (default :data:`.ridge.DEFAULT_ALPHAS`)."""

    name = "ridge"
    backends = ("numpy", "torch")

    def predict_splits(self, X, Y, splits, *, gram) -> SplitPredictions:
        alphas = DEFAULT_ALPHAS if self.alphas is None else self.alphas
        predictions, chosen = kernel_cv_ridge_predict(gram, Y, splits, alphas=alphas, backend=self.backend)
        return SplitPredictions(predictions, alphas=chosen)
