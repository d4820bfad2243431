"""The metrics' option names: array backends and RDM comparisons.

The module imports nothing, so the CLI lists these names as choices without importing numpy or
rsatoolbox; :mod:`.backend` and :mod:`.rsa` check their arguments against the same tuples.
"""

#: Array backends of the PLS and ridge kernels (:class:`brainalign.metrics.backend.Backend`).
BACKENDS = ("numpy", "torch")

#: RDM comparisons of :func:`brainalign.metrics.rsa.compare_rdms` (rsatoolbox's, plus ``cka``).
COMPARISONS = ("spearman", "tau-a", "rho-a", "corr", "cosine", "corr_cov", "cosine_cov", "cka")

#: The comparisons offered for imported RDMs (``brainalign data import rdm --comparison``): all but
#: the whitened ``*_cov`` ones, whose weighting assumes the covariance of distances estimated from
#: patterns with i.i.d. noise, which an imported RDM (similarities, any distance) need not follow.
IMPORTED_RDM_COMPARISONS = tuple(name for name in COMPARISONS if not name.endswith("_cov"))
