"""The model manager finds the models a person already has, in fake Hugging Face, LM Studio,
GPT4All and Ollama folders built here (never the real home), and says what each one is."""

from __future__ import annotations

import json

import gguf
import numpy as np
import pytest
import transformers as tf

from app.cli import main
from app.models import model_problem
from app.models.discover import SearchRoots, default_roots, discover_models, setting_for
from app.models.inspect import inspect_model
from app.settings import load_settings

TINY = dict(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=2)


def write_tiny_gguf(path, name="tiny"):
    """A valid GGUF header (llama, 2 layers, f32) with one tensor: enough for the metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_embedding_length(16)
    w.add_feed_forward_length(32)
    w.add_head_count(2)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_tensor("token_embd.weight", np.zeros((64, 16), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def hf_snapshot(hub, repo_id, config, weights=True):
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    config.to_json_file(str(snap / "config.json"))
    if weights:
        (snap / "model.safetensors").write_bytes(b"\0" * 1000)
    return snap


def make_home(tmp_path, monkeypatch, everything=True):
    """A fake home with a model in every place the manager looks (or just two for the CLI)."""
    home = tmp_path / "home"
    for var in ("HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LOCAS_MODEL_SEARCH_HOME", str(home))
    monkeypatch.setenv("LOCAS_MODEL_PACKAGES", "0")  # installed packages: the slow Gemma tests
    hub = home / ".cache" / "huggingface" / "hub"
    hf_snapshot(hub, "org/tiny-mamba", tf.MambaConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2))
    write_tiny_gguf(home / ".lmstudio" / "models" / "pub" / "repo" / "lm.gguf")
    if not everything:
        return home
    hf_snapshot(hub, "org/tiny-llama", tf.LlamaConfig(**TINY))
    hf_snapshot(hub, "org/tiny-gpt2", tf.GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2))
    hf_snapshot(hub, "org/config-only", tf.LlamaConfig(**TINY), weights=False)
    write_tiny_gguf(home / ".local" / "share" / "nomic.ai" / "GPT4All" / "g4a.gguf")
    ollama = home / ".ollama" / "models"
    write_tiny_gguf(ollama / "blobs" / "sha256-0f0f")
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:aaaa"},
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:0f0f"}]}))
    return home


@pytest.fixture
def home(tmp_path, monkeypatch):
    return make_home(tmp_path, monkeypatch)


def test_finds_the_models_in_every_place_and_says_what_each_is(home):
    roots = default_roots()
    assert roots.hf_hub == [home / ".cache" / "huggingface" / "hub"] and not roots.packages
    models = {m.name: m for m in discover_models(roots, ram_bytes=10**12)}
    assert set(models) == {"org/tiny-llama", "org/tiny-gpt2", "org/tiny-mamba", "pub/repo/lm.gguf",
                           "g4a.gguf", "tiny:latest"}
    llama = models["org/tiny-llama"]
    assert (llama.source, llama.architecture, llama.method) == ("Hugging Face cache", "llama", "locas-glu")
    expected = sum(p.numel() for p in tf.LlamaForCausalLM(tf.LlamaConfig(**TINY)).parameters())
    assert llama.parameters == expected and llama.memory_bytes >= expected * 4
    assert llama.fits and llama.size_bytes > 1000
    assert models["org/tiny-gpt2"].method == "locas-mlp"
    mamba = models["org/tiny-mamba"]
    assert not mamba.fits and "no gated (GLU) feed-forward blocks" in mamba.problem
    for name, source in (("pub/repo/lm.gguf", "LM Studio"), ("g4a.gguf", "GPT4All"),
                         ("tiny:latest", "Ollama")):
        m = models[name]
        assert (m.source, m.architecture, m.weights, m.method) == (source, "llama", "Q8_0", "locas-glu")


def test_a_model_too_big_for_the_memory_is_refused(home):
    llama = inspect_model(home / ".cache/huggingface/hub/models--org--tiny-llama/snapshots/abc123",
                          ram_bytes=1000)
    assert not llama.fits and "more than this computer's" in llama.problem


def test_ollama_blob_gets_a_gguf_name_without_copying(home):
    roots = SearchRoots(ollama=[home / ".ollama" / "models"], packages=False)
    (tiny,) = discover_models(roots, ram_bytes=10**12)
    setting = setting_for(tiny)
    assert setting.endswith(".gguf") and model_problem(setting) is None
    from pathlib import Path

    assert Path(setting).resolve() == tiny.path.resolve()


def test_locas_models_lists_and_uses_one(tmp_path, monkeypatch, capsys):
    make_home(tmp_path, monkeypatch, everything=False)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "pub/repo/lm.gguf  [LM Studio]" in out and "locas-glu" in out
    assert "does not fit" in out and "Choose one with: locas models --use N" in out
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    number = {m["name"]: i for i, m in enumerate(listed, 1)}
    assert main(["models", "--use", str(number["org/tiny-mamba"])]) == 1
    assert "Not chosen:" in capsys.readouterr().err and load_settings().model == "default"
    assert main(["models", "--use", str(number["pub/repo/lm.gguf"])]) == 0
    assert load_settings().model.endswith("lm.gguf")


@pytest.mark.slow
def test_an_ollama_model_loads_through_its_link(tmp_path, monkeypatch):
    """The real default GGUF stands in for an Ollama blob (no .gguf name): chosen in the model
    manager, it loads and generates like any .gguf file."""
    from locas_engine import load_backbone
    from locas_engine.backbone import default_gguf_path

    ollama = tmp_path / "ollama"
    (ollama / "blobs").mkdir(parents=True)
    (ollama / "blobs" / "sha256-5m0l").symlink_to(default_gguf_path())
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:5m0l"}]}))
    (info,) = discover_models(SearchRoots(ollama=[ollama], packages=False))
    assert info.name == "smollm2:135m" and info.fits and info.architecture == "llama"
    bb = load_backbone(setting_for(info), device="cpu")
    assert bb.ffn_kind == "glu" and bb.num_layers == 30
    ids = bb.tokenizer("The capital of France is", return_tensors="pt").input_ids
    assert bb.model(ids).logits.shape[-1] == bb.model.config.vocab_size
