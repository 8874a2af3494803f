"""NL-SVD: shrink a layer of written slots to fewer real slots whose output matches on probes."""

from __future__ import annotations

import torch

from .config import Activation


def _pivoted_columns(H: torch.Tensor, r: int, tol: float = 1e-9) -> torch.Tensor:
    """Indices of up to r columns of H (P, n), picked as a column-pivoted QR would: each pick
    is the column least explained by those already picked. Computed as a pivoted Cholesky of
    the Gram matrix ``H^T H`` (same pivots, O(n r) work per pick instead of O(P n)); stops early
    when the remaining columns lie in the span of the picks (relative residual below ``tol``)."""
    n = H.shape[1]
    G = H.T @ H  # (n, n)
    residual = G.diagonal().clone()  # (n,) squared norm of each column's unexplained part
    floor = tol * float(residual.max()) if n else 0.0
    L = H.new_zeros(n, min(r, n))  # (n, r) Cholesky factor of the picked columns
    picked: list[int] = []
    for k in range(min(r, n)):
        j = int(torch.argmax(residual))
        if float(residual[j]) <= floor:
            break
        col = (G[:, j] - L[:, :k] @ L[j, :k]) / residual[j].sqrt()  # (n,)
        L[:, k] = col
        residual -= col * col
        residual[j] = float("-inf")  # never again
        picked.append(j)
    return torch.tensor(picked, dtype=torch.long)


@torch.no_grad()
def nlsvd_compress(K: torch.Tensor, b: torch.Tensor, V: torch.Tensor, probes: torch.Tensor,
                   keep: int, phi: Activation) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                        torch.Tensor]:
    """Non-linear SVD: replace n slots by r <= keep of them whose output matches on the probes.

    Shapes: K (n, d), b (n,), V (d, n), probes (P, d). The memory is ``y(a) = V h(a)`` with the
    slot code ``h(a) = phi(K a + b)``; on the probes ``Y = H V^T`` with ``H = h(probes)``
    (P, n), the non-linear counterpart of the matrix a truncated SVD factorizes. NL-SVD keeps
    the r slots S whose code columns span H best (column-pivoted QR, an interpolative
    decomposition: the kept units are real slots, so they stay mergeable FFN units) and refits
    their values by least squares, ``V_S^T = argmin ||H_S X - Y||``. Guarantee: when
    ``rank(H) <= keep`` the outputs are preserved exactly on every probe, and then on every
    input in the probe span, i.e. any ``a`` whose code ``h(a)`` is a combination ``H^T c`` of
    the probes' codes (its output is ``c^T H V^T = c^T H_S V_S^T``). Otherwise the error on
    the probes is the least-squares residual for the chosen slots.

    Returns (K_S, b_S, V_S, S) with S the kept indices into the n slots.
    """
    dev, dt = K.device, K.dtype
    Kd, bd, Vd, Pd = (t.detach().to("cpu", torch.float64) for t in (K, b, V, probes))
    H = phi(Pd @ Kd.T + bd)  # (P, n) slot codes on the probes
    Y = H @ Vd.T  # (P, d) the memory's outputs on the probes
    S = _pivoted_columns(H, keep)  # (r,)
    if S.numel() == 0:
        empty = K.new_zeros(0, K.shape[1])
        return empty, b.new_zeros(0), V.new_zeros(V.shape[0], 0), S
    X = torch.linalg.lstsq(H[:, S], Y, driver="gelsy").solution  # (r, d) refit values
    return Kd[S].to(dev, dt), bd[S].to(dev, dt), X.T.to(dev, dt), S

