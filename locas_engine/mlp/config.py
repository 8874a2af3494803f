"""What a Locas-MLP memory is and how it writes (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

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

