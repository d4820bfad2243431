"""Psychometric function fits with guess and lapse rates, through psignifit (Schuett et al. 2016).

psi(x) = gamma + (1 - gamma - lambda) * S(u(x); m, w)

* ``S`` is a cumulative normal (``"norm"``), a logistic (``"logistic"``) or a Weibull; psignifit
  works on a linear axis, and a Weibull in x is a Gumbel in log x, so ``"weibull"`` is fit on log x.
* ``u(x)`` is the fitting axis: ``x`` or ``log x`` (``scale``), negated for curves that fall with
  the level (``increasing=False``: noise width, blur), so S always rises.
* ``gamma`` is fixed at 1/n for n-AFC tasks (``n_choices``), ``lambda`` (lapse) is fit.
* threshold ``m``: the level where S = 0.5, reported on the level axis (``exp`` undone, sign
  undone); width ``w``: the distance on the fitting axis between S = 0.05 and S = 0.95.

Confidence intervals are psignifit's Bayesian credible intervals (marginal posterior percentiles).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import DataError, InputError

SIGMOIDS = {"weibull": "weibull", "logistic": "logistic", "norm": "norm", "cumulative-normal": "norm",
            "gumbel": "gumbel"}


@dataclass(frozen=True)
class PsychometricFit:
    """A fitted psychometric function.

    Attributes
    ----------
    sigmoid : psignifit sigmoid name (``weibull`` means Gumbel on log x).
    scale : ``"log"`` or ``"linear"`` fitting axis.
    increasing : whether accuracy rises with the level.
    n_choices : n of the n-AFC task (guess rate 1/n).
    threshold : level at which S = 0.5, on the level axis.
    threshold_ci : (low, high), ``ci`` credible interval of the threshold, on the level axis.
    width, width_ci : width on the fitting axis (S from 0.05 to 0.95), with its interval.
    lapse, lapse_ci : lapse rate lambda and its interval.
    guess : gamma.
    eta : psignifit's overdispersion (0 = binomial).
    ci : the credible mass of the intervals (e.g. 0.95).
    levels, n_correct, n_trials : the data fitted; levels on the level axis.
    """

    sigmoid: str
    scale: str
    increasing: bool
    n_choices: int
    threshold: float
    threshold_ci: tuple[float, float]
    width: float
    width_ci: tuple[float, float]
    lapse: float
    lapse_ci: tuple[float, float]
    guess: float
    eta: float
    ci: float
    levels: tuple[float, ...]
    n_correct: tuple[int, ...]
    n_trials: tuple[int, ...]

    def to_axis(self, levels) -> np.ndarray:
        """Levels -> the fitting axis u(x)."""
        return _to_axis(np.asarray(levels, dtype=float), self.scale, self.increasing)

    def predict(self, levels) -> np.ndarray:
        """psi at ``levels``: ndarray of the same shape, proportion correct."""
        from psignifit import sigmoids

        sigmoid = sigmoids.sigmoid_by_name(self.sigmoid, PC=0.5, alpha=0.05)
        u_threshold = float(self.to_axis(self.threshold))
        return np.asarray(sigmoid(self.to_axis(levels), u_threshold, self.width, self.guess, self.lapse))

    def to_dict(self) -> dict:
        """JSON-serialisable fields."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = [float(v) for v in value]
        return out


def _to_axis(levels: np.ndarray, scale: str, increasing: bool) -> np.ndarray:
    u = np.log(levels) if scale == "log" else levels
    return u if increasing else -u


def _from_axis(u, scale: str, increasing: bool):
    u = np.asarray(u, dtype=float) if increasing else -np.asarray(u, dtype=float)
    return np.exp(u) if scale == "log" else u


