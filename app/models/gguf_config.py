"""A GGUF model's description and configuration from its header alone, in a fraction of a second.

transformers builds a GGUF model's config through `gguf.GGUFReader`, which turns every value of
the file's metadata into Python objects, the tokenizer's vocabulary and merge table included
(hundreds of thousands of strings): 2-12 s per file on a 2-core CPU, for a config that never
uses them. Here the header is read by a small reader of the format (`gguf_header`: the stdlib's
mmap and struct, walking past string arrays and keeping only their length), so neither torch nor
transformers is imported to read it (their import alone takes seconds).

For the architectures transformers builds as a stack of GLU blocks whose parameters are exactly
the file's tensors (`GLU_MODEL_TYPES`), the header says all a description needs
(`header_description`): the architecture's name, the parameter count (the tensor table's
shapes), and that Locas-GLU fits. Any other file's config is rebuilt from the header by
transformers' own key tables (`gguf_config`), the way its loader does for the architectures
that need nothing more than renamed keys; the few whose config needs more (read from tensors or
rebuilt specially) go to transformers' full reader, unchanged.

`tests/app/test_models.py` checks both against transformers' own reading of GGUF files written
there (one per architecture of `GLU_MODEL_TYPES`), and the slow tier checks them for the real
models on this computer.
"""

from __future__ import annotations

import mmap
import struct
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

from app.models.check import GGUF_MAGIC

# Architectures whose config transformers' loader rebuilds with more than renamed keys (from
# tensors, a name, or special rules): left to the full reader.
_SPECIAL = ("t5", "stablelm", "lfm2", "gpt-oss", "gpt_oss", "minimax", "gemma4", "umt5")


class GGUFHeader(NamedTuple):
    """A GGUF file's metadata (a string array stands as its length) and its tensors' shapes
    (torch order), by name."""

    metadata: dict[str, Any]
    tensors: dict[str, tuple[int, ...]]


# The fixed-size metadata value types of the GGUF format: u8, i8, u16, i16, u32, i32, f32, bool,
# (8 string, 9 array,) u64, i64, f64.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def gguf_header(path: Path) -> GGUFHeader:
    """Read the header of the GGUF file at ``path`` (versions 2 and 3), no tensor data."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as blob:
        if blob[:4] != GGUF_MAGIC:
            raise ValueError(f"{path} is not a GGUF file.")
        version, tensor_count, kv_count = struct.unpack_from("<IQQ", blob, 4)
        if version not in (2, 3):
            raise ValueError(f"{path} is GGUF version {version}; versions 2 and 3 can be read.")
        pos = 24

        def string() -> str:
            nonlocal pos
            (length,) = struct.unpack_from("<Q", blob, pos)
            pos += 8 + length
            return blob[pos - length:pos].decode("utf-8", errors="replace")

        def value(kind: int) -> Any:
            nonlocal pos
            if kind in _SCALARS:
                (v,) = struct.unpack_from("<" + _SCALARS[kind], blob, pos)
                pos += struct.calcsize(_SCALARS[kind])
                return v
            if kind == _STRING:
                return string()
            if kind != _ARRAY:
                raise ValueError(f"{path} holds a metadata value of unknown type {kind}.")
            item, count = struct.unpack_from("<IQ", blob, pos)
            pos += 12
            if item in _SCALARS:
                values = list(struct.unpack_from(f"<{count}{_SCALARS[item]}", blob, pos))
                pos += count * struct.calcsize(_SCALARS[item])
                return values
            if item == _STRING:  # a vocabulary or a merge table: walked, never decoded
                for _ in range(count):
                    pos += 8 + struct.unpack_from("<Q", blob, pos)[0]
                return count
            return [value(item) for _ in range(count)]

        metadata: dict[str, Any] = {}
        for _ in range(kv_count):
            key = string()
            (kind,) = struct.unpack_from("<I", blob, pos)
            pos += 4
            metadata[key] = value(kind)
        tensors: dict[str, tuple[int, ...]] = {}
        for _ in range(tensor_count):
            name = string()
            (dims,) = struct.unpack_from("<I", blob, pos)
            shape = struct.unpack_from(f"<{dims}Q", blob, pos + 4)
            pos += 4 + 8 * dims + 12  # the shape, then the ggml type and the data offset
            tensors[name] = tuple(reversed(shape))  # ggml lists the fastest-moving dimension first
    if "general.architecture" not in metadata:
        raise ValueError(f"{path} names no architecture (general.architecture).")
    return GGUFHeader(metadata, tensors)


# GGUF architectures that transformers builds as a stack of GLU feed-forward blocks (gate, up,
# down: Locas-GLU fits) whose parameters are exactly the file's tensors, by their model_type.
GLU_MODEL_TYPES = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3",
                   "gemma2": "gemma2", "gemma3": "gemma3_text"}
# Tensors some converters add that transformers computes instead (the RoPE frequencies).
_NOT_PARAMETERS = ("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight")


def header_description(header: GGUFHeader) -> tuple[str, int] | None:
    """``(model_type, parameter count)`` of a GLU model of `GLU_MODEL_TYPES`, from its header
    alone; None when transformers must build the model to say what it is."""
    architecture = header.metadata["general.architecture"]
    model_type = GLU_MODEL_TYPES.get(architecture)
    if model_type is None or "blk.0.ffn_gate.weight" not in header.tensors:
        return None
    if architecture == "llama" and header.metadata.get("general.name") == "mistral":
        model_type = "mistral"  # as transformers' loader reads such a file
    parameters = sum(prod(shape) for name, shape in header.tensors.items() if name not in _NOT_PARAMETERS)
    return model_type, parameters


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


def gguf_config(path: Path, header: GGUFHeader):
    """The transformers config of the GGUF file at ``path`` whose header is given."""
    from transformers import AutoConfig
    from transformers.integrations.gguf import GGUF_CONFIG_ARCHS, get_gguf_config

    metadata, tensor_names = header.metadata, tuple(header.tensors)
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
