"""Locas-MLP: a memory of written slots beside every chosen layer's two-layer MLP FFN.

Per layer: ``Mem(a) = V relu(K a + b)`` with ``K: (C, d)``, ``b: (C,)``, ``V: (d, C)`` for a
capacity of C slots, added to the FFN's hidden output (docs/locas-method.md, "Locas-MLP";
docs/locas-mlp.md has the derivations). Unlike Locas-GLU nothing is trained to begin with:
every memorized token *writes* one slot per layer.

Writing a token t (a single forward and backward pass writes every token of a chunk):

* key: the FFN input ``a_t`` of that layer, centered by the window's mean ``mu`` and
  normalized, ``k = (a_t - mu) / ||a_t - mu||``. The slot's pre-activation is
  ``z(a) = (k . (a - mu) - gamma n) / ((1 - gamma) n)`` with ``n = ||a_t - mu||``: exactly 1 on
  its own token and <= 0 wherever the projection of ``a - mu`` on k is below ``gamma n``. That
  is the "locally supported" part: with ``support`` gamma = 0 it is the paper's plain
  ``relu(k . a)``, which fires on half the input space; gamma = 0.5 fires only near the token.
  Centering and the threshold are affine in ``a``, so they fold into ``K`` and ``b``.
* value: ``epsilon`` times the gradient of the log-likelihood with respect to that layer's FFN
  output at the token's position, normalized jointly across hidden size and layers (divided by
  its RMS over all L x d entries), so each token's write has the same size whatever the layer
  count and width. One backward pass of the chunk's log-likelihood gives every layer's and
  every position's gradient; no parameter is updated by a write. To first order the write
  changes the log-likelihood by ``epsilon * sum_l ||g_l||^2 / rms(g) > 0`` on its own token.

The ReLU is realized through the backbone's own activation as ``act(s x) / s`` (s =
``sharpness``): exactly ReLU for OPT's ReLU, within ``0.17 / s`` of it for GELU models. That
makes every slot an ordinary FFN unit (up row ``s k``, up bias ``s b``, down column ``v / s``),
so merging is lossless on every architecture.

Capacity: past C slots per layer, ``compress="backprop"`` (default; the paper finds it as good
and far cheaper) stops writing and trains the C slots by plain backprop, like Locas-GLU, while
``compress="nlsvd"`` shrinks the layer with :func:`nlsvd_compress` and keeps writing.

Attached with hooks on the two projections (OPT has no FFN module to hook), so detaching
restores the model exactly and the backbone's state_dict is never touched.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from .ffn_mlp import MLPFFN, WIDTH_CONFIG_KEYS, find_mlp_ffns, is_conv1d
from .memory import Switchable

if TYPE_CHECKING:
    from .backbone import Backbone

METHOD = "locas-mlp"
COMPRESSORS = ("backprop", "nlsvd")

Activation = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class MLPMemoryConfig:
    """What a Locas-MLP memory is and how it writes; defaults are reasoned, not tuned on a real
    MLP model (none could be had offline, see docs/benchmarks.md)."""

    capacity: int = 1024  # C, slots per layer (4 chunks of 256 tokens before it is full)
    layers: Sequence[int] | None = None  # decoder layers carrying memory; None = all
    epsilon: float = 0.05  # RMS of one token's write over all its layers' outputs
    support: float = 0.5  # gamma in [0, 1): a slot fires where proj > gamma * its own; 0 = paper
    sharpness: float = 32.0  # s: ReLU as act(s x) / s; a power of two keeps the scaling exact
    compress: str = "backprop"  # past capacity: "backprop" (train the slots) or "nlsvd"
    nlsvd_keep: float = 0.5  # fraction of slots NL-SVD keeps when a layer overflows
    seed: int = 0
    clip: bool = False  # read by the Memorizer; slot norms carry the write's scale: never clip
    init: str = "write"  # read by the Memorizer's checkpoints; slots are written, not cloned

    def __post_init__(self) -> None:
        assert self.capacity > 0, f"capacity must be positive, got {self.capacity}"
        assert self.epsilon > 0, f"epsilon must be positive, got {self.epsilon}"
        assert self.sharpness > 0, f"sharpness must be positive, got {self.sharpness}"
        if not 0.0 <= self.support < 1.0:
            raise ValueError(f"support must be in [0, 1), got {self.support}.")
        if not 0.0 <= self.nlsvd_keep < 1.0:
            raise ValueError(f"nlsvd_keep must be in [0, 1), got {self.nlsvd_keep}.")
        if self.compress not in COMPRESSORS:
            raise ValueError(
                f"Unknown compression '{self.compress}'; choose one of {', '.join(COMPRESSORS)}."
            )
        if self.clip:
            raise ValueError("Locas-MLP slots are never norm-clipped; leave clip=False.")
        if self.layers is not None:
            self.layers = sorted({int(i) for i in self.layers})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layers"] = list(self.layers) if self.layers is not None else None
        return d


def soft_relu(act: Activation, s: float) -> Activation:
    """``x -> act(s x) / s``: ReLU through the backbone's activation (exact for ReLU itself)."""
    return lambda x: act(x * s) / s


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


