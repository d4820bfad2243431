"""Pure metric functions: arrays in, numbers out (numpy / scipy / scikit-learn only)."""

from .ceiling import SplitHalfCeiling, spearman_brown_split_half
from .conventions import CONVENTIONS, DEFAULT_CONVENTION, ceiled_score
from .correlation import pearson_columns, spearman_brown
from .pls import PLSRegression, kernel_cv_pls_predict, linear_kernel
from .predictivity import PredictivityResult, cross_validated_predictivity
from .splits import brainscore_splits

__all__ = ["CONVENTIONS", "DEFAULT_CONVENTION", "PLSRegression", "PredictivityResult", "SplitHalfCeiling",
           "brainscore_splits", "ceiled_score", "cross_validated_predictivity", "kernel_cv_pls_predict",
           "linear_kernel", "pearson_columns", "spearman_brown", "spearman_brown_split_half"]
