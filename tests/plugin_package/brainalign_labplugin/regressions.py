"""lstsq: ordinary least squares with an intercept (the minimum-norm solution when features outnumber stimuli)."""

import numpy as np

from brainalign.metrics.regressions import Regression, SplitPredictions, register_regression


@register_regression
class LeastSquares(Regression):
    name = "lstsq"                # ScoreOptions(regression="lstsq"), --metric lstsq, plans: lstsq_predictivity

    def predict_splits(self, X, Y, splits, *, gram):
        """X (n_stimuli, n_features), Y (n_stimuli, n_neuroids); one (n_test, n_neuroids) array per split."""
        X = np.asarray(X, dtype=np.float64)
        predictions = []
        for train, test in splits:
            x_mean, y_mean = X[train].mean(axis=0), Y[train].mean(axis=0)
            coef = np.linalg.lstsq(X[train] - x_mean, Y[train] - y_mean, rcond=None)[0]
            predictions.append((X[test] - x_mean) @ coef + y_mean)
        return SplitPredictions(predictions)
