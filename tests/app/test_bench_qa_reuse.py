"""`locas bench qa --home`: a memory an earlier run left is reused only when it was made the same way."""

from __future__ import annotations

import pytest

from app.bench.qa import memorized_before
from app.library import Library
from app.memorize.specs import write_specs
from app.settings import Settings


def test_a_memory_made_with_auto_layers_is_reused_by_a_run_asking_for_auto(tmp_path):
    library = Library(tmp_path / "library.db")
    stem = tmp_path / "memories" / "m"
    stem.parent.mkdir()
    # stored as the machine made "auto" concrete: layers 5-29 of a 30-layer model
    write_specs(stem, Settings.of(layers="5-29", rank=8, precision="bf16").specs)
    library.create_memory("m", path=str(stem))
    library.update_memory("m", status="done")
    asked = {"rank": 8, "layers": "auto", "lr": Settings().training.lr}
    assert memorized_before(library, "m", asked) is None  # no single source: not reused, no refusal
    with pytest.raises(SystemExit, match="other settings"):
        memorized_before(library, "m", {**asked, "layers": "all"})
    with pytest.raises(SystemExit, match="other settings"):
        memorized_before(library, "m", {**asked, "rank": 16})
