"""Which arithmetic memorization uses on a device: decided here, in one place, for the whole app.

``fp32`` runs the backbone in float32; ``bf16`` holds its weights in bfloat16 and runs under
bfloat16 autocast while the memory's own weights and optimizer stay in float32 (the method's
mixed precision). ``auto`` picks bf16 on devices that compute it natively (CUDA cards; CPUs with
AVX512-BF16, AMX or the Armv8.6 BF16 extension) and fp32 elsewhere. On the development CPU
(AVX512-BF16, 2 cores) bf16 memorized 16,384 tokens of a book in 0.65x the time of fp32 and kept
99% of its perplexity gain, with held-out perplexity still below the base model's
(docs/benchmarks.md, issue 14); a CPU without native bf16 emulates it and would be slower.

A memory records the precision it was made with (its spec file, its metadata
file and its checkpoint), so a resume continues with the same arithmetic even if the default
changes or the memory moves to another machine. Memories made before precision was recorded
used bf16 autocast on CUDA and fp32 elsewhere: ``resolve_precision(None, device)`` gives that.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

PRECISIONS = ("auto", "fp32", "bf16")
# /proc/cpuinfo flags of x86 CPUs that compute bf16 dot products in hardware; "bf16" is the
# flag aarch64 kernels list for the Armv8.6 BF16 extension.
_CPU_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


@functools.cache
def _cpu_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively: torch's own query, else /proc/cpuinfo flags."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        if probe is not None and (probe() or (amx is not None and amx())):
            return True
    except RuntimeError:  # a torch build without the query's backend
        pass
    return bool(_cpuinfo_flags() & _CPU_BF16_FLAGS)


def _cpuinfo_flags(path: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags listed in ``path`` (empty where there is no such file)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            flags.update(value.split())
    return flags


def native_bf16(device: str | torch.device) -> bool:
    """Whether ``device`` computes bf16 in hardware (then bf16 autocast is worth using)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if dev.type == "cpu":
        return _cpu_native_bf16()
    return False


def resolve_precision(choice: str | None, device: str | torch.device) -> str:
    """``fp32`` or ``bf16`` for a setting of ``auto`` / ``fp32`` / ``bf16`` on ``device``.

    ``None`` means a memory made before precision was recorded: bf16 on CUDA, fp32 elsewhere
    (what the memorizer did then), so such a memory resumes exactly as it started.
    """
    dev = torch.device(device)
    if choice is None:
        return "bf16" if dev.type == "cuda" else "fp32"
    if choice not in PRECISIONS:
        raise ValueError(f"The precision '{choice}' is not one of {', '.join(PRECISIONS)}.")
    if choice == "auto":
        return "bf16" if native_bf16(dev) else "fp32"
    return choice


def precision_dtype(precision: str) -> torch.dtype:
    """The dtype the backbone's weights are held in for a resolved precision. bf16 means bf16
    weights, not only autocast: on a CPU, autocast casts every fp32 weight at every call, which
    costs about what the bf16 arithmetic saves (docs/benchmarks.md, issue 14)."""
    return torch.bfloat16 if precision == "bf16" else torch.float32


def precision_context(device: torch.device, precision: str):
    """The autocast context for a resolved precision (nothing for fp32)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
