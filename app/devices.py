"""The devices a model can run on, by name, and a sentence when a named device cannot be used.

The settings name a device as text ("auto", "cpu", "cuda", "cuda:1", "mps"). Torch only finds out
that a name is unusable when the model is moved there, with messages such as "Torch not compiled
with CUDA enabled". Checking the name first lets the Settings dialog refuse it at choice time,
the settings loader drop it, and the status bar say what is really in use. Torch is imported
inside the functions: the command line starts without it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from dataclasses import dataclass

from app import units

log = logging.getLogger(__name__)

_CUDA_NAME = re.compile(r"^cuda(?::(\d+))?$")
KNOWN_NAMES = "auto, cpu, cuda, cuda:N (N = 0, 1, ...) or mps"


@dataclass(frozen=True)
class Device:
    """One device torch can use: ``name`` goes into the settings, ``label`` is for people."""

    name: str  # "cpu", "cuda:0", "mps"
    label: str  # "CPU (8 threads)", "cuda:0 (NVIDIA H200, 140.4 GB)"
    memory_bytes: int | None = None  # GPU memory; None for the CPU and MPS (shared memory)


def cpu_threads() -> int:
    """Threads torch computes with on the CPU."""
    import torch

    return torch.get_num_threads() or os.cpu_count() or 1


def cuda_label(index: int) -> str:
    """``cuda:0 (NVIDIA H200, 140.4 GB)``: the GPU's name and total memory."""
    import torch

    props = torch.cuda.get_device_properties(index)
    return f"cuda:{index} ({props.name}, {units.size(props.total_memory)})"


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[Device]:
    """The CPU, then every CUDA GPU torch sees, then Apple's MPS when present."""
    import torch

    threads = cpu_threads()
    devices = [Device("cpu", f"CPU ({threads} thread{'s' if threads != 1 else ''})")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            total = torch.cuda.get_device_properties(i).total_memory
            devices.append(Device(f"cuda:{i}", cuda_label(i), total))
    if _mps_available():
        devices.append(Device("mps", "Apple GPU (MPS)"))
    return devices


def device_problem(name: str) -> str | None:
    """None when ``name`` can be used with this torch; otherwise a sentence saying what is wrong
    and what to do (for a message box, the command line, or the settings loader's log)."""
    import torch

    text = (name or "").strip().lower()
    if text in ("auto", "cpu"):
        return None
    match = _CUDA_NAME.match(text)
    if match:
        if torch.version.cuda is None and not getattr(torch.version, "hip", None):
            return (
                f"The device '{name}' needs a GPU build of PyTorch, but this PyTorch "
                f"({torch.__version__}) was built for the CPU only. Choose 'cpu' or 'auto', or "
                "install a CUDA build of PyTorch (see pytorch.org)."
            )
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            return (
                f"The device '{name}' cannot be used: PyTorch supports CUDA but sees no GPU "
                "(no NVIDIA driver, or CUDA_VISIBLE_DEVICES hides them). Choose 'cpu' or 'auto', "
                "or check the GPU driver with nvidia-smi."
            )
        index = int(match.group(1) or 0)
        if index >= count:
            seen = ", ".join(f"cuda:{i}" for i in range(count))
            return (
                f"There is no GPU '{name}': PyTorch sees {count} GPU"
                f"{'s' if count != 1 else ''} ({seen}). Choose one of those, 'cpu' or 'auto'."
            )
        return None
    if text == "mps":
        if _mps_available():
            return None
        return (
            "The device 'mps' (Apple's GPU) is not available here: it needs a Mac with Apple "
            "silicon and a PyTorch built for it. Choose 'cpu' or 'auto'."
        )
    return f"'{name}' is not a device Locas knows. Use {KNOWN_NAMES}."


def describe_device(device: object) -> str:
    """What the status bar says about the device a model was loaded on (a torch.device or its
    name): the GPU's own name and memory, or the CPU with its thread count."""
    text = str(device)
    if text.startswith("cuda"):
        match = _CUDA_NAME.match(text)
        index = int(match.group(1) or 0) if match else 0
        try:
            return cuda_label(index)
        except Exception:  # noqa: BLE001 - a label must never break the status bar
            return text
    if text == "mps":
        return "Apple GPU (MPS)"
    if text == "cpu":
        threads = cpu_threads()
        return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
    return text


# How far below the window the background threads run (a nice value: weight about half the
# GUI thread's when both want the CPU). Model work fills every core; without this, a 2-core
# machine left the GUI thread waiting its turn for 100-300 ms at a time.
BACKGROUND_NICE = 3


def lower_this_thread(step: int = BACKGROUND_NICE) -> None:
    """Run the calling thread, and the threads it starts from now on (torch's OpenMP team, an
    answer's writing threads), below the GUI thread's priority, so the window still repaints and
    reacts while they work. Linux only: there a thread's nice value is its own; elsewhere
    setpriority would lower the whole process, window included."""
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except (OSError, AttributeError):  # not permitted or not supported: only the window's ease
        log.debug("background thread priority unchanged", exc_info=True)