def _as_btd(t: torch.Tensor) -> torch.Tensor:
    """(B, T, d) view of an FFN input or output. OPT flattens (B, T) before its FFN, so a 2-D
    tensor is read as one sequence: capture is meant for one sequence at a time."""
    return t if t.dim() == 3 else t.reshape(1, -1, t.shape[-1])


@dataclass
class Capture:
    """FFN inputs and gradients of the log-likelihood's negative at the FFN outputs, per layer,
    recorded by :meth:`LocasMLPMemory.capturing` during one forward and its backward."""

    acts: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> (B, T, d)
    grads: dict[int, torch.Tensor] = field(default_factory=dict)  # layer -> (B, T, d)


class LocasMLPMemory(Switchable, nn.Module):
    """A named Locas-MLP memory over some layers of one backbone.

    Carries the same bookkeeping as :class:`locas_engine.memory.LocasMemory` (backbone name
    and fingerprint, sources, curve, training_info), so the Memorizer and store treat both.
    """

    method = METHOD

    def __init__(self, name: str, config: MLPMemoryConfig, ffns: Sequence[MLPFFN],
                 backbone_name: str = "", backbone_fingerprint: str = "") -> None:
        super().__init__()
        self.name = name
        self.config = config
        self.layers: list[int] = [f.index for f in ffns]
        self.hidden_size = ffns[0].hidden_size
        self.backbone_name = backbone_name
        self.backbone_fingerprint = backbone_fingerprint
        self.per_layer = nn.ModuleDict()
        self._phis: dict[int, Activation] = {}
        for f in ffns:
            self.per_layer[str(f.index)] = MLPLayerMemory(f.hidden_size, config.capacity, f.device)
            self._phis[f.index] = soft_relu(f.act, config.sharpness)
        self.enabled = True
        self.initialized = True  # nothing to initialize: slots are written from the first chunk
        self.sources: list[dict[str, Any]] = []
        self.curve: list[tuple[int, float]] = []
        self.training_info: dict[str, Any] = {}
        self.last_write_compressed = False  # the Memorizer resets its optimizer state on it
        self._handles: list[Any] = []
        self._inputs: dict[int, torch.Tensor] = {}  # FFN input between the two projections
        self._capture: Capture | None = None

    # --- structure -----------------------------------------------------------------------
    def layer(self, index: int) -> MLPLayerMemory:
        return self.per_layer[str(index)]

    @property
    def capacity(self) -> int:
        return self.config.capacity

    @property
    def rank(self) -> int:
        """Width in slots per layer (the capacity), the GLU memory's ``rank`` counterpart."""
        return self.config.capacity

    def used(self) -> dict[int, int]:
        """Slots written so far, per layer."""
        return {i: self.layer(i).n_used for i in self.layers}

    @property
    def accepts_writes(self) -> bool:
        """Whether the next chunk is written (True) or trained by backprop (False)."""
        return self.config.compress == "nlsvd" or max(self.used().values()) < self.capacity

    def num_parameters(self) -> int:
        """Allocated parameters: L * (2 d + 1) * C."""
        return sum(p.numel() for p in self.parameters())

    def phi(self, index: int) -> Activation:
        return self._phis[index]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        for m in self.per_layer.values():
            m.sync_used()
        return result

    @contextlib.contextmanager
    def capturing(self) -> Iterator[Capture]:
        """Record FFN inputs during the forward passes run inside, and (through tensor hooks)
        the gradients at the FFN outputs during a later backward of their loss."""
        cap = Capture()
        self._capture = cap
        try:
            yield cap
        finally:
            self._capture = None

    def _hooks(self, index: int) -> tuple[Callable, Callable]:
        mem, phi = self.layer(index), self._phis[index]

        def before_up(module: nn.Module, args: tuple) -> None:
            if self.enabled or self._capture is not None:
                self._inputs[index] = args[0]  # (B, T, d) FFN input
            return None

        def after_down(module: nn.Module, args: tuple, output: torch.Tensor):
            a = self._inputs.pop(index, None)
            if a is None:
                return None  # None keeps the FFN's own output untouched
            out = output + mem(a, phi) if self.enabled else output  # (B, T, d)
            cap = self._capture
            if cap is None:
                return out
            if not out.requires_grad:  # frozen backbone, nothing upstream: start a graph here
                out = out.detach().requires_grad_(True)
            cap.acts[index] = _as_btd(a.detach())
            out.register_hook(lambda g: cap.grads.__setitem__(index, _as_btd(g.detach())))
            return out

        before_up._locas_hook = True  # lets merge strip these hooks from a copied model
        after_down._locas_hook = True
        return before_up, after_down

    def _attach_hooks(self, ffns: Sequence[MLPFFN]) -> None:
        assert not self._handles, f"memory '{self.name}' is already attached"
        by_index = {f.index: f for f in ffns}
        for i in self.layers:
            before_up, after_down = self._hooks(i)
            self._handles.append(by_index[i].up.register_forward_pre_hook(before_up))
            self._handles.append(by_index[i].down.register_forward_hook(after_down))

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._inputs.clear()

    # --- writing -------------------------------------------------------------------------
    @torch.no_grad()
    def write(self, capture: Capture, positions: Sequence[int] | torch.Tensor,
              batch_index: int = 0) -> int:
        """Write one slot per layer for each of ``positions`` of a captured window.

        ``positions`` index the window's sequence axis: the positions whose next token's
        log-likelihood the write raises. Returns how many tokens were written; with
        ``compress="backprop"`` a full memory writes only the largest-gradient tokens that still
        fit, with ``"nlsvd"`` an overflowing layer is first compressed to ``nlsvd_keep * C``.
        """
        missing = [i for i in self.layers if i not in capture.grads or i not in capture.acts]
        if missing:
            raise RuntimeError(
                f"No gradient was captured for layers {missing}; run the forward inside "
                "memory.capturing() and call backward on its loss before writing."
            )
        pos = torch.as_tensor(positions, dtype=torch.long).reshape(-1)  # (n,)
        g = torch.stack([capture.grads[i][batch_index, pos.to(capture.grads[i].device)]
                         .float().to(self.layer(i).K.device) for i in self.layers])  # (L, n, d)
        rms = g.pow(2).mean(dim=(0, 2)).sqrt()  # (n,) joint over layers and hidden size
        ok = torch.isfinite(rms) & (rms > 0)
        order = torch.argsort(torch.where(ok, rms, -1.0), descending=True)[: int(ok.sum())]
        self.last_write_compressed = False
        room = self.capacity - max(self.used().values())
        if room < order.numel() and self.config.compress == "nlsvd":
            keep = int(self.capacity * self.config.nlsvd_keep)
            for i in self.layers:
                if self.layer(i).n_used > keep:
                    self.compress_layer(i, keep)
            self.last_write_compressed = True
            room = self.capacity - max(self.used().values())
        order = order[:room]  # (n',) most informative tokens first
        if order.numel() == 0:
            return 0
        values = -self.config.epsilon * g[:, order] / rms[order][None, :, None]  # (L, n', d)
        gamma = self.config.support
        for li, i in enumerate(self.layers):
            mem = self.layer(i)
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

    @torch.no_grad()
    def compress_layer(self, index: int, keep: int, probes: torch.Tensor | None = None) -> None:
        """Shrink layer ``index`` to at most ``keep`` slots with :func:`nlsvd_compress`, probing
        with ``probes`` (P, d) or, by default, the inputs the slots were written for."""
        mem = self.layer(index)
        n = mem.n_used
        probes = mem.probes[:n] if probes is None else probes
        K, b, V, kept = nlsvd_compress(mem.K[:n], mem.b[:n], mem.V[:, :n], probes, keep,
                                       self._phis[index])
        mem.replace_(K, b, V, mem.probes[:n][kept])


