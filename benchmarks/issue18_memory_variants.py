"""`locas bench qa` with the memory changed while answering (issue 18: can a chat's memory be kept
from replaying chat lines, "[12 July 2023, 4:33 pm] Melanie: Wow, Caroline!", without losing what
it holds?). Measured in docs/benchmarks.md; neither was adopted.

    python benchmarks/issue18_memory_variants.py scale=0.5 [locas bench qa arguments...]
    python benchmarks/issue18_memory_variants.py plain-opening=1 [locas bench qa arguments...]

``scale=S`` multiplies every memory's output by S while answering (memorizing is untouched).
``plain-opening=N`` lets the plain model (every memory off) choose the answer's first N tokens,
as it already decides where an answer with a memory ends; the memory writes the rest.
"""

from __future__ import annotations

import itertools
import sys

import torch

import locas_engine.generate as generate
import locas_engine.memory as memory
from app.bench import qa
from locas_engine.adapter import only_enabled


def scale_memories(factor: float) -> None:
    forward = memory.LayerMemory.forward

    def scaled(self, a, act):
        return forward(self, a, act) * factor

    memory.LayerMemory.forward = scaled


def plain_opening(tokens: int) -> None:
    """The first ``tokens`` answer tokens from the plain model's logits (a full pass each: a
    benchmark, not the app)."""
    current: dict = {}
    generate_ids = generate.generate_ids

    def with_backbone(backbone, *args, **kwargs):
        current["backbone"] = backbone
        return generate_ids(backbone, *args, **kwargs)

    class PlainOpens(generate._NoEndBeforeContent):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            backbone = current["backbone"]
            if input_ids.shape[1] - self.prompt_len < tokens and any(
                    m.enabled for m in backbone.memories.values()):
                with only_enabled(backbone.memories, []):
                    scores = backbone.model(input_ids=input_ids).logits[:, -1].to(scores.dtype)
            return super().__call__(input_ids, scores)

    generate.generate_ids = with_backbone
    generate._NoEndBeforeContent = PlainOpens


def main(argv: list[str]) -> None:
    variants = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))
    for variant in variants:
        name, _, value = variant.partition("=")
        if name == "scale" and value:
            scale_memories(float(value))
        elif name == "plain-opening" and value:
            plain_opening(int(value))
        else:
            raise SystemExit(__doc__)
    qa.main(argv[len(variants):])


if __name__ == "__main__":
    main(sys.argv[1:])
