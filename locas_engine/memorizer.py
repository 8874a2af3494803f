"""Memorize a token stream into a Locas memory: score each chunk, then train on it.

The stream is cut into chunks of ``chunk`` tokens; each chunk is conditioned on up to
``context`` preceding tokens, which the loss ignores. Per chunk the memory takes ``steps``
AdamW steps on the chunk's next-token loss, and is clipped after each. The forward pass of the
chunk's first step, made before any update on that chunk, is also its online score (the
"surprise"), so scoring costs no extra pass. Logits are computed for the chunk's positions only
(``logits_to_keep``): the context costs no lm_head.

``chunk_spans`` and ``chunk_loss`` are shared with the benchmark, so every method there follows
exactly the same protocol.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .adapter import only_enabled
from .backbone import Backbone
from .checkpoint import load_checkpoint, save_checkpoint
from .protocol import Memory
from .rate import TokenRate
from .spec import TrainingSpec

CHECKPOINT_FORMAT = 1


@dataclass
class Progress:
    """Reported once per finished chunk."""

    tokens_done: int
    tokens_total: int
    chunk_index: int
    chunks_total: int
    loss: float  # the chunk's score (mean NLL before training on it)
    ppl: float  # running online perplexity over all chunks scored so far
    tokens_per_s: float  # tokens trained in this run per second (see rate.TokenRate)
    eta_s: float  # seconds left for this stream at that rate
    tokens_saved: int = 0  # tokens the last checkpoint holds: where a resume would start


@dataclass
class MemorizeResult:
    completed: bool  # False when should_stop ended the run early
    tokens_done: int
    ppl: float  # online perplexity over the scored tokens
    curve: list[tuple[int, float]] = field(default_factory=list)  # (tokens_done, running ppl)
    tokens_total: int = 0
    seconds: float = 0.0
    tokens_saved: int = 0  # tokens the checkpoint holds (all of them once completed)


# --- the protocol, shared with the benchmark ----------------------------------------------
def chunk_spans(n_tokens: int, chunk: int, context: int) -> list[tuple[int, int, int]]:
    """(context_start, start, end) for every chunk of a stream of ``n_tokens``."""
    assert chunk > 0 and context >= 0, f"bad chunking chunk={chunk} context={context}"
    spans = []
    for start in range(0, n_tokens, chunk):
        end = min(start + chunk, n_tokens)
        c0 = max(0, start - context)
        if end - max(start, c0 + 1) <= 0:
            continue  # a lone token without context has nothing to predict it
        spans.append((c0, start, end))
    return spans


def chunk_loss(model: nn.Module, ids: torch.Tensor, span: tuple[int, int, int]) -> tuple[torch.Tensor, int]:
    """Mean next-token NLL of the chunk's tokens given the context; logits only for the chunk.

    ``ids``: the whole stream, 1-D on the model's device. Returns (loss, tokens scored).
    """
    c0, start, end = span
    first = max(start, c0 + 1)  # first target: a token with at least one token before it
    n = end - first
    x = ids[c0:end].unsqueeze(0)  # (1, T)
    out = model(input_ids=x, use_cache=False, logits_to_keep=n + 1)
    logits = out.logits[0, :-1]  # (n, vocab): positions first-1 .. end-2
    targets = ids[first:end].to(logits.device)  # (n,); differs only under a device map
    return F.cross_entropy(logits.float(), targets), n


def _predicting_positions(span: tuple[int, int, int]) -> range:
    """Positions, within the window ``ids[c0:end]`` that ``chunk_loss`` runs, whose next token
    is scored: the ones Locas-MLP writes slots for."""
    c0, start, end = span
    first = max(start, c0 + 1)
    return range(first - 1 - c0, end - 1 - c0)


def autocast_context(device: torch.device, enabled: bool | None):
    """bf16 autocast on CUDA (the method's mixed precision); nothing elsewhere by default."""
    use = device.type == "cuda" if enabled is None else enabled
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def as_token_tensor(tokens: str | Iterable[int] | torch.Tensor, tokenizer=None) -> torch.Tensor:
    """A 1-D CPU long tensor from ids, a tensor, or text (tokenized without special tokens)."""
    if isinstance(tokens, str):
        assert tokenizer is not None, "text needs a tokenizer"
        tokens = tokenizer(tokens, add_special_tokens=False)["input_ids"]
    if isinstance(tokens, torch.Tensor):
        return tokens.detach().reshape(-1).to("cpu", torch.long)
    return torch.tensor(list(tokens), dtype=torch.long)


def stream_signature(token_ids: Sequence[int] | torch.Tensor) -> str:
    """The identity of a token stream (sha256 of its int64 ids): a checkpoint records it, and
    resumes only the stream it was made on. The app keeps the same value in its library row."""
    return hashlib.sha256(as_token_tensor(token_ids).numpy().tobytes()).hexdigest()


def fused_adamw(params: Sequence[torch.Tensor]) -> dict:
    """AdamW's fused kernel (one launch for all tensors) where torch has it for these
    parameters' device, else its multi-tensor path: the memory is ~100 small tensors, and the
    per-tensor loop costs a kernel launch (a host round trip on a GPU) for each."""
    kinds = {p.device.type for p in params}
    if kinds and kinds <= {"cpu", "cuda"} and all(p.dtype == torch.float32 for p in params):
        return {"fused": True}
    return {"foreach": True}


# --- the memorizer ---------------------------------------------------------------------------
@contextlib.contextmanager
def frozen_backbone(model: nn.Module) -> Iterator[None]:
    """Switch off gradients of the backbone's own weights for a while, and back on afterwards."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in trainable:
            p.requires_grad_(True)


class Memorizer:
    """Trains one attached memory on a token stream (one stream per ``run``)."""

    def __init__(self, backbone: Backbone, memory: Memory,
                 settings: TrainingSpec | None = None) -> None:
        assert memory.name in backbone.memories, f"memory '{memory.name}' is not attached"
        self.backbone = backbone
        self.memory = memory
        self.settings = settings or TrainingSpec()
        # What ``auto`` precision is resolved from (TrainingSpec.precision_on), once: the device
        # type and whether the model's weights are held in bf16.
        self._precision_facts = (backbone.device.type, backbone.dtype == torch.bfloat16)
        self._bf16 = self.settings.precision_on(*self._precision_facts) == "bf16"

    def _recorded(self) -> dict:
        """The settings as the memory and its checkpoint record them, precision resolved."""
        return self.settings.recorded(*self._precision_facts)

    def _optimizer(self) -> torch.optim.Optimizer:
        s = self.settings
        params = list(self.memory.parameters())
        return torch.optim.AdamW(params, lr=s.lr, betas=s.betas, weight_decay=s.weight_decay,
                                 **fused_adamw(params))

    def run(
        self,
        token_ids: str | Sequence[int] | torch.Tensor,
        progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        between_chunks: Callable[[], None] | None = None,
        checkpoint_path: str | os.PathLike | None = None,
        resume: bool = True,
        source: str | None = None,
        rate: TokenRate | None = None,
    ) -> MemorizeResult:
        """Memorize ``token_ids`` (ids, a 1-D tensor, or text to tokenize).

        ``should_stop`` is checked before every optimizer step; a stop before a chunk's first
        step leaves the memory exactly at a chunk boundary (and checkpoints it), a stop between
        a chunk's steps leaves that chunk partly trained and uncounted. ``between_chunks`` runs
        between two chunks (pause, serve questions). With ``checkpoint_path``, state is saved
        atomically every ``checkpoint_every`` chunks, and ``resume`` continues from it.
        ``rate`` measures tokens/s and the ETA; pass one to measure over several streams.
        """
        s, mem, bb = self.settings, self.memory, self.backbone
        ids = as_token_tensor(token_ids, bb.tokenizer)  # (N,) on CPU
        spans = chunk_spans(ids.numel(), s.chunk, s.context)
        signature = stream_signature(ids)
        opt = self._optimizer()
        next_chunk, nll_sum, n_scored, curve = 0, 0.0, 0, []
        ckpt = Path(checkpoint_path) if checkpoint_path else None
        if ckpt is not None and resume and ckpt.is_file():
            next_chunk, nll_sum, n_scored, curve = self._restore(ckpt, opt, signature)
        saved = spans[next_chunk - 1][2] if next_chunk else 0
        rate = rate or TokenRate()
        rate.new_stream()
        ids_dev = ids.to(bb.device)  # (N,)
        base_tokens = sum(int(src.get("tokens", 0)) for src in mem.sources)

        def state_for(position: int) -> dict:
            return self._checkpoint_state(opt, signature, position, nll_sum, n_scored, curve)

        t0, completed = time.perf_counter(), True
        # The backbone never trains (and backward stops early); only this memory is on while it
        # learns: one trained beside another switched-on memory would be fitted to that memory's
        # output, and be wrong used alone later.
        with frozen_backbone(bb.model), only_enabled({**bb.memories, mem.name: mem}, [mem.name]):
            for ci in range(next_chunk, len(spans)):
                span = spans[ci]
                if not mem.initialized:
                    mem.initialize(bb, ids[span[1]:span[2]])
                rate.begin()
                score, n = self._train_chunk(opt, ids_dev, span, should_stop)
                if score is None:  # stopped
                    completed = False
                    if n == 0 and ckpt is not None:  # clean chunk boundary: save it
                        save_checkpoint(state_for(ci), ckpt)
                        saved = spans[ci - 1][2] if ci else 0
                    break
                nll_sum += score * n
                n_scored += n
                ppl = math.exp(nll_sum / n_scored)
                curve.append((base_tokens + span[2], ppl))
                if ckpt is not None and ((ci + 1) % s.checkpoint_every == 0 or ci + 1 == len(spans)):
                    save_checkpoint(state_for(ci + 1), ckpt)
                    saved = span[2]
                rate.add(span[2] - span[1])  # after the checkpoint: saving is part of the speed
                if progress is not None:
                    progress(Progress(
                        tokens_done=span[2], tokens_total=ids.numel(), chunk_index=ci,
                        chunks_total=len(spans), loss=score, ppl=ppl,
                        tokens_per_s=rate.tokens_per_s or 0.0,
                        eta_s=rate.eta_s(ids.numel() - span[2]) or 0.0, tokens_saved=saved,
                    ))
                if between_chunks is not None and ci + 1 < len(spans):
                    between_chunks()
                    rate.waited()
        done = spans[len(curve) - 1][2] if curve else 0
        if completed:
            done = ids.numel()
            mem.sources.append({"name": source or "text", "tokens": int(ids.numel())})
            mem.curve.extend(curve)
            mem.training_info = self._recorded()
        return MemorizeResult(
            completed=completed, tokens_done=done,
            ppl=math.exp(nll_sum / n_scored) if n_scored else float("nan"),
            curve=list(curve), tokens_total=int(ids.numel()),
            seconds=time.perf_counter() - t0, tokens_saved=int(ids.numel()) if completed else saved,
        )

    def _train_chunk(self, opt: torch.optim.Optimizer, ids: torch.Tensor,
                     span: tuple[int, int, int],
                     should_stop: Callable[[], bool] | None) -> tuple[float | None, int]:
        """``steps`` optimizer steps on one chunk. Returns (score, n) where score is the mean NLL
        of the first step's forward over n tokens; (None, steps_taken) if ``should_stop`` fired."""
        s, mem, bb = self.settings, self.memory, self.backbone
        score = None
        n = 0
        for step in range(s.steps):
            if should_stop is not None and should_stop():
                return None, step
            # A writer (Locas-MLP with room) writes the first step's gradients into new slots
            # instead of stepping.
            writer = mem.writer() if step == 0 else None
            capture = writer.capturing() if writer is not None else contextlib.nullcontext()
            with autocast_context(bb.device, self._bf16), capture as captured:
                loss, n = chunk_loss(bb.model, ids, span)
            if step == 0:
                score = loss.detach()
            loss.backward()
            if writer is not None:
                writer.write(captured, _predicting_positions(span))
                if writer.last_write_compressed:
                    opt.state.clear()  # NL-SVD moved slots: their moments no longer apply
            else:
                opt.step()
            opt.zero_grad(set_to_none=True)
            if mem.config.clip:
                mem.clip_()
        return float(score), n  # one sync per chunk, for the running perplexity

    # --- checkpoints -----------------------------------------------------------------------
    def _checkpoint_state(self, opt, signature, position, nll_sum, n_scored, curve) -> dict:
        mem = self.memory
        return {
            "format": CHECKPOINT_FORMAT,
            "stream": signature,
            "settings": self._recorded(),
            "memory": {k: v.detach().cpu().clone() for k, v in mem.state_dict().items()},
            "initialized": mem.initialized,
            "init": mem.config.init,
            "optimizer": opt.state_dict(),
            "next_chunk": position,
            "nll_sum": nll_sum,
            "n_scored": n_scored,
            "curve": [list(c) for c in curve],
            "rng": torch.get_rng_state(),
        }

    def _restore(self, path: Path, opt, signature: str):
        state = load_checkpoint(path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"The checkpoint {path} was written by another version of Locas.")
        if state["stream"] != signature:
            raise ValueError(
                f"The checkpoint {path} belongs to a different text; delete it or resume the "
                "text it was made for."
            )
        ours = self._recorded()
        theirs = dict(state["settings"])
        # Checkpoints written before precision was recorded ran bf16 on CUDA only.
        theirs.setdefault("precision", TrainingSpec().precision_on(self.backbone.device.type))
        changed = [k for k in ("chunk", "context", "steps", "precision") if ours[k] != theirs.get(k)]
        if changed:
            raise ValueError(
                f"The checkpoint {path} was made with other settings ({', '.join(changed)}); "
                "resume with the same settings or start over."
            )
        self.memory.load_state_dict(state["memory"])
        self.memory.initialized = bool(state["initialized"])
        self.memory.config = replace(self.memory.config, init=state["init"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        curve = [tuple(c) for c in state["curve"]]
        return int(state["next_chunk"]), float(state["nll_sum"]), int(state["n_scored"]), curve
