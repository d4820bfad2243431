"""Regressions: the mappings from model features to neural responses that predictivity fits per split.

A regression is a :class:`Regression` subclass registered by :func:`register_regression` in a
module of its own, as timm registers its models::

    @register_regression
    class LeastSquares(Regression):
        name = "lstsq"

        def predict_splits(self, X, Y, splits, *, gram):
            ...                                       # -> SplitPredictions

The built-in ones are this package's modules, each named after the regression it registers
(:mod:`.pls`, :mod:`.ridge`): adding one is adding a module. Other packages add theirs through
entry points of the group ``brainalign.regressions``, each named after its regression (see
:mod:`brainalign.plugins`). Listing the names (:func:`regression_names`) imports nothing: it reads
this package's module names and the entry points' names, so the CLI and
:class:`brainalign.benchmarks.options.ScoreOptions` check a name without numpy, torch or
scikit-learn; :func:`get_regression` imports the one module that registers the name.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import ClassVar, Sequence

from brainalign.errors import InputError

__all__ = ["Regression", "SplitPredictions", "get_regression", "register_regression", "regression_names"]

GROUP = "brainalign.regressions"

_REGISTRY: dict[str, type[Regression]] = {}


@dataclass(frozen=True)
class SplitPredictions:
    """What a regression returns for a set of cross-validation splits.

    Attributes
    ----------
    predictions : list of ndarray of shape (n_test, n_targets)
        Held-out predictions, one per split, rows in the order of the split's ``test_idx``.
    alphas : ndarray of shape (n_splits, n_targets) or None
        The penalty chosen per split and target, for regressions that choose one (ridge).
    """

    predictions: list
    alphas: object = None


class Regression:
    """Base class of the regressions: fit on each split's train stimuli, predict its test stimuli.

    The constructor stores the scoring settings as they are; a regression uses the ones it
    needs. Subclasses set :attr:`name` and implement :meth:`predict_splits`.

    Parameters
    ----------
    n_components : int, default=25
        Number of components, for regressions with ``uses_components`` (PLS); the protocol's.
    alphas : sequence of float or None, default=None
        Penalty grid, for penalised regressions (ridge); ``ScoreOptions.alphas``.
    backend : str, default="numpy"
        Array backend of the fits; one of the class's :attr:`backends`.

    Attributes
    ----------
    name : str
        The name scoring selects it by (``ScoreOptions(regression=name)``, ``--metric name``).
    uses_components : bool
        Whether ``n_components`` applies: the inputs are then checked to have at least that
        many features.
    backends : tuple of str
        The backends it runs on.

    Raises
    ------
    InputError
        If ``backend`` is not one of :attr:`backends`.
    """

    name: ClassVar[str] = ""
    uses_components: ClassVar[bool] = False
    backends: ClassVar[tuple[str, ...]] = ("numpy",)

    def __init__(self, *, n_components: int = 25, alphas: Sequence[float] | None = None, backend: str = "numpy"):
        if backend not in self.backends:
            raise InputError(f"unknown backend {backend!r} for the {self.name} regression",
                             hint=f"use {' or '.join(self.backends)}")
        self.n_components = n_components
        self.alphas = alphas
        self.backend = backend

    def predict_splits(self, X, Y, splits, *, gram) -> SplitPredictions:
        """Fit on each split's train rows and predict its test rows.

        Parameters
        ----------
        X : ndarray of shape (n_stimuli, n_features)
            Model features (float32 or float64), already checked to be finite.
        Y : ndarray of shape (n_stimuli, n_targets)
            float64 responses, finite.
        splits : sequence of (ndarray, ndarray)
            ``(train_idx, test_idx)`` pairs, each with at least 2 indices.
        gram : ndarray of shape (n_stimuli, n_stimuli)
            float64 linear kernel of the column-centred ``X`` (``metrics.pls.linear_kernel``), for
            regressions that work in kernel form.

        Returns
        -------
        SplitPredictions
        """
        raise NotImplementedError


def register_regression(cls: type[Regression]) -> type[Regression]:
    """Class decorator: register a :class:`Regression` subclass under its ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, Regression)) or not cls.name:
        raise TypeError(f"{cls!r} is not a Regression subclass with a name")
    if cls.name in _REGISTRY:
        raise RuntimeError(f"regression {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _builtin_names() -> list[str]:
    return [module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_")]


def regression_names() -> tuple[str, ...]:
    """Sorted names of the built-in, plugin and registered regressions; imports none of them."""
    from brainalign.plugins import entry_point_names

    return tuple(sorted({*_builtin_names(), *entry_point_names(GROUP), *_REGISTRY}))


def get_regression(name: str) -> type[Regression]:
    """The regression class registered as ``name``, importing the module or plugin that registers it.

    Raises
    ------
    InputError
        If no built-in, plugin or registered regression has that name (the hint lists them).
    """
    if name not in _REGISTRY and name in _builtin_names():
        importlib.import_module(f"{__name__}.{name}")  # runs its @register_regression
    if name not in _REGISTRY:
        from brainalign.plugins import load_plugins

        load_plugins(GROUP)
    if name not in _REGISTRY:
        import difflib

        known = regression_names()
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
        raise InputError(f"unknown regression {name!r}",
                         hint=(f"did you mean {', '.join(close)}? " if close else "") + f"use one of {', '.join(known)}")
    return _REGISTRY[name]
