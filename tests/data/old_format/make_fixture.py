"""How the files here were made: run once with the code from before the settings specs
(commit c185c94), from the repository root of that version:

    PYTHONPATH=.:tests/engine python3 tests/data/old_format/make_fixture.py tests/data/old_format

They are today's reading of yesterday's files: a memory saved with ``tau_scale`` in its config,
a checkpoint of a stopped run with MemorizeSettings' record, and a flat settings.json. The code
that wrote them no longer exists, so this script is kept as the record of what they hold.
"""

import json
import sys
from pathlib import Path

from engine_helpers import tiny_model

from locas_engine import (  # the names of that version
    Memorizer,
    MemorizeSettings,
    MemoryConfig,
    attach_memory,
    backbone_from_model,
    save_memory,
)

out = Path(sys.argv[1])
bb = backbone_from_model(tiny_model("llama"), name="tiny-llama")
stream = [int(t) for t in (__import__("torch").arange(160) * 7 % 90 + 3)]
memory = attach_memory(bb, MemoryConfig(rank=4, layers=[0, 2], tau_scale=16.0), name="tale")
settings = MemorizeSettings(chunk=40, context=20, steps=1, lr=1e-2, checkpoint_every=1)
Memorizer(bb, memory, settings).run(stream[:80], source="first half")
save_memory(memory, out / "tale", extra_metadata={"settings": {
    "rank": 4, "init": "topk", "tau_scale": 16.0, "lr": 1e-2, "chunk": 40, "context": 20,
    "steps": 1, "layers": "0,2", "checkpoint_every": 1, "precision": "fp32"}})
stops = iter([False, False, True])
Memorizer(bb, memory, settings).run(stream[80:], checkpoint_path=out / "tale.ckpt",
                                    should_stop=lambda: next(stops, True))
(out / "settings.json").write_text(json.dumps({
    "model": "default", "device": "auto", "rank": 8, "init": "topk", "tau_scale": 2.0, "lr": 6e-3,
    "chunk": 128, "context": 64, "steps": 2, "layers": "all", "precision": "auto",
    "checkpoint_every": 8, "passages": 3, "max_new_tokens": 200, "use_memory": True,
    "use_retrieval": True}, indent=2, sort_keys=True))
print(sorted(p.name for p in out.iterdir()))
