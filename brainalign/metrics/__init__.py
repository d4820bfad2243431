"""Pure metric functions: arrays in, numbers out (numpy / scipy / scikit-learn only).

RDMs and their comparison live in :mod:`brainalign.metrics.rsa` (rsatoolbox), imported on demand.
"""

from .ceiling import SplitHalfCeiling, spearman_brown_split_half
from .cka import center_gram, cka_from_grams, gram_from_squared_distances, gram_linear, hsic, linear_cka
from .conventions import CONVENTIONS, DEFAULT_CONVENTION, ceiled_score
from .correlation import pearson_columns, spearman_brown
from .pls import PLSRegression, kernel_cv_pls_predict, linear_kernel
from .predictivity import PredictivityResult, cross_validated_predictivity
from .splits import brainscore_splits
from .bootstrap import bootstrap_samples, interval, paired_comparison
from .nayebi import interanimal_consistency, noise_corrected_predictivity, noise_corrected_rsa
from .ridge import PerTargetRidgeCV, kernel_cv_ridge_predict
from .texture import distribution_similarity, ks_similarity, sparseness, texture_modulation_index, variance_ratio

__all__ = ["center_gram", "cka_from_grams", "distribution_similarity", "gram_from_squared_distances", "gram_linear",
           "hsic", "ks_similarity", "linear_cka", "sparseness", "texture_modulation_index", "variance_ratio",
           "CONVENTIONS", "DEFAULT_CONVENTION", "PLSRegression", "PredictivityResult", "SplitHalfCeiling",
           "brainscore_splits", "ceiled_score", "cross_validated_predictivity", "kernel_cv_pls_predict",
           "linear_kernel", "pearson_columns", "spearman_brown", "spearman_brown_split_half",
           "PerTargetRidgeCV", "bootstrap_samples", "interanimal_consistency", "interval", "kernel_cv_ridge_predict",
           "noise_corrected_predictivity", "noise_corrected_rsa", "paired_comparison"]
