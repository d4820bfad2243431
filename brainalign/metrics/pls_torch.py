"""Kernel PLS on a torch device: the cross-validated predictions of :mod:`.pls`, batched over splits.

:func:`.pls.kernel_cv_pls_predict` with ``backend="torch"`` lands here. It runs scikit-learn's
PLS2 NIPALS (mode A, regression deflation) in dual form, as :mod:`.pls` does, but as the plain
algorithm, which maps onto a GPU: every split of a batch holds its centred train kernel
``K`` (n, n) and Y residual (n, n_targets); each power-method step is one batched product by
``K`` and two by the Y residual for all the splits at once, each split freezing at its own
iteration; each component deflates ``K <- P K P`` and ``Y <- P Y`` with ``P = I - t t^T / t^T t``.
The NumPy path instead works in the space of Y's columns with blocked steps and rank-two
updates, which is faster on a CPU but sequential in small pieces.

The rules are scikit-learn's (see :mod:`.pls`): columns of the Y residual below ``10 * eps``
zeroed, the power method started from the first remaining column, X weights normalised as
``w / (||w|| + eps)``, stop when ``||w - w_old||^2 < tol`` (after one step for one target), a
constant Y residual or a train kernel whose trace fell below ``n * eps`` of its start ending
the fit. In float64 the predictions equal the NumPy path's to round-off (tested to 1e-6 absolute
on the CPU; a stopping decision within round-off of ``tol`` may differ, which has not been seen
in the tests; measured 1e-12 and below). In float32 the predictions differ from float64's by at
most 2e-6 of the targets' largest absolute value on the tests' and the perf scripts' problems
(tested at 1e-5); a stopping decision can differ there, so treat float32 as approximate.
"""

from __future__ import annotations

import numpy as np

__all__ = ["torch_kernel_cv_pls_predict"]

_BATCH_BYTES = 2 ** 30  # device memory for the kernels and residuals of the splits fitted together
_CHECK_EVERY = 8  # power-method steps between checks whether every split has stopped


