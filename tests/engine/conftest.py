"""Fixtures for engine tests: tiny backbones of every architecture (see engine_helpers)."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import ARCHS, tiny_model

from locas_engine import backbone_from_model


@pytest.fixture(params=ARCHS)
def arch(request) -> str:
    return request.param


@pytest.fixture
def tiny(arch):
    """A Backbone around a tiny model of each architecture."""
    return backbone_from_model(tiny_model(arch), name=f"tiny-{arch}")


@pytest.fixture
def tiny_llama():
    return backbone_from_model(tiny_model("llama"), name="tiny-llama")


@pytest.fixture
def randomize_values():
    """Give a memory random V so that it visibly changes the output."""

    def apply(memory, scale: float = 1.0, seed: int = 1):
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for m in memory.per_layer.values():
                m.V.copy_(torch.randn(m.V.shape, generator=g) * scale)
                m.tau.fill_(0.5)

    return apply
