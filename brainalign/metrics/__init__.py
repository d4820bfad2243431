"""Pure metric functions: arrays in, numbers out (numpy / scipy / scikit-learn only).

RDMs and their comparison live in :mod:`brainalign.metrics.rsa` (rsatoolbox), imported on demand.
Names are imported from their modules on first use, and the scikit-learn estimators
(``PLSRegression``, ``PerTargetRidgeCV``) live apart from the kernel functions that scoring calls,
so scoring never pays scikit-learn's import (about a second).
"""

from brainalign._lazy import lazy_package

_LAZY = {"SplitHalfCeiling": "ceiling", "spearman_brown_split_half": "ceiling",
         **{name: "cka" for name in ("center_gram", "cka_from_grams", "gram_from_squared_distances", "gram_linear",
                                     "hsic", "linear_cka")},
         "CONVENTIONS": "conventions", "DEFAULT_CONVENTION": "conventions", "ceiled_score": "conventions",
         "pearson_columns": "correlation", "spearman_brown": "correlation",
         "PLSRegression": "pls_estimator", "kernel_cv_pls_predict": "pls", "linear_kernel": "pls",
         "PredictivityResult": "predictivity", "cross_validated_predictivity": "predictivity",
         "brainscore_splits": "splits",
         "bootstrap_samples": "bootstrap", "interval": "bootstrap", "paired_comparison": "bootstrap",
         "interanimal_consistency": "nayebi", "noise_corrected_predictivity": "nayebi", "noise_corrected_rsa": "nayebi",
         "PerTargetRidgeCV": "ridge_estimator", "kernel_cv_ridge_predict": "ridge",
         **{name: "texture" for name in ("distribution_similarity", "ks_similarity", "sparseness",
                                         "texture_modulation_index", "variance_ratio")}}

__all__ = sorted(_LAZY)

lazy_package(__name__, _LAZY)