def torch_kernel_cv_pls_predict(gram, Y, splits, *, n_components, max_iter, tol, report, device=None,
                                dtype="float64"):
    """Held-out PLS predictions per split, computed with torch (inputs already checked).

    Parameters
    ----------
    gram : ndarray of shape (n_stimuli, n_stimuli)
        float64 linear kernel of the features.
    Y : ndarray of shape (n_stimuli, n_targets) or (n_splits, n_stimuli, n_targets)
    splits : list of (ndarray, ndarray)
        ``(train_idx, test_idx)`` pairs.
    n_components, max_iter, tol : as :func:`.pls.kernel_cv_pls_predict`.
    report : :class:`.pls._Report`, filled with what scikit-learn would have warned about.
    device : str, default=None
        torch device; None picks ``"cuda"`` when available, else ``"cpu"``.
    dtype : {"float64", "float32"}, default="float64"

    Returns
    -------
    predictions : list of ndarray of shape (n_test, n_targets)
        float64 NumPy arrays, one per split, in the order of ``test_idx``.
    """
    import torch

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = {"float64": torch.float64, "float32": torch.float32}[str(dtype).replace("torch.", "")]
    eps = float(torch.finfo(dtype).eps)
    means = gram.mean(axis=0)
    full = torch.as_tensor(gram - means - means[:, None] + means.mean(), dtype=dtype, device=device)
    Y_all = torch.as_tensor(Y, dtype=dtype, device=device)
    by_size: dict[int, list[int]] = {}
    for i, (train, _) in enumerate(splits):
        by_size.setdefault(len(train), []).append(i)
    predictions = [None] * len(splits)
    for n, members in by_size.items():
        per_split = (n * n + 3 * n * Y.shape[-1] + 4 * n_components * n) * (8 if dtype == torch.float64 else 4)
        size = max(1, _BATCH_BYTES // per_split)
        for batch in (members[i:i + size] for i in range(0, len(members), size)):
            trains = torch.as_tensor(np.stack([splits[i][0] for i in batch]), device=device)
            G = full[trains[:, :, None], trains[:, None, :]]
            column_means = G.mean(dim=1)  # (S, n); G[tr, tr] is symmetric
            total = column_means.mean(dim=1)
            K = G - column_means[:, :, None] - column_means[:, None, :] + total[:, None, None]
            del G
            targets = Y_all[trains] if Y.ndim == 2 else torch.take_along_dim(
                Y_all[torch.as_tensor(batch, device=device)], trains[:, :, None], dim=1)
            y_mean = targets.mean(dim=1)
            dual = _fit(K, targets - y_mean[:, None], n_components=n_components, max_iter=max_iter, tol=tol,
                        eps=eps, report=report)
            for j, i in enumerate(batch):
                test = torch.as_tensor(splits[i][1], device=device)
                rows = full[test[:, None], trains[j][None, :]]
                centred = rows - rows.mean(dim=1, keepdim=True) - column_means[j] + total[j]
                predictions[i] = (centred @ dual[j] + y_mean[j]).to(torch.float64).cpu().numpy()
    return predictions


def _fit(K, Y_residual, *, n_components, max_iter, tol, eps, report):
    """Dual regression coefficients (S, n, n_targets) of PLS fits on centred kernels and targets.

    ``K`` (S, n, n) and ``Y_residual`` (S, n, n_targets) are centred, and deflated in place. The
    prediction of a centred test kernel row ``k`` is ``k @ coefficients``. The power method runs
    in the space of Y's columns (:func:`_power_method`); with more targets than stimuli, in an
    orthonormal basis ``W`` of Y's row space (``Y = B W^T``), as :mod:`.pls` does.
    """
    import torch

    S, n, m = Y_residual.shape
    K0 = K.clone()
    zero_trace = K.diagonal(dim1=1, dim2=2).sum(dim=1) * n * eps
    W = None
    if m > n:
        W, R = torch.linalg.qr(Y_residual.transpose(1, 2))  # (S, m, n), (S, n, n)
        B = R.transpose(1, 2).contiguous()
    else:
        B = Y_residual
    A, P, T = (K.new_zeros(S, n, n_components) for _ in range(3))
    Q = K.new_zeros(S, m, n_components)
    fitting = torch.ones(S, dtype=torch.bool, device=K.device)
    rows = torch.arange(S, device=K.device)
    for k in range(n_components):
        rank_reached = fitting & (K.diagonal(dim1=1, dim2=2).sum(dim=1) <= zero_trace)
        small = (Y_residual.abs() < 10 * eps).all(dim=1)  # (S, m): scikit-learn zeroes these columns
        Y_residual.masked_fill_(small[:, None, :], 0.0)
        constant = fitting & ~rank_reached & small.all(dim=1)
        flags = torch.stack([rank_reached.any(), constant.any()]).tolist()
        if flags[0]:
            report.rank_fitted.append(k)
        if flags[1]:
            report.constant_at.append(k)
        fitting &= ~(rank_reached | constant)
        if not bool(fitting.any()):
            break
        start = torch.argmax((~small).to(torch.int8), dim=1)  # the first column with an entry above eps
        beta = torch.nn.functional.one_hot(start, m).to(K.dtype) if W is None else W[rows, start]
        M = K @ B
        G, F, H = B.transpose(1, 2) @ M, B.transpose(1, 2) @ B, M.transpose(1, 2) @ M
        alpha = _power_method(G, F, H, beta, fitting, one_target=m == 1, max_iter=max_iter, tol=tol, eps=eps,
                              report=report)
        alpha = torch.where(fitting[:, None], alpha, torch.zeros_like(alpha))
        a, t = (B @ alpha[:, :, None])[:, :, 0], (M @ alpha[:, :, None])[:, :, 0]
        tt = (t * t).sum(dim=1, keepdim=True)
        tt = torch.where(fitting[:, None], tt, torch.ones_like(tt))
        q = torch.einsum("snm,sn->sm", Y_residual, t) / tt  # y loadings
        earlier = T[:, :, :k]
        a = a - (earlier @ (earlier.transpose(1, 2) @ a[:, :, None]))[:, :, 0]  # w = X_k^T a in X's terms
        p = t / tt
        p = p - (earlier @ (earlier.transpose(1, 2) @ p[:, :, None]))[:, :, 0]
        A[:, :, k], P[:, :, k], Q[:, :, k] = a, p, q
        u = T[:, :, k] = t / tt.sqrt()
        Y_residual -= t[:, :, None] * q[:, None, :]
        if W is not None:
            B -= t[:, :, None] * (B.transpose(1, 2) @ t[:, :, None])[:, None, :, 0] / tt[:, :, None]
        Ku = (K @ u[:, :, None])[:, :, 0]
        uKu = (u * Ku).sum(dim=1)
        # P K P = K - u (K u)^T - (K u) u^T + (u^T K u) u u^T
        K -= u[:, :, None] * Ku[:, None, :] + Ku[:, :, None] * u[:, None, :] \
            - uKu[:, None, None] * u[:, :, None] * u[:, None, :]
    PtW = P.transpose(1, 2) @ K0 @ A  # P^T W in feature space, (S, c, c)
    return A @ torch.linalg.pinv(PtW, rtol=n_components * eps) @ Q.transpose(1, 2)


def _power_method(G, F, H, beta, fitting, *, one_target, max_iter, tol, eps, report):
    """scikit-learn's mode-A power method for every split, in the space of Y's columns.

    With ``B`` the split's (reduced) Y residual and ``K`` its deflated kernel: the Y score is
    ``B beta``, the dual X weights ``a = B alpha`` and the X score ``t = K B alpha``, so every
    quantity is a quadratic form in ``G = B^T K B``, ``F = B^T B`` or ``H = B^T K^2 B`` (S, r, r),
    and as ``alpha`` is a multiple of ``beta``, one batched product by ``[F; G; H]`` per step
    gives them all. A split stops at the first step where ``||w - w_old||^2 = (alpha -
    alpha_old)^T G (alpha - alpha_old) < tol`` (never at the first step, where scikit-learn
    compares with 100; always there for one target); its ``alpha`` is then frozen while the
    others go on. Returns alpha (S, r).
    """
    import torch

    S, r = beta.shape
    FGH = torch.cat([F, G, H], dim=1)  # (S, 3r, r)
    running = fitting.clone()
    alpha = alpha_old = G_alpha_old = torch.zeros_like(beta)
    for step in range(max_iter):
        products = (FGH @ beta[:, :, None]).view(S, 3, r)
        yy, bGb, bHb = (products * beta[:, None, :]).sum(dim=2).unbind(dim=1)  # beta^T {F, G, H} beta
        yy = yy[:, None]
        # alpha0 = beta / yy (X^T y / y^T y), then w normalised: alpha = alpha0 / (||w|| + eps)
        scale = 1.0 / ((bGb[:, None] / (yy * yy)).clamp_min(0.0).sqrt() + eps) / yy
        alpha_new, G_alpha = beta * scale, products[:, 1] * scale
        c = G_alpha / (bHb[:, None] * scale * scale)  # Y^T t / t^T t
        beta_new = c / ((c * c).sum(dim=1, keepdim=True) + eps)
        keep = running[:, None]
        alpha, beta = torch.where(keep, alpha_new, alpha), torch.where(keep, beta_new, beta)
        G_alpha = torch.where(keep, G_alpha, G_alpha_old)
        if one_target:
            break
        if step:
            running = running & ~(((alpha - alpha_old) * (G_alpha - G_alpha_old)).sum(dim=1) < tol)
        alpha_old, G_alpha_old = alpha, G_alpha
        if step % _CHECK_EVERY == _CHECK_EVERY - 1 and not bool(running.any()):
            break
    else:
        if bool(running.any()):
            report.max_iter_reached = True
    return alpha
