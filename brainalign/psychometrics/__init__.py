"""Psychometrics: image conditions and parametric tasks, model decisions, psychometric fits,
human data of model-vs-human and error consistency."""

from .conditions import CONDITIONS, get_condition
from .consistency import error_consistency
from .fits import PsychometricFit, fit_psychometric
from .imagenet16 import CATEGORIES, category_probabilities, decisions_16
from .tasks import TASKS, get_task

__all__ = ["CATEGORIES", "CONDITIONS", "PsychometricFit", "TASKS", "category_probabilities", "decisions_16",
           "error_consistency", "fit_psychometric", "get_condition", "get_task"]
