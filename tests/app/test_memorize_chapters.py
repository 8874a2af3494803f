"""Issue 14: choosing chapters (`locas list --sections`, `locas memorize --sections`), adding
the rest later, and the cost said before starting; fast, on a tiny model with a character
tokenizer standing in for the real one."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from engine_helpers import tiny_model

from app.cli import main
from app.memorize.estimate import Estimate, estimate, record_throughput
from app.memorize.sections import SectionChoiceError, parse_section_numbers
from app.settings import Settings, save_settings
from app.units import duration
from locas_engine import Memorizer, backbone_from_model
from locas_engine.spec import Specs

BOOK = "".join(f"CHAPTER {n}\n\n" + f"The {word} walked along the shore and counted stones. " * 4 + "\n\n"
               for n, word in zip(("ONE", "TWO", "THREE", "FOUR"), ("keeper", "boy", "engineer", "gull"), strict=True))


class CharTokenizer:
    """One token per character: counts are easy to check by hand."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [3 + ord(c) % 90 for c in text]}


@pytest.fixture
def tiny_app(monkeypatch, tmp_path):
    """The CLI on a tiny random model, small settings, and one four-chapter book (document 1)."""
    bb = backbone_from_model(tiny_model("llama"), tokenizer=CharTokenizer(), name="tiny")

    def backbone(self, precision=None):
        self._backbone = bb  # the session's memory registry is the backbone's
        return bb

    monkeypatch.setattr("app.session.Session.backbone", backbone)
    save_settings(Settings.of(rank=4, chunk=64, context=32, lr=1e-2, output_scale=0.25, checkpoint_every=2))
    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    assert main(["import", str(book)]) == 0
    return bb


@pytest.fixture
def fed(monkeypatch) -> list[int]:
    """The number of tokens of every stream handed to the memorizer."""
    counts: list[int] = []
    real = Memorizer.run

    def spy(self, token_ids, *args, **kwargs):
        if self.memory.name != "locas-calibration":  # the estimate's short trial
            counts.append(len(token_ids))
        return real(self, token_ids, *args, **kwargs)

    monkeypatch.setattr(Memorizer, "run", spy)
    return counts


def section_tokens(number: int) -> int:
    """Tokens of chapter ``number`` as the job memorizes it: title, blank line, text, blank line."""
    from app.library import Library

    with Library() as lib:
        s = lib.sections(1)[number - 1]
        return len(f"{s.title}\n\n{lib.section_text(s.id)}\n\n")


def test_section_numbers_take_ranges_and_lists():
    assert parse_section_numbers("3-5", 10) == [3, 4, 5]
    assert parse_section_numbers("1, 4,7-8,4", 10) == [1, 4, 7, 8]
    for bad, why in [("2-x", "not a list"), ("5-3", "backwards"), (",", "at least"),
                     ("9-12", "This document has 10 sections, 1-10: 11-12 are not among them"),
                     ("0,4,7-99", "10 sections, 1-10: 0, 11-99 are not among them")]:
        with pytest.raises(SectionChoiceError, match=why):
            parse_section_numbers(bad, 10)
    # what exists is named, never a list cut short ("sections 1-1; 3, 4, 5, 6, 7 are not")
    with pytest.raises(SectionChoiceError) as one:
        parse_section_numbers("3-10", 1, document_id=1)
    assert str(one.value) == ("This document has 1 section: 3-10 are not among them. "
                              "See: locas list --sections 1")
    with pytest.raises(SectionChoiceError, match="1 section: 2 is not among them"):
        parse_section_numbers("1-2", 1)


