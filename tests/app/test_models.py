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


def write_gguf(path, config, name="tiny"):
    """A GGUF file as a converter writes one for ``config``: its keys (transformers' own key
    table read backwards) and every parameter of the model transformers builds from it, under
    its GGUF name (zeros)."""
    import torch
    from transformers.integrations import GGUF_CONFIG_MAPPING

    architecture = {"gemma3_text": "gemma3"}.get(config.model_type, config.model_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), architecture)
    w.add_name(name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    for key, attribute in GGUF_CONFIG_MAPPING[architecture].items():
        value = getattr(config, attribute, None) if attribute else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        kind = gguf.GGUFValueType.UINT32 if isinstance(value, int) else gguf.GGUFValueType.FLOAT32
        w.add_key_value(f"{architecture}.{key}", value, kind)
    with torch.device("meta"):
        model = tf.AutoModelForCausalLM.from_config(config)
    arch_id = {v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}[architecture]
    names = gguf.get_tensor_name_map(arch_id, config.num_hidden_layers)
    for hf_name, p in model.named_parameters():
        w.add_tensor(names.get_name(hf_name, try_suffixes=(".weight", ".bias")),
                     np.zeros(tuple(p.shape), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_tiny_gguf(path, name="tiny"):
    """A tiny LLaMA GGUF (2 layers, f32 zeros, labelled Q8_0)."""
    return write_gguf(path, tf.LlamaConfig(**TINY), name)


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


def _config_differences(fast, full) -> dict:
    a, b = fast.to_dict(), full.to_dict()
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b)
            if a.get(k) != b.get(k) and k != "_name_or_path"}


def test_gguf_config_from_the_header_equals_transformers_own(tmp_path):
    """The header read once, tokenizer arrays skipped, gives the config transformers' full reader
    gives (`gguf_config` rebuilds it with transformers' own key tables)."""
    from app.models.gguf_config import gguf_config, gguf_file_type, gguf_header

    path = write_tiny_gguf(tmp_path / "m" / "tiny.gguf")
    header = gguf_header(path)
    fast = gguf_config(path, header)
    full = tf.AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)
    assert fast.model_type == "llama" and fast.num_hidden_layers == 2
    assert _config_differences(fast, full) == {}
    assert gguf_file_type(header.metadata) == "Q8_0"


def _described_both_ways(path):
    """The description from the header alone and the one from a skeleton transformers builds."""
    from dataclasses import asdict

    from app.models.inspect import ModelInfo, _describe

    both = []
    for header_alone in (True, False):
        info = ModelInfo(name="m", source="test", path=path, setting=str(path))
        _describe(info, header_alone=header_alone)
        both.append(asdict(info))
    return both


GLU_CONFIGS = {
    "llama": tf.LlamaConfig(**TINY),
    "qwen2": tf.Qwen2Config(**TINY),
    "qwen3": tf.Qwen3Config(**TINY),  # head_dim 128, as every Qwen3 (transformers reads no key for it)
    "gemma2": tf.Gemma2Config(**TINY, head_dim=8),
    "gemma3": tf.Gemma3TextConfig(**TINY, head_dim=8),
}


@pytest.mark.parametrize("architecture", sorted(GLU_CONFIGS))
def test_a_glu_gguf_is_described_from_its_header_as_transformers_describes_it(tmp_path, architecture):
    """Every architecture the header alone describes (`GLU_MODEL_TYPES`): the same name,
    parameter count, storage, memory and method as the skeleton transformers builds from the
    file and the engine's FFN finders say."""
    from app.models.gguf_config import GLU_MODEL_TYPES, gguf_header, header_description

    assert set(GLU_CONFIGS) == set(GLU_MODEL_TYPES)
    path = write_gguf(tmp_path / f"{architecture}.gguf", GLU_CONFIGS[architecture])
    assert header_description(gguf_header(path)) is not None
    fast, full = _described_both_ways(path)
    assert fast == full and fast["method"] == "locas-glu" and fast["problem"] is None


