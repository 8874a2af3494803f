"""Loading backbones from local folders, fingerprints, and refusing what is not there."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import save_tiny_tokenizer, tiny_model

from locas_engine import backbone_from_model, load_backbone
from locas_engine.backbone import fingerprint_model, resolve_device


def test_load_local_folder_with_stable_fingerprint(tmp_path):
    model = tiny_model("qwen3")
    model.save_pretrained(tmp_path / "qwen3-tiny")
    bb = load_backbone(tmp_path / "qwen3-tiny", device="cpu")
    assert bb.name == "qwen3-tiny" and bb.dtype == torch.float32
    assert bb.fingerprint == backbone_from_model(model).fingerprint
    assert not any(p.requires_grad for p in bb.model.parameters())
    # A bf16 copy of the same weights is the same model to a memory.
    assert fingerprint_model(model.to(torch.bfloat16)) == bb.fingerprint


def test_fingerprint_tells_models_apart():
    assert fingerprint_model(tiny_model("llama", seed=0)) != fingerprint_model(tiny_model("llama", seed=1))


def test_missing_model_is_never_downloaded():
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_backbone("someone/not-a-cached-model-xyz", device="cpu")
    with pytest.raises(FileNotFoundError, match="No GGUF file"):
        load_backbone("/nonexistent/model.gguf", device="cpu")


def test_device_resolution():
    assert resolve_device("cpu") == (torch.device("cpu"), torch.float32)
    dev, dtype = resolve_device("auto")
    assert dev.type in ("cuda", "mps", "cpu")
    assert dtype == (torch.bfloat16 if dev.type == "cuda" else torch.float32)


def test_the_model_cache_keeps_the_added_tokens_so_a_load_parses_the_tokenizer_once(tmp_path, monkeypatch):
    """A GGUF's cached folder: after the first load, tokenizer_config.json lists the added
    tokens, so transformers no longer parses the whole tokenizer.json in Python before the
    tokenizers library parses it again (a GIL-holding pause the window felt at every start)."""
    import json

    import transformers.tokenization_utils_base as tub
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    from locas_engine.backbone import _note_added_tokens

    vocab = {"<|endoftext|>": 0, "<|im_end|>": 1, "a": 2, "b": 3, "ab": 4}
    raw = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b")]))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>", unk_token="<|endoftext|>")
    tok.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config.pop("added_tokens_decoder", None)  # as the cache folders were written
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))

    parsed: list[str] = []
    real_load = tub.json.load
    monkeypatch.setattr(tub.json, "load", lambda f, *a, **k: (parsed.append(getattr(f, "name", "")),
                                                             real_load(f, *a, **k))[1])
    first = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert any(name.endswith("tokenizer.json") for name in parsed)  # the legacy second parse
    _note_added_tokens(tmp_path, first)
    parsed.clear()
    again = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert not any(name.endswith("tokenizer.json") for name in parsed)
    assert again.added_tokens_decoder == first.added_tokens_decoder
    assert again("ab <|im_end|>")["input_ids"] == first("ab <|im_end|>")["input_ids"]


def test_a_tokenizer_parsed_before_the_window_is_the_one_the_model_load_uses(tmp_path):
    """The app parses the tokenizer before its window shows (a GIL-holding call of ~100 ms);
    the engine worker's load of the model must then reuse it, not parse it again, and a
    changed tokenizer file must not be served from the old parse."""
    import os

    from locas_engine.backbone import load_tokenizer, preload_tokenizer

    folder = tmp_path / "llama-tiny"
    tiny_model("llama").save_pretrained(folder)
    assert not preload_tokenizer(folder)  # no tokenizer.json yet: nothing parsed, no error
    save_tiny_tokenizer(folder)
    assert preload_tokenizer(folder)
    parsed = load_tokenizer(folder)
    assert load_backbone(folder, device="cpu").tokenizer is parsed

    file = folder / "tokenizer.json"
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file replaced
    assert load_tokenizer(folder) is not parsed