def test_chapters_chosen_now_and_the_rest_later(tiny_app, fed, capsys):
    assert main(["list", "--sections", "1"]) == 0
    out = capsys.readouterr().out
    assert "4 sections" in out and "\n1\t" in out and "CHAPTER FOUR" in out

    # Only chapters 2-3, with the cost said before anything is memorized.
    assert main(["memorize", "1", "--sections", "2-3", "--memory", "shore"]) == 0
    captured = capsys.readouterr()
    assert fed == [section_tokens(2) + section_tokens(3)]
    first_line = next(line for line in captured.err.splitlines() if line.startswith("Memorizing"))
    assert f"{fed[0]:,} tokens: about" in first_line
    assert main(["list", "--sections", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["memories"] for r in rows] == [[], ["shore"], ["shore"], []]

    # Asking for chapters it holds memorizes nothing; asking for the whole book adds the rest.
    assert main(["memorize", "1", "--sections", "3", "--memory", "shore"]) == 0
    assert "already holds these sections" in capsys.readouterr().out
    assert main(["memorize", "1", "--memory", "shore"]) == 0
    assert fed[1:] == [section_tokens(1) + section_tokens(4)]
    capsys.readouterr()
    assert main(["list", "--sections", "1", "--json"]) == 0
    assert all(r["memories"] == ["shore"] for r in json.loads(capsys.readouterr().out))

    # The runs measured this machine's speed: the next estimate says it comes from them.
    assert main(["memorize", "1", "--sections", "1-4", "--memory", "other", "--estimate"]) == 0
    out = capsys.readouterr().out
    total = sum(section_tokens(n) for n in range(1, 5))
    assert f"{total:,} tokens: about" in out and "measured here with these settings" in out
    assert len(fed) == 2  # --estimate memorized nothing


def test_a_memory_says_what_it_holds(tiny_app, fed, capsys):
    """Issue 29/30: after chapters 1-2 and then chapter 4, the memory holds chapters 1-2 and 4
    of 4 and the tokens of all three, not only the last run's (which was "Tokens: 1,156 of
    1,156"); a partly memorized book says so, in `memory show`, `memories` and their --json."""
    assert main(["memorize", "1", "--sections", "1-2", "--memory", "shore"]) == 0
    assert main(["memorize", "1", "--sections", "4", "--memory", "shore"]) == 0
    capsys.readouterr()
    held = section_tokens(1) + section_tokens(2) + section_tokens(4)
    assert fed == [section_tokens(1) + section_tokens(2), section_tokens(4)]

    assert main(["memory", "show", "shore"]) == 0
    out = capsys.readouterr().out
    assert f"holds: {held:,} tokens" in out
    assert f"source: [1] book: sections 1-2, 4 of 4, {held:,} tokens (partly memorized)" in out, out
    assert main(["memories"]) == 0
    out = capsys.readouterr().out
    assert f"{held:,} tokens held" in out and "sections 1-2, 4 of 4" in out
    assert "online perplexity" in out and "Online perplexity: how well the model predicted" in out
    assert "ppl " not in out  # a bare "ppl 40.07" said nothing of what it measures
    assert main(["memories", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["tokens_held"] == held and row["tokens_total"] == section_tokens(4)  # the last run
    assert row["sources"][0]["held"] == [1, 2, 4] and row["sources"][0]["partly"] is True

    assert main(["memorize", "1", "--memory", "shore"]) == 0  # the whole book: adds chapter 3
    capsys.readouterr()
    assert main(["memory", "show", "shore"]) == 0
    out = capsys.readouterr().out
    assert f"source: [1] book: all 4 sections, {held + section_tokens(3):,} tokens\n" in out, out


def test_sections_need_one_document(tiny_app, capsys):
    assert main(["memorize", "1", "1", "--sections", "2"]) == 1
    assert "exactly one DOC_ID" in capsys.readouterr().err


def test_estimate_prefers_what_was_measured_here():
    settings = Settings.of(precision="fp32", layers="all", rank=64, chunk=256, context=256, steps=1).specs
    rough = estimate(8000, "m", "cpu", settings, tokens_exact=False)
    assert rough.source == "rough" and "nothing measured here yet" in rough.describe()
    assert rough.describe().startswith("about 8,000 tokens")
    record_throughput("m", "cpu", [settings], tokens=5000, seconds=50.0)
    assert estimate(8000, "m", "cpu", settings).seconds == pytest.approx(80.0)
    other = Specs(replace(settings.memory, layers="10-29"), settings.training)
    similar = estimate(8000, "m", "cpu", other)
    assert similar.source == "similar" and similar.tokens_per_s == pytest.approx(100.0)
    assert estimate(8000, "m", "cuda", settings).source == "rough"
    assert Estimate(90, 1.0, "measured").describe().startswith("90 tokens: about 2 min")
    assert [duration(s) for s in (5, 125, 3900)] == ["5 s", "2 min", "1 h 05 min"]


def test_model_weights_follow_the_memorizing_precision(monkeypatch):
    """bf16 memorizing holds the model's weights in bf16 (autocast alone casts every weight at
    every call, which costs what bf16 saves); a running job pins its memory's precision."""
    from app.session import Session

    loads = []

    def fake_load(source, device="auto", dtype=None, name=None, cache_dir=None):
        loads.append({"bf16": torch.bfloat16, "fp32": torch.float32}[dtype])
        return backbone_from_model(tiny_model("llama").to(loads[-1]), tokenizer=CharTokenizer())

    monkeypatch.setattr("app.session.load_backbone", fake_load)
    session = Session(settings=Settings.of(device="cpu", precision="bf16"))
    assert session.backbone().dtype == torch.bfloat16
    assert session.backbone() is session.backbone() and len(loads) == 1
    session.pinned_precision = "fp32"  # a job resuming a memory made in fp32
    assert session.backbone().dtype == torch.float32
    session.pinned_precision = None
    assert session.backbone("fp32").dtype == torch.float32 and loads == [torch.bfloat16, torch.float32]
    session.library.close()


def test_a_memory_made_before_precision_was_recorded_keeps_fp32(tmp_path):
    from app.memorize.job import MemorizeRequest, choose_specs, stored_specs
    from app.memorize.paths import SPECS, memory_file
    from app.memorize.setup import auto_layers, resolve

    defaults = Settings.of(precision="auto").specs
    old = {"rank": 64, "init": "topk", "tau_scale": 64.0, "lr": 6e-3, "chunk": 256, "context": 256,
           "steps": 1, "layers": "all", "checkpoint_every": 8}  # no precision: made before it
    memory_file(tmp_path / "m", SPECS).write_text(json.dumps({"memory": old, "training": old}))
    row = {"name": "m", "path": str(tmp_path / "m")}
    own = stored_specs(row, "cpu")
    assert own.memory.output_scale == 1.0 and own.training.precision == "fp32"  # migrated once, here
    assert stored_specs(row, "cuda").training.precision == "bf16"  # as the memorizer did on CUDA
    request = MemorizeRequest(document_ids=[1], memory="m")
    bb = backbone_from_model(tiny_model("llama"))
    assert resolve(choose_specs(defaults, request, own), bb).training.precision == "fp32"
    new = choose_specs(defaults, request, None)
    assert resolve(new, bb).training.precision in ("bf16", "fp32")  # this machine's choice
    auto = Specs(replace(new.memory, layers="auto"), new.training)
    assert resolve(auto, bb).memory.layers == "all"  # a sixth of 3 layers is none
    assert new.memory.layers == "auto"  # the app's default: all but the lowest sixth
    assert auto_layers(30) == "5-29" and auto_layers(12) == "2-11"
