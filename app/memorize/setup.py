"""What the app does by default on this machine: the one place where a memory's "auto" settings
become concrete ones.

The user's settings may say ``precision: auto`` (bf16 where the device computes it natively, else fp32; see
locas_engine.precision) and ``layers: auto`` (the upper part of the model, where the backward
pass can stop early). Both are resolved here, once, when a memory is made on
a given backbone and device, and the concrete values are stored with the memory (spec file,
metadata file, checkpoint): a resume, a later run adding more text, or the same memory on
another machine then uses the same arithmetic and the same layers. ``locas bench speed`` calls
the same functions for its ``memorize-default`` row, so the benchmark measures exactly what
the app runs.
"""

from __future__ import annotations

from dataclasses import replace

from app.errors import JobError
from locas_engine.backbone import Backbone
from locas_engine.precision import resolve_precision
from locas_engine.spec import Specs

# `layers: auto`, the app's default, puts memory on every layer but the lowest sixth (5-29 of
# SmolLM2's 30): the backward pass, which costs about twice a forward and is most of
# memorizing's time, then stops at the first layer with memory. `locas bench speed --tokens 8192
# --repeat 2 --variants bf16:0 bf16:5-29 bf16:10-29`, quiet dev CPU: every layer 1.46x an fp32
# scoring pass for 99% of the perplexity gain, 5-29 1.29x for 99%, 10-29 (a third off) 1.15x
# for only 86%; memory on layer 0 alone already costs 1.37x (the whole backward).
AUTO_FIRST_LAYER_FRACTION = 1 / 6


def auto_layers(num_layers: int) -> str:
    """The concrete layer range ``layers: auto`` means on a model with ``num_layers`` layers."""
    first = min(num_layers - 1, round(num_layers * AUTO_FIRST_LAYER_FRACTION))
    return "all" if first == 0 else f"{first}-{num_layers - 1}"


def resolve(specs: Specs, backbone: Backbone) -> Specs:
    """``specs`` with ``precision`` and ``layers`` made concrete for ``backbone`` and its device;
    JobError (a sentence) for a layer choice the model does not have, before anything is made."""
    memory, training = specs
    if memory.layers == "auto":
        memory = replace(memory, layers=auto_layers(backbone.num_layers))
    try:
        memory.layer_indices(backbone.num_layers)
        training = replace(training, precision=resolve_precision(training.precision, backbone.device))
    except ValueError as exc:
        raise JobError(str(exc)) from exc
    return Specs(memory, training)