# --- NL-SVD -----------------------------------------------------------------------------------
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


# --- attach / detach ----------------------------------------------------------------------------
def _choose_layers(backbone: Backbone, layers: Sequence[int] | None) -> list[MLPFFN]:
    ffns = backbone.mlp_ffns  # UnsupportedModelError with a sentence for a GLU model
    if layers is None:
        return list(ffns)
    bad = [i for i in layers if not 0 <= i < len(ffns)]
    if bad:
        raise ValueError(f"Layers {bad} do not exist: this model has layers 0 to {len(ffns) - 1}.")
    return [ffns[i] for i in layers]


def attach_mlp_memory(backbone: Backbone, config: MLPMemoryConfig | None = None,
                      name: str = "memory") -> LocasMLPMemory:
    """Create an empty Locas-MLP memory (no slots, so no logit changes) and attach it."""
    config = config or MLPMemoryConfig()
    if name in backbone.memories:
        raise ValueError(f"A memory named '{name}' is already attached; pick another name.")
    ffns = _choose_layers(backbone, config.layers)  # checks everything before changing anything
    memory = LocasMLPMemory(name, config, ffns, backbone.name, backbone.fingerprint)
    attach_mlp(backbone, memory)
    return memory


def attach_mlp(backbone: Backbone, memory: LocasMLPMemory) -> None:
    """Hook an existing (loaded or detached) Locas-MLP memory onto ``backbone``."""
    if memory.name in backbone.memories:
        raise ValueError(f"A memory named '{memory.name}' is already attached; pick another name.")
    ffns = backbone.mlp_ffns
    if memory.hidden_size != ffns[0].hidden_size or max(memory.layers) >= len(ffns):
        raise ValueError(
            f"Memory '{memory.name}' does not fit this model (hidden size {memory.hidden_size}, "
            f"layers up to {max(memory.layers)})."
        )
    memory._attach_hooks(ffns)
    backbone.memories[memory.name] = memory


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


