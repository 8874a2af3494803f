"""One layer's Locas-MLP slots: keys, thresholds, values and the inputs they were written for."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import Activation


class MLPLayerMemory(nn.Module):
    """One layer's slots, allocated at capacity in fp32; slots ``used`` and beyond are zero
    (``act(0) = 0``, so an empty slot adds nothing and merges as a no-op unit)."""

    def __init__(self, hidden: int, capacity: int, device: torch.device) -> None:
        super().__init__()
        self.K = nn.Parameter(torch.zeros(capacity, hidden, device=device))  # (C, d) keys
        self.b = nn.Parameter(torch.zeros(capacity, device=device))  # (C,) thresholds
        self.V = nn.Parameter(torch.zeros(hidden, capacity, device=device))  # (d, C) values
        # The FFN input each slot was written for: NL-SVD's probe set.
        self.register_buffer("probes", torch.zeros(capacity, hidden, device=device))  # (C, d)
        self.register_buffer("used", torch.zeros((), dtype=torch.long, device=device))
        self.n_used = 0  # host-side mirror of ``used``: forward never syncs with the GPU

    @property
    def capacity(self) -> int:
        return self.K.shape[0]

    def sync_used(self) -> None:
        self.n_used = int(self.used)

    def hidden(self, a: torch.Tensor, phi: Activation) -> torch.Tensor:
        """Slot activations ``phi(K a + b)`` of the used slots; a: (..., d) -> (..., n)."""
        n, dt = self.n_used, a.dtype
        return phi(F.linear(a, self.K[:n].to(dt), self.b[:n].to(dt)))

    def forward(self, a: torch.Tensor, phi: Activation) -> torch.Tensor:
        """``V phi(K a + b)`` in the input's dtype; a: (..., d) -> (..., d)."""
        return F.linear(self.hidden(a, phi), self.V[:, : self.n_used].to(a.dtype))

    @torch.no_grad()
    def append_(self, K: torch.Tensor, b: torch.Tensor, V: torch.Tensor,
                probes: torch.Tensor) -> None:
        """Write n new slots after the used ones: K (n, d), b (n,), V (d, n), probes (n, d)."""
        n0, n = self.n_used, K.shape[0]
        assert n0 + n <= self.capacity, f"{n} slots do not fit ({n0}/{self.capacity} used)"
        self.K[n0 : n0 + n] = K
        self.b[n0 : n0 + n] = b
        self.V[:, n0 : n0 + n] = V
        self.probes[n0 : n0 + n] = probes
        self.used.fill_(n0 + n)
        self.n_used = n0 + n

    @torch.no_grad()
    def replace_(self, K: torch.Tensor, b: torch.Tensor, V: torch.Tensor,
                 probes: torch.Tensor) -> None:
        """Make these n slots the whole memory; the rest become empty (zero)."""
        for p in (self.K, self.b, self.V, self.probes):
            p.zero_()
        self.used.zero_()
        self.n_used = 0
        self.append_(K, b, V, probes)

