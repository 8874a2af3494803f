"""A GGUF model's configuration from its header alone, in a fraction of a second.

transformers builds a GGUF model's config through `gguf.GGUFReader`, which turns every value of
the file's metadata into Python objects, the tokenizer's vocabulary and merge table included
(hundreds of thousands of strings): about 19 s per file on a 2-core CPU, for a config that never
uses them. Here the header is read by transformers' own fast reader (`read_gguf_metadata`, which
walks past string arrays and keeps only their length), and the config is rebuilt from it by
transformers' own key tables (`GGUF_CONFIG_MAPPING`), the way its loader does for the
architectures that need nothing more than renamed keys. The few architectures whose config needs
more (read from tensors or rebuilt specially) go to transformers' full reader, unchanged.

`tests/app/test_models.py` checks that the config built here equals transformers' own for a
GGUF written there, and the slow tier checks it for the real models on this computer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Architectures whose config transformers' loader rebuilds with more than renamed keys (from
# tensors, a name, or special rules): left to the full reader.
_SPECIAL = ("t5", "stablelm", "lfm2", "gpt-oss", "gpt_oss", "minimax", "gemma4", "umt5")


def gguf_header(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The file's metadata (a string array stands as its length) and its tensor names."""
    from transformers.integrations.gguf import read_gguf_metadata

    return read_gguf_metadata(str(path))


def _config_dict(metadata: dict[str, Any], tensor_names: tuple[str, ...]) -> dict[str, Any] | None:
    """The config dict transformers' GGUF loader would build, or None for an architecture it
    rebuilds specially (`_SPECIAL`)."""
    from transformers.integrations import GGUF_CONFIG_DEFAULTS_MAPPING, GGUF_CONFIG_MAPPING

    architecture = metadata["general.architecture"]
    if any(special in architecture for special in _SPECIAL):
        return None
    name = metadata.get("general.name")
    updated = architecture
    if "llama" in architecture and name == "mistral":
        updated = "mistral"
    elif "qwen2moe" in architecture:
        updated = "qwen2_moe"
    elif "qwen3moe" in architecture:
        updated = "qwen3_moe"
    config: dict[str, Any] = {"tie_word_embeddings": "output.weight" not in tensor_names
                              or architecture in ("falcon", "bloom")}
    defaults = GGUF_CONFIG_DEFAULTS_MAPPING.get(updated, GGUF_CONFIG_DEFAULTS_MAPPING.get(architecture) or {})
    for key, value in defaults.items():
        config.setdefault(key, value)
    for gguf_key, value in metadata.items():
        prefix, _, config_key = gguf_key.replace(architecture, updated).partition(".")
        renamed = GGUF_CONFIG_MAPPING.get(prefix, {}).get(config_key)
        if renamed is None or renamed == -1:
            continue
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str) and architecture in value:
            value = value.replace(architecture, updated)
        config[renamed] = value
    if config.get("model_type") == "gemma3":  # the file holds the text model only
        config["model_type"] = "gemma3_text"
    tokens = metadata.get("tokenizer.ggml.tokens")
    if "vocab_size" not in config and isinstance(tokens, int):
        config["vocab_size"] = tokens
    return config


def gguf_config(path: Path, metadata: dict[str, Any], tensor_names: tuple[str, ...]):
    """The transformers config of the GGUF file at ``path`` whose header is given."""
    from transformers import AutoConfig
    from transformers.integrations.gguf import GGUF_CONFIG_ARCHS, get_gguf_config

    architecture = metadata["general.architecture"]
    if architecture in GGUF_CONFIG_ARCHS:  # transformers rebuilds these from the header itself
        config = get_gguf_config(metadata, tensor_names)
    else:
        config = _config_dict(metadata, tensor_names)
    if config is None:
        return AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)
    config = dict(config)
    return AutoConfig.for_model(config.pop("model_type"), **config)


def gguf_file_type(metadata: dict[str, Any]) -> str | None:
    """The storage of the weights (Q4_K_M, Q8_0, F16...) from ``general.file_type``."""
    value = metadata.get("general.file_type")
    if value is None:
        return None
    try:
        from gguf import LlamaFileType

        return LlamaFileType(int(value)).name.removeprefix("MOSTLY_")
    except (ImportError, ValueError):
        return None