def test_a_glu_gguf_is_described_without_torch_or_transformers(tmp_path):
    import subprocess
    import sys

    path = write_tiny_gguf(tmp_path / "m" / "tiny.gguf")
    code = ("import sys; from app.models.inspect import _describe, ModelInfo; from pathlib import Path; "
            f"i = ModelInfo('m', 's', Path({str(path)!r}), ''); _describe(i); print(i.method, i.parameters); "
            "print('imported:', sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    expected = sum(p.numel() for p in tf.LlamaForCausalLM(tf.LlamaConfig(**TINY)).parameters())
    assert out.splitlines() == [f"locas-glu {expected}", "imported: []"]


def test_a_description_is_kept_and_redone_when_the_file_changes(tmp_path, monkeypatch):
    """The second listing reads the description from the data folder, not the model; a file
    that changed (size or time) is described again."""
    import os

    from app.models import inspect as inspect_mod

    path = write_tiny_gguf(tmp_path / "m" / "tiny.gguf")
    described = []
    real = inspect_mod._describe
    monkeypatch.setattr(inspect_mod, "_describe", lambda info: (described.append(info.path), real(info)))
    first = inspect_model(path, ram_bytes=10**12)
    assert first.fits and first.weights == "Q8_0" and described == [path]
    assert (inspect_mod._cache_path()).is_file()
    again = inspect_model(path, name="renamed", ram_bytes=10**12)
    assert described == [path]  # read from the cache
    assert (again.name, again.architecture, again.parameters, again.method, again.weights) == (
        "renamed", first.architecture, first.parameters, first.method, first.weights)
    assert not inspect_model(path, ram_bytes=1000).fits  # the memory check is made on each read
    assert described == [path]
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file was replaced
    assert inspect_model(path, ram_bytes=10**12).fits and described == [path, path]
    write_tiny_gguf(path, name="other")
    path.write_bytes(path.read_bytes() + b"\0" * 32)  # a new size
    inspect_model(path, ram_bytes=10**12)
    assert described == [path, path, path]


def test_a_second_listing_reads_no_model_and_imports_no_torch(tmp_path, monkeypatch):
    """`locas models` run again, nothing changed: every description comes from the data folder,
    so the process never imports torch or transformers (their import alone takes seconds)."""
    import subprocess
    import sys

    make_home(tmp_path, monkeypatch, everything=False)
    discover_models()  # the first listing describes the models and keeps their descriptions
    code = ("import sys; from app.cli import main; main(['models']); "
            "print('imported:', sorted(m for m in ('torch', 'transformers', 'gguf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pub/repo/lm.gguf  [LM Studio]" in out and "locas-glu" in out and "does not fit" in out
    assert "imported: []" in out


@pytest.mark.slow
def test_real_gguf_configs_from_the_header_equal_transformers_own():
    """The models on this computer (the built-in one, and Gemma 3 when installed): the fast
    config is transformers' own, the description from the header alone is the one from the
    skeleton, and it says they fit."""
    from app.models.discover import SearchRoots, candidates
    from app.models.gguf_config import gguf_config, gguf_header, header_description

    found = [c for c in candidates(SearchRoots(packages=True)) if c.path.is_file()]
    assert found
    for c in found:
        full = tf.AutoConfig.from_pretrained(str(c.path.parent), gguf_file=c.path.name, local_files_only=True)
        header = gguf_header(c.path)
        assert _config_differences(gguf_config(c.path, header), full) == {}, c.name
        assert header_description(header) is not None, c.name
        fast, slow = _described_both_ways(c.path)
        assert fast == slow, c.name
        assert inspect_model(c.path).fits


@pytest.mark.slow
def test_an_ollama_model_loads_through_its_link(tmp_path, monkeypatch):
    """The real default GGUF stands in for an Ollama blob (no .gguf name): chosen in the model
    manager, it loads and generates like any .gguf file."""
    from locas_engine import load_backbone
    from locas_engine.default_model import default_gguf_path

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


@pytest.mark.slow  # four fresh processes, two of them importing torch
def test_models_bench_times_the_list_first_and_cached(tmp_path, monkeypatch):
    from locas_engine.bench import run_bench

    make_home(tmp_path, monkeypatch, everything=False)
    report = run_bench("app.ui.models_bench", ["--json", str(tmp_path / "models.json")])
    s = report["seconds"]
    assert report["models"] == 2 and set(s) == {"cli_first", "cli_cached", "window_first", "window_cached"}
    assert len(report["window_rows"]["first"]) == len(report["window_rows"]["cached"]) == 2
    assert s["cli_cached"] < s["cli_first"] and s["window_cached"] < s["window_first"]
    assert json.loads((tmp_path / "models.json").read_text())["bench"] == "models"
