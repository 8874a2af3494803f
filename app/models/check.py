"""Is a model setting something Locas can load? A sentence when it is not, checked cheaply.

The Settings dialog and the settings loader call this before a model path is saved or used, so
a typo or a moved file is refused once, at choice time, instead of failing at every start. Only
file names and the first bytes are read here; whether a model's feed-forward blocks fit Locas
is `app.models.inspect`'s job (it builds the model's skeleton).
"""

from __future__ import annotations

import re
from pathlib import Path

GGUF_MAGIC = b"GGUF"
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_gguf_file(path: Path) -> bool:
    """A regular file that starts with the GGUF signature (whatever its name, e.g. Ollama blobs)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def has_weights(folder: Path) -> bool:
    return any(next(folder.glob(p), None) is not None for p in WEIGHT_PATTERNS)


def in_hf_cache(repo_id: str) -> bool:
    """Whether a hub id's config is already in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)


def model_problem(setting: str) -> str | None:
    """None when ``setting`` ("default", a model folder, a .gguf file, or a hub id already in the
    local cache) names something loadable; otherwise a sentence saying what is wrong and what
    to do."""
    text = (setting or "").strip()
    if text in ("", "default"):
        return None if text else "Choose a model folder or a .gguf file, or the built-in model."
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            ggufs = sorted(path.glob("*.gguf"))
            hint = f" It holds {ggufs[0].name}: choose that file instead." if ggufs else ""
            return (
                f"The folder {path} holds no model (no config.json). Choose the folder that holds "
                f"config.json and the weights, or a .gguf file.{hint}"
            )
        if not has_weights(path):
            return (
                f"The folder {path} has a config.json but no weights (.safetensors or .bin "
                "files). Choose a folder with the whole model, or a .gguf file."
            )
        return None
    if path.is_file():
        if text.lower().endswith(".gguf") and not is_gguf_file(path):
            return (
                f"{path} is not a GGUF model: it does not start with the GGUF signature (a "
                "download that did not finish?). Choose another .gguf file."
            )
        if not text.lower().endswith(".gguf"):
            if is_gguf_file(path):
                return None
            return f"{path} is neither a .gguf file nor a model folder. Choose one of those."
        return None
    looks_like_path = text.startswith(("~", ".", "/")) or ("/" in text and not _HUB_ID.match(text))
    if text.lower().endswith(".gguf") or looks_like_path:
        return f"There is no model at {path}. Choose an existing model folder or .gguf file."
    if _HUB_ID.match(text) and in_hf_cache(text):
        return None
    return (
        f"'{text}' is neither a model folder, a .gguf file, nor a model in the local Hugging Face "
        "cache (Locas never downloads models). Choose a model on this computer."
    )
