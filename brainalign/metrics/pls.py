"""Partial least squares regression (PLS2, NIPALS) that is fast when features outnumber stimuli.

scikit-learn's ``PLSRegression`` runs the NIPALS power method on the centred feature matrix
``X`` of shape (n_samples, n_features): every step costs ``O(n_samples * n_features)``. Every
quantity the algorithm computes from X is an inner product of rows of X or of their deflated
residuals, so the identical algorithm runs in dual (kernel) form on ``K = X_c X_c^T``: an X
weight vector is kept as dual coefficients ``a`` with ``w = X_k^T a`` (``X_k`` the deflated X),
its X score is ``K_k a``, and deflating ``X_k <- P X_k`` (``P = I - t t^T / t^T t``) deflates
``K_k <- P K_k P``. Feature-space weights, loadings and coefficients are recovered at the end
by undoing the deflations on the dual coefficients and multiplying by ``X_c^T``; in
cross-validation only the kernel is needed, and a test stimulus's prediction is its centred
kernel row times the dual coefficients.

How it is fast (see :func:`_batched_nipals`):

- the power method runs in the space of Y's columns: every Y score is ``y = Y_k gamma``, every
  step multiplies ``gamma`` by ``G = Y_k^T K_k Y_k`` (n_targets x n_targets) and the stopping
  rule is a quadratic form in G (:func:`_power_method`); with more targets than stimuli, Y is
  first reduced to an orthonormal basis of its row space;
- all the splits of a cross-validation (of equal train sizes) are fitted together, one batched
  product per step, each split stopping at its own iteration; the steps run in blocks, the
  rule evaluated once per block;
- the deflation updates G with a rank-two term from one product of the kernel with the new
  score (every split at once, from the full kernel: the train kernels are never formed) and
  recomputes G from scratch only when it has shrunk by a factor 1000 (:func:`_refresh`).

Notes
-----
Reproduced from ``sklearn/cross_decomposition/_pls.py`` (scikit-learn 1.9): X and Y centred
(and scaled by their ddof=1 standard deviation when ``scale=True``); per component, Y columns
whose residual is all below ``10 * eps`` set to 0; ``_get_first_singular_vectors_power_method``
in mode A starting from the first Y residual column with an entry above ``eps``, X weights
normalised as ``w / (||w|| + eps)``, stopping when the squared change of the X weights is below
``tol`` (after one step when Y has one column), ``ConvergenceWarning`` at ``max_iter``; early
stop with a warning when the Y residual is constant; ``_svd_flip_1d`` sign convention (largest
absolute X weight positive; predictions do not depend on it); regression deflation of X and Y
on the X score; ``coef_ = W pinv(P^T W) Q^T`` rescaled by the standard deviations and
``intercept_`` the Y mean. The iterates, including their ``eps`` terms, and the iteration
counts equal scikit-learn's (up to round-off: about 1e-14 relative on the predictions); a
stopping decision within a relative 1e-6 of ``tol`` is re-evaluated step by step. Each warning
is issued at most once per call.

Where this differs: scikit-learn keeps going when ``n_components`` exceeds the numerical rank
of the centred X and then fits round-off (its predictions change arbitrarily); here the fit
stops, with a warning, once the residual kernel's trace falls below ``n_samples * eps`` times
the initial trace, which is what the algorithm gives in exact arithmetic.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg.blas import dgemv as _dgemv
from scipy.linalg.blas import dger as _dger

from brainalign._lazy import lazy_attributes
from brainalign.errors import DataError, InputError

__all__ = ["PLSRegression", "kernel_cv_pls_predict", "linear_kernel"]

_EPS = np.finfo(np.float64).eps
_BATCH_BYTES = 2 ** 28  # memory for the state of the splits fitted together
# the dot product along the last axis (a ufunc from NumPy 2.0 on)
_vecdot = getattr(np, "vecdot", None) or (lambda a, b: np.einsum("...i,...i->...", a, b))


# ``PLSRegression``, the scikit-learn estimator, lives in :mod:`.pls_estimator`: the kernel path
# (:func:`kernel_cv_pls_predict`) then never imports scikit-learn, which takes about a second.
__getattr__ = lazy_attributes(__name__, {"PLSRegression": "brainalign.metrics.pls_estimator"})


def kernel_cv_pls_predict(gram, Y, splits, *, n_components=25, max_iter=500, tol=1e-06, backend="numpy",
                          device=None, dtype="float64"):
    """Held-out PLS predictions for each split, from the linear kernel alone.

    For every ``(train_idx, test_idx)``, returns what
    ``sklearn.cross_decomposition.PLSRegression(n_components, scale=False)
    .fit(X[train_idx], Y[train_idx]).predict(X[test_idx])`` returns, without ``X``.

    Parameters
    ----------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        Linear kernel ``K = X X^T`` of the features (float64), e.g. from :func:`linear_kernel`.
        Any column-centring of X is allowed: each split is re-centred on its train mean.
    Y : ndarray of shape (n_stimuli, n_targets) or (n_splits, n_stimuli, n_targets)
        Targets; a 3-D array gives every split its own targets (e.g. one trial half per fit,
        as the ``nayebi2023`` protocol needs; each split is then fit on ``Y[i]``).
    splits : sequence of (ndarray, ndarray)
        ``(train_idx, test_idx)`` pairs of indices into the stimuli.
    n_components : int, default=25
        Number of PLS components; at most the number of train stimuli. Fewer are fitted, with a
        warning, when the centred train kernel has a lower numerical rank.
    max_iter : int, default=500
        Maximum number of power-method iterations per component.
    tol : float, default=1e-06
        Convergence tolerance of the power method.
    backend : {"numpy", "torch"}, default="numpy"
        ``"torch"`` runs the fits with torch (:mod:`.pls_torch`), on ``device``: the same
        predictions to round-off in float64 (tested to 1e-6 against NumPy on the CPU).
    device : str, default=None
        torch device for ``backend="torch"``; None picks ``"cuda"`` when available, else ``"cpu"``.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the torch backend (NumPy always uses float64). float32 predictions differed
        from float64's by at most 2e-6 of the targets' largest absolute value in the tests and
        perf problems (tested at 1e-5).

    Returns
    -------
    predictions : list of ndarray of shape (n_test, n_targets)
        Held-out predictions, one array per split, in the order of ``test_idx``.

    Raises
    ------
    DataError
        If ``gram`` is not square or does not match the rows of ``Y``.
    InputError
        If ``n_components`` exceeds a train set or an option is out of range.

    Warns
    -----
    ConvergenceWarning
        Once, if any component of any split reached ``max_iter`` (as scikit-learn would).
    UserWarning
        Once, if a split's Y residual became constant or its train kernel's numerical rank was
        reached before ``n_components``.

    Notes
    -----
    The kernel does not know the number of features: the caller must ensure
    ``n_components <= n_features``, as scikit-learn requires. The splits with the same train
    size are fitted together (:func:`_batched_nipals`); the train kernels are never formed,
    each product with one goes through the full kernel.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((40, 300)), rng.standard_normal((40, 2))
    >>> split = (np.arange(30), np.arange(30, 40))
    >>> [pred] = kernel_cv_pls_predict(linear_kernel(X), Y, [split], n_components=3)
    >>> pred.shape
    (10, 2)
    """
    gram, Y = _check_kernel_inputs(gram, Y)
    _check_iteration_options(max_iter, tol)
    if backend not in ("numpy", "torch"):
        raise InputError(f"unknown backend {backend!r}", hint="use numpy or torch")
    if dtype not in ("float64", "float32") or (dtype != "float64" and backend == "numpy"):
        raise InputError(f"dtype {dtype!r} is not available with the {backend} backend",
                         hint="use float64, or float32 with backend='torch'")
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    if Y.ndim == 3 and len(Y) != len(splits):
        raise DataError(f"per-split targets for {len(Y)} splits, but {len(splits)} splits given")
    by_size = {}
    for i, (train, _) in enumerate(splits):
        _check_n_components(n_components, n_samples=len(train))
        by_size.setdefault(len(train), []).append(i)
    predictions, report = [None] * len(splits), _Report()
    if backend == "torch":
        from brainalign.metrics.pls_torch import torch_kernel_cv_pls_predict

        predictions = torch_kernel_cv_pls_predict(gram, Y, splits, n_components=n_components, max_iter=max_iter,
                                                  tol=tol, report=report, device=device, dtype=dtype)
        report.warn(n_components, stacklevel=2)
        return predictions
    # the splits with equal train sizes are fitted together, as many as fit in _BATCH_BYTES
    batches = []
    for n_train, members in by_size.items():
        n_targets = Y.shape[-1]
        r = min(n_train, n_targets)
        per_split = 8 * (n_train * r + r * r + 4 * n_components * n_train
                         + (n_targets > n_train) * 2 * n_targets * n_train)
        size = max(1, _BATCH_BYTES // per_split)
        batches += [members[i:i + size] for i in range(0, len(members), size)]
    for members in batches:
        kernels = _SplitKernels(gram, np.stack([splits[i][0] for i in members]))
        fits, y_means, group_report = _batched_nipals(
            kernels, Y if Y.ndim == 2 else Y[members], n_components=n_components,
            max_iter=max_iter, tol=tol)
        report.merge(group_report)
        # the dual regression matrix is A pinv(P^T K A) Q^T (scipy's pinv cut-off, as sklearn)
        product, index = kernels.product(np.stack([fit.x_weights for fit in fits]))
        train_means = product[index].mean(axis=1)
        loadings_weights = np.stack([fit.x_loadings for fit in fits]).transpose(0, 2, 1) @ (
            product[index] - train_means[:, None])  # P^T K A, in feature space P^T W
        coefs = np.linalg.pinv(loadings_weights, rcond=n_components * _EPS) @ np.stack(
            [fit.y_loadings for fit in fits]).transpose(0, 2, 1)
        for j, (i, y_mean) in enumerate(zip(members, y_means)):
            predictions[i] = (product[splits[i][1], j] - train_means[j]) @ coefs[j] + y_mean
    report.warn(n_components, stacklevel=2)
    return predictions


def linear_kernel(X, *, chunk_size=4096):
    """Linear kernel of column-centred features, accumulated over feature chunks.

    Parameters
    ----------
    X : array-like of shape (n_stimuli, n_features)
        Features, any real dtype (float32 stays float32 in memory).
    chunk_size : int, default=4096
        Number of features converted to float64 at a time; peak extra memory is
        ``8 * n_stimuli * chunk_size`` bytes plus the kernel.

    Returns
    -------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        ``X_c X_c^T`` in float64, where ``X_c`` is X minus its column means.

    Raises
    ------
    DataError
        If X is not 2-D.
    InputError
        If ``chunk_size`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    >>> linear_kernel(X, chunk_size=1)
    array([[ 2., -2.],
           [-2.,  2.]])
    """
    if not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"features must be a 2-D array (n_stimuli, n_features), got shape {X.shape}")
    gram = np.zeros((X.shape[0], X.shape[0]))
    for start in range(0, X.shape[1], chunk_size):
        block = X[:, start:start + chunk_size].astype(np.float64)
        block -= block.mean(axis=0)
        gram += block @ block.T
    return gram


class _KernelFit:
    """A NIPALS fit in dual form: X weights and loadings as ``X_c^T @ x_weights`` etc."""

    def __init__(self, x_weights, x_loadings, y_weights, y_loadings, n_iter):
        self.x_weights, self.x_loadings = x_weights, x_loadings
        self.y_weights, self.y_loadings = y_weights, y_loadings
        self.n_iter = n_iter
        self.n_fitted = len(n_iter)


class _Report:
    """What the batched fits would each have warned about, to warn once per call."""

    def __init__(self):
        self.max_iter_reached = False
        self.rank_fitted = []  # components fitted by splits stopped at the numerical rank
        self.constant_at = []  # components at which a split found a constant Y residual

    def merge(self, other):
        self.max_iter_reached |= other.max_iter_reached
        self.rank_fitted += other.rank_fitted
        self.constant_at += other.constant_at

    def warn(self, n_components, *, stacklevel):
        stacklevel += 1
        if self.max_iter_reached:
            from sklearn.exceptions import ConvergenceWarning  # scikit-learn's category, imported when needed

            warnings.warn("Maximum number of iterations reached", ConvergenceWarning,
                          stacklevel=stacklevel)
        if self.rank_fitted:
            low, high = min(self.rank_fitted), max(self.rank_fitted)
            fitted = f"{low}" if low == high else f"{low} to {high} (depending on the split)"
            warnings.warn(f"n_components={n_components} exceeds the numerical rank of the "
                          f"centred features; fitted {fitted} components", stacklevel=stacklevel)
        if self.constant_at:
            warnings.warn(f"y residual is constant at iteration {min(self.constant_at)}",
                          stacklevel=stacklevel)


class _SplitKernels:
    """The centred train kernels of equal-size train sets, applied without being formed.

    With ``G`` the given kernel, ``tr`` a train set of ``n`` indices and ``C = I - 1 1^T / n``,
    the centred train kernel is ``K = C G[tr, tr] C`` and
    ``K x = C (G x_full)[tr]``, where ``x_full`` places ``C x`` on the rows ``tr`` of a zero
    vector over all stimuli; one product with ``G`` serves every split and column. The centred
    test-train kernel applied to ``x`` is ``(G x_full)[test]`` minus the mean of
    ``(G x_full)[tr]``.
    """

    def __init__(self, gram, trains):
        # centred over all the stimuli first, which changes no K (the train centring absorbs it)
        # but keeps a kernel with a large offset from amplifying round-off along the ones vector
        means = gram.mean(axis=0)
        self.gram = gram - means - means[:, None] + means.mean()
        self.trains = trains
        self._distinct = all(len(np.unique(train)) == len(train) for train in trains)
        # the stimuli outside each train set, when these are at most half of it (for _initial_G)
        self.complements = None
        if self._distinct and 2 * (len(gram) - trains.shape[1]) <= trains.shape[1]:
            outside = np.ones(trains.shape[:1] + (len(gram),), dtype=bool)
            outside[np.arange(len(trains))[:, None], trains] = False
            self.complements = [np.flatnonzero(row) for row in outside]

    def product(self, X, which=None):
        """``G x_full`` for each column of X (n_splits, n, c), shape (n_stimuli, n_splits, c).

        ``which`` selects the train sets of X's splits (default: all). Also returns the index
        of the train rows (for ``product[index]`` of shape (n_splits, n, c)).
        """
        trains = self.trains if which is None else self.trains[which]
        n_splits, _, n_columns = X.shape
        full = np.zeros((len(self.gram), n_splits, n_columns))
        index = (trains, np.arange(n_splits)[:, None])
        centred = X - X.mean(axis=1, keepdims=True)
        if self._distinct:
            full[index] = centred
        else:  # a repeated train stimulus is a repeated row and column of G[tr, tr]
            np.add.at(full, index, centred)
        product = self.gram @ full.reshape(len(self.gram), n_splits * n_columns)
        return product.reshape(full.shape), index

    def apply(self, X, which=None):
        """``K x`` for each column x of X (n_splits, n, c), with each split's train kernel."""
        product, index = self.product(X, which)
        rows = product[index]
        return rows - rows.mean(axis=1, keepdims=True)

    def apply_vectors(self, x, which):
        """``K x`` for each row x of x (n_rows, n), with the train set ``self.trains[which]``.

        The rows must be centred already (up to round-off): ``C x`` is taken as ``x``.
        """
        rows = (np.arange(len(x))[:, None], self.trains[which])
        full = np.zeros((len(x), len(self.gram)))
        if self._distinct:
            full[rows] = x
        else:  # a repeated train stimulus is a repeated row and column of G[tr, tr]
            np.add.at(full, rows, x)
        product = (full @ self.gram.T)[rows]  # x_full^T G^T = (G x_full)^T
        return product - product.mean(axis=1, keepdims=True)

    def traces(self):
        """Trace of each centred train kernel: ``trace(G[tr, tr]) - 1^T G[tr, tr] 1 / n``."""
        n_splits, n = self.trains.shape
        counts = np.zeros((n_splits, len(self.gram)))
        np.add.at(counts, (np.arange(n_splits)[:, None], self.trains), 1.0)
        total = _vecdot(counts @ self.gram.T, counts)
        return self.gram.diagonal()[self.trains].sum(axis=1) - total / n


class _State:
    """The per-split arrays of the batched NIPALS loop; row i belongs to split ``ids[i]``.

    The arrays are C-contiguous (``keep`` copies them), which :func:`_deflate`'s in-place BLAS
    updates of B, G and the Y residual rely on.
    """

    def __init__(self, **arrays):
        self.names = [name for name, value in arrays.items() if value is not None]
        for name, value in arrays.items():
            setattr(self, name, value)

    @property
    def Yk(self):  # noqa: N802 - the Y residual: B itself unless the targets were reduced
        return self.B if self.W is None else self.Y_residual

    def keep(self, rows):
        for name in self.names:
            setattr(self, name, getattr(self, name)[rows])


# recompute G once its trace or F's has fallen below 1e-3 of its value at the last
# recomputation: see _refresh
_REFRESH = np.array([1e-3, 1e-3])


def _batched_nipals(kernels, Y, *, n_components, max_iter, tol):
    """scikit-learn's PLS2 NIPALS loop (mode A, regression deflation) for several train sets.

    ``kernels`` is a :class:`_SplitKernels` over ``n_splits`` train sets of ``n`` stimuli and
    ``Y`` (n_stimuli, n_targets) the targets of all the stimuli, or (n_splits, n_stimuli,
    n_targets) with each split's own targets. Returns one
    :class:`_KernelFit` per split, the train means of Y (n_splits, n_targets) and a
    :class:`_Report`.

    The power method runs in the space of Y's columns (:func:`_power_method`): every split
    keeps ``B = Y_k W`` (n, r), deflated as scikit-learn deflates Y, ``G = B^T K_k B`` (r, r)
    with ``K_k`` the deflated kernel, deflated with rank-two updates, the diagonal of
    ``F = B^T B``, the trace of ``K_k`` and the normalised X scores so far; the deflated kernel
    is applied as ``K_k x = P K P x``, with ``P`` the projection off those scores (one product
    with the kernel for all the splits; :func:`_deflate`). ``W`` is the identity
    (``r = n_targets``) unless there are more targets than stimuli, when it is an orthonormal
    basis of Y's row space (``r = n``) from a QR decomposition; the residual ``Y_k`` itself is
    then kept too, for scikit-learn's per-column rules (zeroing tiny columns, the starting
    column), and a zeroed column is zeroed there only (a change below ``10 * eps`` per entry).
    The first G of every split comes from ``Y^T K Y`` over all the stimuli (:func:`_initial_G`)
    when the train sets hold at least two thirds of them, else from :func:`_refresh`.
    """
    if Y.ndim == 3:  # each split's own targets over all the stimuli
        Y_all, Y = None, np.take_along_axis(Y, kernels.trains[:, :, None], axis=1)
    else:
        Y_all, Y = Y, Y[kernels.trains]
    n_splits, n, n_targets = Y.shape
    y_mean = Y.mean(axis=1)
    Y_residual = Y - y_mean[:, None, :]
    W = None
    if n_targets > n:
        W, R = np.linalg.qr(Y_residual.transpose(0, 2, 1))
        B = R.transpose(0, 2, 1).copy()
    else:
        B, Y_residual = Y_residual, None
    r = B.shape[2]
    traces = kernels.traces()
    st = _State(ids=np.arange(n_splits), B=B, G=np.empty((n_splits, r, r)),
                G_trace=np.empty(n_splits), F_diag=np.empty((n_splits, r)), W=W,
                Y_residual=Y_residual, Y_squares=None if W is None else np.einsum(
                    "snm,snm->sm", Y_residual, Y_residual),
                T=np.zeros((n_splits, n_components, n)), trace=traces,
                zero_trace=traces * n * _EPS, refreshed=np.empty((n_splits, 2)))
    if W is None and kernels.complements is not None and Y_all is not None:
        st.G[:] = _initial_G(kernels, Y_all)
        st.F_diag[:] = np.einsum("snr,snr->sr", B, B)
        st.G_trace[:] = np.trace(st.G, axis1=1, axis2=2)
        st.refreshed[:] = np.stack([st.G_trace, st.F_diag.sum(axis=1)], axis=1)
    else:
        _refresh(st, kernels, np.arange(n_splits), 0)
    A, P, T = (np.zeros((n_splits, n_components, n)) for _ in range(3))  # one row per component
    C, Q = (np.zeros((n_splits, n_components, n_targets)) for _ in range(2))
    n_iter, n_fitted = np.zeros((n_splits, n_components), dtype=int), np.zeros(n_splits, dtype=int)
    report = _Report()
    for k in range(n_components):
        stop = st.trace <= st.zero_trace
        if stop.any():
            report.rank_fitted.append(k)
            st.keep(~stop)
        small = _small_columns(st, n_updates=k + 1)
        constant = np.all(small, axis=1)
        if constant.any():
            report.constant_at.append(k)
            st.keep(~constant)
            small = small[~constant]
        if not len(st.ids):
            break
        start = np.argmin(small, axis=1)  # the first column with an entry above 10 * eps
        if st.W is None:
            gamma = np.zeros((len(st.ids), r))
            gamma[np.arange(len(st.ids)), start] = 1.0
        else:
            gamma = st.W[np.arange(len(st.ids)), start]
        a, t, c, iterations = _component(st, kernels, gamma, k, one_target=n_targets == 1,
                                         max_iter=max_iter, tol=tol)
        report.max_iter_reached |= bool(np.any(iterations == max_iter))
        ids = st.ids
        q, tt = _deflate(st, kernels, t, k)
        A[ids, k], P[ids, k], T[ids, k] = a, t / tt[:, None], st.T[:, k]
        if st.W is not None:
            c, q = (st.W @ c[:, :, None])[:, :, 0], (st.W @ q[:, :, None])[:, :, 0]
        C[ids, k], Q[ids, k], n_iter[ids, k] = c, q, iterations
        n_fitted[ids] = k + 1
        current = np.stack([st.G_trace, st.F_diag.sum(axis=1)], axis=1)
        stale = np.any(current < _REFRESH * st.refreshed, axis=1)
        if stale.any():
            _refresh(st, kernels, np.flatnonzero(stale), k + 1)
    # w = X_k^T a = X^T (I - sum_j t_j t_j^T / t_j^T t_j) a over the earlier scores t_j, which
    # a and t are orthogonal to up to round-off; remove that round-off (and likewise for p)
    for D in (A, P):
        D -= np.tril(D @ T.transpose(0, 2, 1), -1) @ T
    fits = [_KernelFit(A[i].T, P[i].T, C[i].T, Q[i].T, n_iter[i, :n_fitted[i]].tolist())
            for i in range(n_splits)]
    return fits, y_mean, report


def _initial_G(kernels, Y):
    """``G = B^T K B`` of every split (B its centred train targets), from all the stimuli's.

    With the kernel ``K`` and Y centred over all the stimuli, ``D`` the train rows' indicator
    and ``mu`` the train mean of Y: ``B = D (Y - 1 mu^T)`` padded with zeros, so
    ``G = Y^T D K D Y - mu h^T - h mu^T + (1_tr^T K 1_tr) mu mu^T`` with ``h = Y^T D K 1_tr``.
    ``Y^T K Y`` is computed once and ``Y^T D K D Y`` follows from it by subtracting the terms
    of the other rows ``o`` (at most half the train set), as ``K 1_tr = -K 1_o`` does.
    """
    K = kernels.gram
    Y = Y - Y.mean(axis=0)
    KY = K @ Y
    G = np.empty((len(kernels.trains), Y.shape[1], Y.shape[1]))
    YKY = Y.T @ KY
    for i, (train, other) in enumerate(zip(kernels.trains, kernels.complements)):
        Y_o, KY_o = Y[other], KY[other]
        cross = Y_o.T @ KY_o
        G[i] = YKY - cross - cross.T + Y_o.T @ (K[np.ix_(other, other)] @ Y_o)
        mu = Y[train].mean(axis=0)
        K_o = K[:, other].sum(axis=1)  # K 1_o = -K 1_tr
        h = -(K_o[train] @ Y[train])
        G[i] -= np.outer(mu, h) + np.outer(h - K_o[other].sum() * mu, mu)
    return G


def _small_columns(st, *, n_updates):
    """Which Y residual columns have all entries below ``10 * eps`` (split, column); zeroes them.

    scikit-learn's ``yk[:, all(abs(yk) < 10 * eps, axis=0)] = 0``. A column whose squared norm
    (kept up to date by :func:`_deflate`, up to its round-off) exceeds ``n (10 eps)^2`` has an
    entry above, and only the other columns are looked at.
    """
    n = st.B.shape[1]
    Y_k, squares = (st.B, st.F_diag) if st.W is None else (st.Y_residual, st.Y_squares)
    error = 4 * (n_updates + 1) * _EPS * st.refreshed[:, 1:2]
    unsure = ~(squares - error > n * (10 * _EPS) ** 2)
    small = np.zeros(unsure.shape, dtype=bool)
    if not unsure.any():
        return small
    rows, columns = np.nonzero(unsure)
    column_max = np.abs(Y_k[rows, :, columns]).max(axis=1)
    small[rows, columns] = column_max < 10 * _EPS
    zeroed = (column_max > 0.0) & small[rows, columns]
    if zeroed.any():
        rows, columns = rows[zeroed], columns[zeroed]
        Y_k[rows, :, columns] = squares[rows, columns] = 0.0
        if st.W is None:
            st.G[rows, columns, :] = st.G[rows, :, columns] = 0.0
            st.G_trace[rows] = np.trace(st.G[rows], axis1=1, axis2=2)
    return small


def _component(st, kernels, gamma, k, *, one_target, max_iter, tol):
    """One component's power method for every split: returns a, t, c and the iteration counts.

    ``a = B alpha`` (``w = X_k^T a``), ``t = K_k a`` (the X score) and ``c`` the reduced y
    weights, from :func:`_power_method` and :func:`_final_step`, or, for the splits these
    leave unsure (and for a single target), from :func:`_power_method_exact`.
    """
    n_splits, n = st.B.shape[:2]
    if one_target:
        redo = np.ones(n_splits, dtype=bool)
        a, t = np.empty((n_splits, n)), np.empty((n_splits, n))
        c, iterations = np.empty(gamma.shape), np.empty(n_splits, dtype=int)
    else:
        F_trace = np.abs(st.F_diag.sum(axis=1))  # bounds x^T F x; times trace(K_k), x^T H x
        steps = _power_method(st.G, gamma, (_EPS * F_trace, np.abs(st.trace) * F_trace),
                              max_iter=max_iter, tol=tol)
        a, t, c = _final_step(st, kernels, steps, k)
        iterations, redo = steps.lengths, steps.unsure
    if redo.any():
        B = st.B[redo]
        Z = _kernel_columns(st, kernels, B, k, rows=np.flatnonzero(redo))
        M = np.stack([st.G[redo], B.transpose(0, 2, 1) @ B, Z.transpose(0, 2, 1) @ Z], axis=1)
        alpha, c[redo], iterations[redo] = _power_method_exact(
            M, gamma[redo], one_target=one_target, max_iter=max_iter, tol=tol)
        a[redo], t[redo] = (B @ alpha[:, :, None])[:, :, 0], (Z @ alpha[:, :, None])[:, :, 0]
    return a, t, c, iterations


# power-method steps per block of :func:`_power_method`: the first, then as _next_block predicts
_FIRST_BLOCK, _MIN_BLOCK, _MAX_BLOCK = 8, 4, 64
_EXACT_BLOCKS = (8, 8, 16)  # steps per block of :func:`_power_method_exact`, the last repeated
_MARGIN = 1e-6  # relative distance to ``tol`` within which a stopping decision is redone exactly
_EPS_TERMS = 1e-8  # bound on the relative size of the eps terms for the fast path


class _Steps:
    """What :func:`_final_step` needs of the power method's steps, per split."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)


def _power_method(G, gamma, bounds, *, max_iter, tol):
    """``_get_first_singular_vectors_power_method`` of scikit-learn (mode A) for several splits.

    In one split, with the deflated kernel ``K_k = X_k X_k^T`` and targets ``Y_k = B W^T``
    (``W`` with orthonormal columns), every Y score is ``y = B gamma`` and every X weight
    ``w = X_k^T B alpha``; scikit-learn's step, written on ``gamma``, is::

        y^T y = gamma^T F gamma, ||X_k^T y||^2 = gamma^T G gamma
        alpha = gamma / (y^T y) / (sqrt(gamma^T G gamma) / (y^T y) + eps)    (w = X_k^T B alpha)
        t = X_k w = K_k B alpha, t^T t = alpha^T H alpha
        c = Y_k^T t / t^T t = W G alpha / t^T t                               (y weights: W c)
        gamma = c / (c^T c + eps)                                             (y = Y_k W c / ...)
        stop when ||w - w_old||^2 = (alpha - alpha_old)^T G (alpha - alpha_old) < tol

    with ``G = B^T K_k B``, ``F = B^T B`` and ``H = B^T K_k^2 B``. Every ``gamma`` is a multiple
    ``kappa_l x_l`` of the unit vector ``x_l`` along ``G^l gamma_0``, and ``kappa`` only enters
    through the two ``eps`` terms. So the steps run in blocks of products by G
    (all the splits still running at once), and the stopping rule is evaluated on each block
    with ``alpha_l = x_l / sqrt(x_l^T G x_l)``, the eps terms left out. With ``bounds`` =
    (``eps`` times bounds on ``x^T F x``, bounds on ``x^T H x``), the relative size of the eps
    terms is bounded at every step; where that bound is below :data:`_EPS_TERMS` and no
    ``||w - w_old||^2`` lies within a relative :data:`_MARGIN` of ``tol``, leaving them out
    cannot change where scikit-learn stops, and its last iterate follows from the last two
    steps (:func:`_final_step`); the other splits are marked ``unsure`` (to be redone with
    :func:`_power_method_exact`). ``gamma`` holds the starting Y columns (n_splits, r).
    Returns a :class:`_Steps`: the iteration counts, the unsure splits and the last steps.
    """
    n_splits, r = gamma.shape
    kappa = np.sqrt(_vecdot(gamma, gamma))
    scale = np.trace(G, axis1=1, axis2=2)  # >= the largest eigenvalue of G
    scale[~(scale > 0)] = 1.0
    G = G / scale[:, None, None]
    history = np.zeros((min(128, max_iter), 3, n_splits))  # nu_l, sqrt(x_l^T G x_l), ||dw||^2
    lengths = np.full(n_splits, max_iter)
    ends = np.empty((3, n_splits, r))  # the unit x_{l-1}, x_l, x_{l+1} at each split's last step
    ends_nu = np.empty((3, n_splits))  # nu_l, nu_{l-1}, sqrt(x_{l-1}^T G x_{l-1})
    running = np.arange(n_splits)  # the splits in the batch; the active ones still run
    active = np.ones(n_splits, dtype=bool)
    # the step before the block: x, nu, sqrt(x^T G x) (placeholders before the first step)
    x, x_before = gamma / kappa[:, None], np.zeros((n_splits, r))
    nu_before, root_before = np.ones(n_splits), np.ones(n_splits)
    done_steps, steps = 0, _FIRST_BLOCK
    while True:
        steps = min(steps, max_iter - done_steps)
        if done_steps + steps > len(history):
            history = _grow(history, done_steps + steps)
        # rows: x_{-1}, x_0 (unit), then G^l x_0 / scale^l, normalised below
        X, norms = np.empty((steps + 2,) + x.shape), np.empty((steps + 1, len(running)))
        X[0], X[1], norms[0] = x_before, x, 1.0
        for l in range(1, steps + 1):
            np.matmul(G, X[l, :, :, None], out=X[l + 1, :, :, None])
        np.sqrt(_vecdot(X[2:], X[2:]), out=norms[1:])
        X[2:] /= norms[1:, :, None]
        nu, root = np.empty((2, steps + 1, len(running)))  # with the step before in row 0
        nu[0], root[0] = nu_before, root_before
        np.divide(norms[1:], norms[:-1], out=nu[1:])
        nu[1:] *= scale
        np.sqrt(nu[1:] * _vecdot(X[1:-1], X[2:]), out=root[1:])
        # without the eps terms, alpha_l = x_l / root_l and G alpha_l = nu_l x_{l+1} / root_l, so
        # ||w_l - w_{l-1}||^2 = 2 - (nu_{l-1} + nu_l x_{l-1}^T x_{l+1}) / (root_{l-1} root_l)
        diff = 2.0 - (nu[:-1] + nu[1:] * _vecdot(X[:-2], X[2:])) / (root[:-1] * root[1:])
        history[done_steps:done_steps + steps, :, running] = np.stack([nu[1:], root[1:], diff], 1)
        done = ~(diff >= tol)  # NaN (a degenerate direction) stops too, and is redone exactly
        if done_steps == 0:
            done[0] = False  # scikit-learn compares the first X weights with 100
        if done_steps + steps == max_iter:
            done[-1] = True
        finished = np.any(done, axis=0) & active
        x, x_before, nu_before, root_before = X[-1], X[-2], nu[-1], root[-1]
        done_steps += steps
        if finished.any():
            at, which = np.argmax(done[:, finished], axis=0), np.flatnonzero(finished)
            out = running[finished]
            lengths[out] = done_steps - steps + at + 1
            ends[:, out] = X[at[None] + np.arange(3)[:, None], which]
            ends_nu[:, out] = nu[at + 1, which], nu[at, which], root[at, which]
            active &= ~finished
            if not active.any():
                break
            if 2 * active.sum() <= len(active):  # drop the finished splits from the batch
                running, G, scale = running[active], G[active], scale[active]
                diff = diff[:, active]
                x, x_before, nu_before, root_before = (x[active], x_before[active],
                                                       nu_before[active], root_before[active])
                active = active[active]
        steps = _next_block(diff[:, active], tol)
    nu, root, diff = history[:lengths.max()].transpose(1, 0, 2)
    # the relative size of the eps terms: eps kappa_l x_l^T F x_l / sqrt(x_l^T G x_l), with
    # kappa_l <= x_{l-1}^T H x_{l-1} / (nu_{l-1} sqrt(x_{l-1}^T G x_{l-1})) (kappa_0 given)
    eps_F, H = bounds
    with np.errstate(divide="ignore", invalid="ignore"):  # the steps past a split's end are 0
        eps_terms = eps_F / root
        eps_terms[0] *= kappa
        eps_terms[1:] *= H / (nu[:-1] * root[:-1])
        # the formula for ||w_l - w_{l-1}||^2 above is exact to a few eps times r
        margin = _MARGIN * tol + 8 * (r + 4) * _EPS
        unsure = ~(np.abs(diff - tol) > margin) | ~(eps_terms <= _EPS_TERMS)
    unsure[0] = ~(eps_terms[0] <= _EPS_TERMS)  # no stopping decision at the first step
    unsure = np.any(unsure & (np.arange(len(unsure))[:, None] < lengths), axis=0)
    return _Steps(lengths=lengths, unsure=unsure, kappa=kappa, first=lengths == 1,
                  x_previous=ends[0], x=ends[1], x_next=ends[2], nu=ends_nu[0],
                  nu_previous=ends_nu[1], root_previous=ends_nu[2])


def _final_step(st, kernels, steps, k):
    """scikit-learn's last iterate of :func:`_power_method`'s steps: returns a, t and c.

    At the last step ``x`` (``gamma = kappa x``, ``alpha = A x``, ``c = omega x_next``), with
    ``x^T F x = ||B x||^2`` and ``x^T H x = ||K_k B x||^2``. ``kappa`` is
    ``omega' / (omega'^2 ||x||^2 + eps)`` with ``omega'`` the previous step's ``omega``, that is
    ``nu' / (A' x'^T H x')`` with ``A' = 1 / (sqrt(x'^T G x') + eps kappa' x'^T F x')``.
    ``kappa`` only enters ``A`` through its eps term, of relative size ``delta``, so it is
    estimated: ``A'`` without its eps term (whose relative size :func:`_power_method` has
    bounded by :data:`_EPS_TERMS`) and ``x'^T H x'`` as ``x^T H x``, off by at most
    ``2 ||H|| ||x - x'|| / x^T H x`` (``||H|| <= trace(K_k) trace(F)``); where ``delta`` times
    that bound could exceed ``1e-17``, ``x'^T H x'`` is computed.
    """
    Bx = (st.B @ steps.x[:, :, None])[:, :, 0]
    t1 = _kernel_rows(st, kernels, Bx[:, None], k)[:, 0]  # K_k B x
    yy1, hh1 = _vecdot(Bx, Bx), _vecdot(t1, t1)
    gg = steps.nu * _vecdot(steps.x, steps.x_next)
    H_norm = np.abs(st.trace) * st.F_diag.sum(axis=1)
    step = steps.x - steps.x_previous
    hh_error = 2 * H_norm * np.sqrt(_vecdot(step, step))
    with np.errstate(divide="ignore", invalid="ignore"):
        omega = steps.nu_previous * steps.root_previous / hh1
        kappa = omega / (omega * omega * _vecdot(steps.x, steps.x) + _EPS)
        delta = _EPS * kappa * yy1 / np.sqrt(gg)
        exact = ~steps.first & ~(delta * hh_error / hh1 <= 1e-17)
    if exact.any():
        rows = np.flatnonzero(exact)
        Bx_previous = (st.B[rows] @ steps.x_previous[rows, :, None])[:, :, 0]
        t0 = _kernel_rows(st, kernels, Bx_previous[:, None], k, rows=rows)[:, 0]
        omega[rows] = steps.nu_previous[rows] * steps.root_previous[rows] / _vecdot(t0, t0)
        kappa[rows] = omega[rows] / (omega[rows] ** 2 * _vecdot(steps.x[rows], steps.x[rows])
                                     + _EPS)
    kappa = np.where(steps.first, steps.kappa, kappa)
    yy, gg = kappa * kappa * yy1, kappa * kappa * gg
    A = 1.0 / yy / (np.sqrt(np.maximum(gg, 0.0)) / yy + _EPS) * kappa
    omega = A * steps.nu / (A * A * hh1)
    return A[:, None] * Bx, A[:, None] * t1, omega[:, None] * steps.x_next


def _next_block(diff, tol):
    """Steps for the next block: when half the running splits should stop, at the rate at
    which their ``||w - w_old||^2`` fell over the last step (a geometric decay)."""
    if diff.shape[1] == 0 or len(diff) < 2:
        return _FIRST_BLOCK
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(diff[-2:])
        remaining = (np.log(tol) - logs[1]) / (logs[1] - logs[0])  # NaN or < 0: no decay
    remaining[~(remaining >= 0)] = _MAX_BLOCK
    remaining.sort()
    return int(min(max(remaining[len(remaining) // 2] + 1, _MIN_BLOCK), _MAX_BLOCK))


def _grow(array, size):
    """``array`` with its first axis grown to at least ``size`` and doubled (new rows zero)."""
    grown = np.zeros((max(2 * len(array), size),) + array.shape[1:])
    grown[:len(array)] = array
    return grown


def _krylov_block(G, x, scale, steps):
    """``x, G x, G^2 x, ...`` (``steps`` products, G already divided by ``scale``), normalised.

    Returns the unit vectors (steps + 1, n_splits, r) and ``nu`` (steps, n_splits) with
    ``scale * G x_l = nu_l x_{l+1}``. Without normalising each step (the norms do not grow, as
    ``scale`` bounds G's eigenvalues); when a norm leaves the floating-point range the block
    is redone normalising every step.
    """
    X = np.empty((steps + 1,) + x.shape)
    X[0] = x
    for l in range(steps):
        np.matmul(G, X[l, :, :, None], out=X[l + 1, :, :, None])
    norms = np.sqrt(_vecdot(X, X))
    if not (norms.min() > 0.0 and norms.max() < np.inf):  # pragma: no cover - degenerate spectra
        for l in range(steps):
            np.matmul(G, (X[l] / norms[l][:, None])[:, :, None], out=X[l + 1, :, :, None])
            norms[l + 1] = np.sqrt(_vecdot(X[l + 1], X[l + 1]))
        X /= norms[:, :, None]
        return X, scale * norms[1:]
    X /= norms[:, :, None]
    return X, scale * (norms[1:] / norms[:-1])


def _power_method_exact(M, gamma, *, one_target, max_iter, tol):
    """:func:`_power_method` with scikit-learn's ``eps`` terms evaluated at every step.

    For the splits that :func:`_power_method` leaves unsure, and for a single target. ``M``
    stacks ``G``, ``F = B^T B`` and ``H = B^T K_k^2 B`` (n_splits, 3, r, r). In blocks: the
    block's directions ``x_l`` with one product by G each (all splits at once), the quadratic
    forms in F and H of the whole block in one product, then the scalar recursion
    (:func:`_scalar_recursion`) and the stopping rule (with the difference of the X weights)
    for the whole block; each split stops at its own iteration. ``gamma`` holds the starting Y
    columns (n_splits, r). Returns ``alpha``, ``c`` (n_splits, r) and the iteration counts.
    """
    n_splits, r = gamma.shape
    alpha_out, c_out = np.empty((n_splits, r)), np.empty((n_splits, r))
    iterations = np.full(n_splits, max_iter)
    running = np.arange(n_splits)
    scale = np.trace(M[:, 0], axis1=1, axis2=2)  # >= the largest eigenvalue of G
    scale[~(scale > 0)] = 1.0
    G = M[:, 0] / scale[:, None, None]
    FH = M[:, 1:].reshape(n_splits, 2 * r, r)
    norm = np.sqrt(_vecdot(gamma, gamma))
    x, kappa = gamma / norm[:, None], norm  # gamma = kappa * x
    x_old, A_old, nu_old = np.zeros_like(x), np.zeros(n_splits), np.zeros(n_splits)
    done_steps, block = 0, 0
    while True:
        steps = 1 if one_target else min(_EXACT_BLOCKS[min(block, len(_EXACT_BLOCKS) - 1)],
                                         max_iter - done_steps)
        X, nu = _krylov_block(G, x, scale, steps)
        quad = _vecdot((X[:-1].transpose(1, 0, 2) @ FH.transpose(0, 2, 1)).reshape(
            len(running), steps, 2, r), X[:-1].transpose(1, 0, 2)[:, :, None, :])
        yy1, hh1 = quad[:, :, 0].T, quad[:, :, 1].T  # x^T F x, x^T H x: (steps, n_running)
        gg1 = nu * _vecdot(X[:-1], X[1:])  # x^T G x (G x_l = nu_l x_{l+1})
        A, omega, kappa_next = _scalar_recursion(kappa, gg1, yy1, hh1, nu, _vecdot(X[1:], X[1:]))
        # ||w - w_old||^2 with alpha_l = A_l x_l and G alpha_l = A_l nu_l x_{l+1}
        alphas = (np.concatenate([A_old[None], A])[:, :, None]
                  * np.concatenate([x_old[None], X[:-1]]))
        G_alphas = np.concatenate([(A_old * nu_old)[None], A * nu])[:, :, None] * X
        diff = _vecdot(np.diff(alphas, axis=0), np.diff(G_alphas, axis=0))
        if done_steps == 0:
            diff[0] = np.inf  # scikit-learn compares the first X weights with 100
        done = diff < tol
        if one_target or done_steps + steps == max_iter:
            done[-1] = True
        finished = np.any(done, axis=0)
        if finished.any():
            at = np.argmax(done, axis=0)[finished]
            rows = np.flatnonzero(finished)
            out = running[finished]
            alpha_out[out] = A[at, rows, None] * X[at, rows]
            c_out[out] = omega[at, rows, None] * X[at + 1, rows]
            iterations[out] = done_steps + at + 1
            if finished.all():
                return alpha_out, c_out, iterations
            keep = ~finished
            running, G, FH, scale = running[keep], G[keep], FH[keep], scale[keep]
            X, A, nu, kappa_next = X[:, keep], A[:, keep], nu[:, keep], kappa_next[:, keep]
        x, kappa = X[-1], kappa_next[-1]
        x_old, A_old, nu_old = X[-2], A[-1], nu[-1]
        done_steps += steps
        block += 1


def _scalar_recursion(kappa, gg1, yy1, hh1, nu, cc1):
    """scikit-learn's scalars along a block of directions ``x_l`` (unit vectors).

    ``gamma_l = kappa_l x_l`` with ``kappa_0`` given; ``gg1, yy1, hh1`` are ``x_l^T G x_l``,
    ``x_l^T F x_l``, ``x_l^T H x_l``, ``nu_l = ||G x_l||`` and ``cc1 = ||x_{l+1}||^2`` (shape
    (steps, n_splits)). Returns ``A`` with ``alpha_l = A_l x_l``, ``omega`` with
    ``c_l = omega_l x_{l+1}`` and ``kappa_{l+1}``. The recursion in ``kappa`` is sequential, but
    ``kappa`` only enters through the ``eps`` terms, so sweeps of the whole block from a rough
    start reach its exact sequential solution in a few passes (at most ``steps``; each pass
    fixes at least one more step).
    """
    kappas = np.empty_like(gg1)
    kappas[0] = kappa
    kappas[1:] = kappa
    for _ in range(len(gg1)):
        yy, gg = kappas * kappas * yy1, kappas * kappas * gg1
        s = 1.0 / yy / (np.sqrt(np.maximum(gg, 0.0)) / yy + _EPS)
        A = s * kappas
        omega = A * nu / (A * A * hh1)  # c = G alpha / t^T t
        kappa_next = omega / (omega * omega * cc1 + _EPS)
        if np.array_equal(kappa_next[:-1], kappas[1:], equal_nan=True):
            break
        kappas[1:] = kappa_next[:-1]
    return A, omega, kappa_next


def _deflate(st, kernels, t, k):
    """Deflate every split's state on its X score ``t``; returns ``q`` and ``t^T t``.

    ``q = B^T t / t^T t`` (the reduced y loadings). With ``P = I - t t^T / t^T t``:
    ``B <- P B = B - t q^T``, ``K_k <- P K_k P`` so ``G = B^T K_k B <- G - q v^T - v q^T +
    (t^T u) q q^T`` with ``u = K_k t`` and ``v = B^T u``; the diagonal of F and the trace of
    ``K_k`` likewise. One split at a time, so that its B is read from memory once.
    """
    tt = _vecdot(t, t)
    u = _kernel_rows(st, kernels, t[:, None], k)[:, 0]
    tu = _vecdot(t, u)
    q, v = np.empty(st.F_diag.shape), np.empty(st.F_diag.shape)
    for i in range(len(t)):  # B_i^T and G_i^T are Fortran-ordered: BLAS works on them in place
        B_i = st.B[i].T
        q[i] = _dgemv(1.0 / tt[i], B_i, t[i])
        v[i] = _dgemv(1.0, B_i, u[i])
        _dger(-1.0, q[i], t[i], a=B_i, overwrite_a=True)  # B -= t q^T
        _dger(-1.0, v[i] - tu[i] * q[i], q[i], a=st.G[i].T, overwrite_a=True)  # G -= q v^T ...
        _dger(-1.0, q[i], v[i], a=st.G[i].T, overwrite_a=True)  # ... + v q^T
    st.G_trace -= 2 * _vecdot(q, v) - tu * _vecdot(q, q)
    if st.W is not None:
        Wq = (st.W @ q[:, :, None])[:, :, 0]  # the y loadings of all the targets
        for Y_i, t_i, q_i in zip(st.Y_residual, t, Wq):
            _dger(-1.0, q_i, t_i, a=Y_i.T, overwrite_a=True)
        st.Y_squares -= tt[:, None] * Wq * Wq
    st.F_diag -= tt[:, None] * q * q
    st.trace = st.trace - tu / tt
    st.T[:, k] = t / np.sqrt(tt)[:, None]
    return q, tt


def _kernel_rows(st, kernels, X, n_scores, *, rows=None):
    """``K_k x = P K P x`` for the rows x of X (n_splits, c, n), every split with its kernel.

    ``P`` is the projection off the first ``n_scores`` (orthonormal) scores: in exact
    arithmetic ``P x = x`` for the vectors deflated here, and projecting removes round-off
    along the scores before the kernel amplifies it. ``rows`` selects the state's rows that X
    belongs to (default: all).
    """
    earlier = st.T[:, :n_scores] if rows is None else st.T[rows, :n_scores]  # (., n_scores, n)
    ids = st.ids if rows is None else st.ids[rows]
    n_splits, n_columns, n = X.shape
    if n_scores:
        X = X - (X @ earlier.transpose(0, 2, 1)) @ earlier
    KX = kernels.apply_vectors(X.reshape(-1, n), np.repeat(ids, n_columns)).reshape(X.shape)
    if n_scores:
        KX -= (KX @ earlier.transpose(0, 2, 1)) @ earlier
    return KX


def _kernel_columns(st, kernels, X, n_scores, *, rows):
    """``K_k x`` for the columns x of X (n_rows, n, c) of the splits in ``rows`` of the state."""
    earlier = st.T[rows, :n_scores].transpose(0, 2, 1)  # (n_rows, n, n_scores)
    X = X - earlier @ (earlier.transpose(0, 2, 1) @ X)
    KX = kernels.apply(X, st.ids[rows])
    return KX - earlier @ (earlier.transpose(0, 2, 1) @ KX)


def _refresh(st, kernels, rows, n_scores):
    """Recompute G and F's diagonal of the given rows of the state from B and the kernel.

    The rank-two updates of :func:`_deflate` leave errors of the order of ``eps`` times the
    size of G at its last recomputation; once the trace of G (or F) has fallen below a fraction
    :data:`_REFRESH` of its value then, it is recomputed, which bounds the relative error of G
    at about ``1e3 * n_components * eps``.
    """
    B = st.B[rows]
    st.G[rows] = B.transpose(0, 2, 1) @ _kernel_columns(st, kernels, B, n_scores, rows=rows)
    st.F_diag[rows] = np.einsum("snr,snr->sr", B, B)
    st.G_trace[rows] = np.trace(st.G[rows], axis1=1, axis2=2)
    st.refreshed[rows] = np.stack([st.G_trace[rows], st.F_diag[rows].sum(axis=1)], axis=1)


def _flip_signs(W, C, P, Q, *, n_fitted):
    """``_svd_flip_1d`` per component: the largest absolute X weight becomes positive.

    Negation is exact in floating point, so flipping afterwards equals flipping inside the loop.
    """
    fitted = slice(0, n_fitted)
    signs = np.sign(W[np.argmax(np.abs(W[:, fitted]), axis=0), np.arange(n_fitted)])
    for matrix in (W, C, P, Q):
        matrix[:, fitted] *= signs


def _centre_scale(X, Y, *, scale):
    """Centre (and, with ``scale``, standardise) X and Y in place, as scikit-learn does.

    Returns X, Y, their means and their scales (ones without ``scale``).
    """
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    X -= x_mean
    Y -= y_mean
    x_std, y_std = np.ones(X.shape[1]), np.ones(Y.shape[1])
    if scale:
        for data, std in ((X, x_std), (Y, y_std)):
            std[:] = data.std(axis=0, ddof=1)
            std[std == 0.0] = 1.0
            data /= std
    return X, Y, x_mean, y_mean, x_std, y_std


def _check_kernel_inputs(gram, Y):
    gram = np.asarray(gram, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1]:
        raise DataError(f"the kernel must be a square 2-D array, got shape {gram.shape}")
    if Y.ndim not in (2, 3) or Y.shape[-2] != gram.shape[0]:
        raise DataError(
            f"targets of shape {Y.shape} do not match a kernel over {gram.shape[0]} stimuli",
            hint="pass Y of shape (n_stimuli, n_targets) in the kernel's stimulus order",
        )
    return gram, Y


def _check_n_components(n_components, *, n_samples, n_features=None):
    """scikit-learn's bound ``n_components <= min(n_samples, n_features)`` (n_features if known)."""
    if not isinstance(n_components, Integral) or n_components < 1:
        raise InputError(f"n_components must be a positive integer, got {n_components!r}")
    sizes = {"samples": n_samples, "features": n_features}
    for name, size in sizes.items():
        if size is not None and n_components > size:
            raise InputError(f"n_components={n_components} exceeds the number of {name} ({size})",
                             hint="reduce n_components")
    return int(n_components)


def _check_iteration_options(max_iter, tol):
    if not isinstance(max_iter, Integral) or max_iter < 1:
        raise InputError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not isinstance(tol, Real) or tol < 0:
        raise InputError(f"tol must be a non-negative number, got {tol!r}")
