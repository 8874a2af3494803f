"""Devices by name: what torch can use here, and a sentence for a name it cannot."""

from __future__ import annotations

import pytest
import torch

from app import devices
from app.devices import available_devices, describe_device, device_problem


def test_cpu_is_listed_with_its_threads():
    cpu = available_devices()[0]
    assert cpu.name == "cpu"
    assert f"{torch.get_num_threads()} thread" in cpu.label
    assert device_problem("cpu") is None and device_problem("auto") is None
    assert describe_device(torch.device("cpu")) == cpu.label


def test_every_gpu_torch_sees_is_listed_by_name_and_memory(monkeypatch):
    class Props:
        name = "NVIDIA Test GPU"
        total_memory = 24_000_000_000

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: Props())
    names = [d.name for d in available_devices()]
    assert names[:3] == ["cpu", "cuda:0", "cuda:1"]
    gpu = available_devices()[2]
    assert gpu.label == "cuda:1 (NVIDIA Test GPU, 24.0 GB)" and gpu.memory_bytes == 24_000_000_000
    assert describe_device("cuda:1") == gpu.label


def test_cuda_on_a_cpu_only_torch_is_a_sentence(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    for name in ("cuda", "cuda:0", "CUDA"):
        problem = device_problem(name)
        assert problem and "built for the CPU only" in problem and "Choose 'cpu'" in problem


def test_gpu_build_without_a_gpu_or_with_a_missing_index(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "sees no GPU" in device_problem("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert device_problem("cuda:0") is None and device_problem("cuda") is None
    assert "no GPU 'cuda:3'" in device_problem("cuda:3") and "cuda:0" in device_problem("cuda:3")


def test_unknown_names_and_missing_mps(monkeypatch):
    assert "not a device Locas knows" in device_problem("gpu")
    assert "not a device Locas knows" in device_problem("")
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    assert "Apple" in device_problem("mps")
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    assert device_problem("mps") is None
    assert available_devices()[-1].name == "mps"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_session_refuses_an_unusable_device_before_loading(monkeypatch):
    from app.errors import JobError
    from app.session import Session
    from app.settings import Settings

    monkeypatch.setattr("app.session.load_backbone", lambda *a, **k: pytest.fail("loaded"))
    session = Session(settings=Settings(device="cuda"))
    with pytest.raises(JobError, match="built for the CPU only"):
        session.backbone()