def _check(levels, n_correct, n_trials, scale) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    levels = np.asarray(levels, dtype=float)
    n_correct = np.asarray(n_correct, dtype=float)
    n_trials = np.asarray(n_trials, dtype=float)
    if not (levels.shape == n_correct.shape == n_trials.shape) or levels.ndim != 1:
        raise DataError(f"levels, n_correct and n_trials must be 1-d of one length; got {levels.shape}, "
                        f"{n_correct.shape}, {n_trials.shape}")
    if not np.all(np.isfinite(levels)):
        raise DataError("psychometric levels must be finite",
                        hint="drop the infinite (unfiltered) level before fitting")
    if scale == "log" and np.any(levels <= 0):
        raise DataError("a log-axis fit needs positive levels", hint="drop the level 0 or fit on a linear axis")
    if np.any(n_trials <= 0) or np.any(n_correct < 0) or np.any(n_correct > n_trials):
        raise DataError("each level needs 0 <= n_correct <= n_trials and n_trials > 0")
    if len(np.unique(levels)) < 3:
        raise DataError(f"a psychometric fit needs at least 3 distinct levels; got {len(np.unique(levels))}")
    return levels, n_correct, n_trials


def fit_psychometric(levels, n_correct, n_trials, *, n_choices: int, sigmoid: str = "weibull",
                     scale: str | None = None, increasing: bool = True, ci: float = 0.95,
                     fix_eta: bool = False, max_lapse: float | None = None) -> PsychometricFit:
    """Fit psi to binomial data with psignifit.

    Parameters
    ----------
    levels : array of shape (n_levels,), stimulus strength per block (contrast, noise width, ...).
    n_correct, n_trials : arrays of shape (n_levels,), counts per level.
    n_choices : n of the n-AFC task; the guess rate is fixed at 1/n.
    sigmoid : ``"weibull"`` (default, on log x), ``"logistic"``, ``"norm"`` (cumulative normal).
    scale : ``"log"`` or ``"linear"``; default log for a Weibull, linear otherwise.
    increasing : False for curves that fall with the level.
    ci : credible mass of the reported intervals, one of 0.95, 0.9, 0.68.
    fix_eta : fix psignifit's overdispersion at 0 (pure binomial), else fit it (default).
    max_lapse : upper bound of the lapse rate (psignifit's default prior range otherwise).
    """
    if sigmoid not in SIGMOIDS:
        raise InputError(f"unknown sigmoid {sigmoid!r}", hint=f"known: {', '.join(SIGMOIDS)}")
    name = SIGMOIDS[sigmoid]
    scale = scale or ("log" if name == "weibull" else "linear")
    if scale not in ("log", "linear"):
        raise InputError(f"unknown fit scale {scale!r}", hint="log or linear")
    if name == "weibull" and scale != "log":
        raise InputError("a Weibull is fit on log x", hint="use scale='log', or the gumbel sigmoid on a linear axis")
    if ci not in (0.95, 0.9, 0.68):
        raise InputError(f"unsupported credible mass {ci}", hint="0.95, 0.9 or 0.68")
    if n_choices < 2:
        raise InputError(f"n_choices must be at least 2; got {n_choices}")
    levels, k, n = _check(levels, n_correct, n_trials, scale)
    u = _to_axis(levels, scale, increasing)
    data = np.column_stack([u, k, n])
    options = {"sigmoid": name, "experiment_type": "nAFC", "experiment_choices": int(n_choices),
               "confP": (0.95, 0.9, 0.68), "verbose": False}
    if fix_eta:
        options["fixed_parameters"] = {"eta": 0.0}
    if max_lapse is not None:
        options["bounds"] = {"lambda": (0.0, float(max_lapse))}
    import psignifit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = psignifit.psignifit(data[np.argsort(u)], **options)
    estimate, intervals = result.parameter_estimate_MAP, result.confidence_intervals
    key = f"{ci:g}"
    threshold_ci = sorted(float(v) for v in _from_axis(intervals["threshold"][key], scale, increasing))
    return PsychometricFit(
        sigmoid=name, scale=scale, increasing=bool(increasing), n_choices=int(n_choices),
        threshold=float(_from_axis(estimate["threshold"], scale, increasing)), threshold_ci=tuple(threshold_ci),
        width=float(estimate["width"]), width_ci=tuple(float(v) for v in intervals["width"][key]),
        lapse=float(estimate["lambda"]), lapse_ci=tuple(float(v) for v in intervals["lambda"][key]),
        guess=float(estimate["gamma"]), eta=float(estimate["eta"]), ci=float(ci),
        levels=tuple(float(v) for v in levels), n_correct=tuple(int(v) for v in k), n_trials=tuple(int(v) for v in n))