# --- merge --------------------------------------------------------------------------------------
def _widen(proj: nn.Module, rows: torch.Tensor, bias: torch.Tensor | None) -> None:
    """Append output units to a Linear / Conv1D in place: rows (w, in), bias (w,) or None."""
    conv = is_conv1d(proj)
    weight = torch.cat([proj.weight, rows.T], dim=1) if conv else torch.cat([proj.weight, rows])
    proj.weight = nn.Parameter(weight, requires_grad=False)
    if proj.bias is not None:
        extra = bias if bias is not None else rows.new_zeros(rows.shape[0])
        proj.bias = nn.Parameter(torch.cat([proj.bias, extra]), requires_grad=False)
    elif bias is not None and bool(bias.ne(0).any()):
        raise ValueError(
            "This model's up projections have no bias, which the memory's slot thresholds "
            "need; merge a memory made with support=0, or keep this one attached."
        )
    if conv:
        proj.nf = weight.shape[1]
    else:
        proj.out_features = weight.shape[0]


def _lengthen(proj: nn.Module, cols: torch.Tensor) -> None:
    """Append input units to a Linear / Conv1D in place: cols (out, w); the bias is unchanged."""
    conv = is_conv1d(proj)
    weight = torch.cat([proj.weight, cols.T]) if conv else torch.cat([proj.weight, cols], dim=1)
    proj.weight = nn.Parameter(weight, requires_grad=False)
    if not conv:
        proj.in_features = weight.shape[1]


@torch.no_grad()
def merge_mlp_memory(backbone: Backbone, memory: LocasMLPMemory) -> nn.Module:
    """A new model (the backbone is left as it is) with ``memory``'s written slots appended to
    every FFN as ordinary units: up rows ``s K``, up bias ``s b``, down columns ``V / s``.

    Every layer grows by the same width w (the most slots any layer holds; the others get zero
    units, which add ``act(0) = 0``) because these architectures have one FFN width.
    """
    from .merge import _strip_locas_hooks  # merge dispatches here: import at call time

    model_type = getattr(backbone.model.config, "model_type", "")
    key = WIDTH_CONFIG_KEYS.get(model_type)
    if key is None:
        raise ValueError(
            f"A {model_type or 'model of this kind'} cannot be saved with a wider FFN (its "
            "width is fixed in code, not in its config); keep the memory attached instead."
        )
    sizes = {f.intermediate_size for f in backbone.mlp_ffns}
    if len(sizes) != 1:
        raise ValueError("This model's layers have different FFN widths; merging needs one width.")
    w = max(memory.used().values())
    s = memory.config.sharpness
    model = copy.deepcopy(backbone.model)
    _strip_locas_hooks(model)
    for ffn in find_mlp_ffns(model):
        dt, dev, d = ffn.down.weight.dtype, ffn.device, ffn.hidden_size
        if ffn.index in memory.layers:
            m = memory.layer(ffn.index)
            K, b, V = m.K[:w] * s, m.b[:w] * s, m.V[:, :w] / s  # (w, d), (w,), (d, w)
        else:
            K, b, V = torch.zeros(w, d), torch.zeros(w), torch.zeros(d, w)
        K, b, V = (t.detach().to(dev, dt) for t in (K, b, V))
        if not all(bool(torch.isfinite(t).all()) for t in (K, b, V)):
            raise ValueError(f"Memory '{memory.name}' holds non-finite values; it cannot be merged.")
        _widen(ffn.up, K, b)
        _lengthen(ffn.down, V)
    setattr(model.config, key, sizes.pop() + w)
    model.eval()
    return model
