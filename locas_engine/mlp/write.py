"""The Locas-MLP write rule: one forward and one backward pass write a slot per token and layer.

Writing a token t: the key is the FFN input ``a_t`` centered by the window's mean and normalized
(with the ``support`` threshold folded into the bias), the value ``epsilon`` times the gradient of
the log-likelihood at that layer's FFN output, normalized by its RMS over all layers (see the
package docstring and docs/locas-mlp.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from ..backbone import Backbone
    from .memory import LocasMLPMemory


def as_btd(t: torch.Tensor) -> torch.Tensor:
    """(B, T, d) view of an FFN input or output. OPT flattens (B, T) before its FFN, so a 2-D
    tensor is read as one sequence: capture is meant for one sequence at a time."""
    return t if t.dim() == 3 else t.reshape(1, -1, t.shape[-1])


@dataclass
class Capture:
    """FFN inputs and gradients of the log-likelihood's negative at the FFN outputs, per layer,
    recorded by :meth:`LocasMLPMemory.capturing` during one forward and its backward."""

    acts: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> (B, T, d)
    grads: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> (B, T, d)


@torch.no_grad()
def write_slots(memory: LocasMLPMemory, capture: Capture, positions: Sequence[int] | torch.Tensor,
                batch_index: int = 0) -> int:
    """Write one slot per layer for each of ``positions`` of a captured window.

    ``positions`` index the window's sequence axis: the positions whose next token's
    log-likelihood the write raises. Returns how many tokens were written; with
    ``compress="backprop"`` a full memory writes only the largest-gradient tokens that still
    fit, with ``"nlsvd"`` an overflowing layer is first compressed to ``nlsvd_keep * C``.
    """
    missing = [i for i in memory.layers if i not in capture.grads or i not in capture.acts]
    if missing:
        raise RuntimeError(
            f"No gradient was captured for layers {missing}; run the forward inside "
            "memory.capturing() and call backward on its loss before writing."
        )
    pos = torch.as_tensor(positions, dtype=torch.long).reshape(-1)  # (n,)
    g = torch.stack([capture.grads[i][batch_index, pos.to(capture.grads[i].device)]
                     .float().to(memory.layer(i).K.device) for i in memory.layers])  # (L, n, d)
    rms = g.pow(2).mean(dim=(0, 2)).sqrt()  # (n,) joint over layers and hidden size
    ok = torch.isfinite(rms) & (rms > 0)
    order = torch.argsort(torch.where(ok, rms, -1.0), descending=True)[: int(ok.sum())]
    memory.last_write_compressed = False
    room = memory.capacity - max(memory.used().values())
    if room < order.numel() and memory.config.compress == "nlsvd":
        keep = int(memory.capacity * memory.config.nlsvd_keep)
        for i in memory.layers:
            if memory.layer(i).n_used > keep:
                memory.compress_layer(i, keep)
        memory.last_write_compressed = True
        room = memory.capacity - max(memory.used().values())
    order = order[:room]  # (n',) most informative tokens first
    if order.numel() == 0:
        return 0
    values = -memory.config.epsilon * g[:, order] / rms[order][None, :, None]  # (L, n', d)
    gamma = memory.config.support
    for li, i in enumerate(memory.layers):
        mem = memory.layer(i)
        window = capture.acts[i][batch_index].float().to(mem.K.device)  # (T, d)
        mu = window.mean(dim=0)  # (d,) centering: keys ignore what every token shares
        a = window[pos.to(mem.K.device)[order.to(mem.K.device)]]  # (n', d)
        centered = a - mu  # (n', d)
        norm = centered.norm(dim=1).clamp_min(1e-6)  # (n',)
        k = centered / norm[:, None]  # (n', d) unit keys
        scale = (1.0 - gamma) * norm  # (n',) so that z(a_t) = 1
        K = k / scale[:, None]  # (n', d)
        b = -(k @ mu + gamma * norm) / scale  # (n',)
        mem.append_(K, b, values[li].T.to(mem.V.device), a)
    return int(order.numel())


def write_tokens(backbone: Backbone, memory: LocasMLPMemory, input_ids: torch.Tensor,
                 targets: Sequence[int] | None = None) -> int:
    """Write slots that raise the log-likelihood of tokens ``input_ids[t]`` for t in
    ``targets`` (default: every token after the first), from one forward and one backward
    pass over ``input_ids`` (T,). Returns how many tokens were written.

    The gradient is that of the targets' summed log-likelihood, so with a single target the
    value is exactly the gradient of that token's own log-likelihood.
    """
    ids = input_ids.reshape(-1).to(backbone.device)  # (T,)
    T = ids.numel()
    tgt = torch.arange(1, T) if targets is None else torch.as_tensor(list(targets))  # (n,)
    if tgt.numel() == 0 or int(tgt.min()) < 1 or int(tgt.max()) >= T:
        raise ValueError(f"Targets must be positions 1 to {T - 1} of the {T} tokens.")
    with memory.capturing() as cap, torch.enable_grad():
        logits = backbone.model(input_ids=ids[None], use_cache=False).logits[0]  # (T, vocab)
        pred = (tgt - 1).to(logits.device)  # (n,) positions that predict the targets
        nll = F.cross_entropy(logits[pred].float(), ids[tgt.to(ids.device)].to(logits.device),
                              reduction="sum")
        nll.backward()
    memory.zero_grad(set_to_none=True)  # the write is not a parameter update
    return memory.write(cap, tgt - 1)
