"""`locas memory ...` as a person uses it: export into a folder, never overwriting unasked, with
the current name; delete asks first; every subcommand says what it does."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import build_parser, main
from app.library import Library


def finished_memory(name: str) -> Path:
    """A memory row with finished files, as memorizing leaves them (no model needed)."""
    from app.paths import memories_dir

    with Library() as lib:
        lib.create_memory(name)
        path = memories_dir() / f"1-{name}"
        lib.update_memory(name, path=str(path), status="done", tokens_done=4096, tokens_total=4096)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".safetensors").write_bytes(b"tensors of " + name.encode())
    path.with_suffix(".json").write_text(json.dumps({"name": name, "format": 1}), encoding="utf-8")
    return path


def test_export_into_an_existing_folder_or_a_path_ending_in_a_slash(tmp_path, capsys):
    finished_memory("kids-lit")
    folder = tmp_path / "exports"
    folder.mkdir()
    assert main(["memory", "export", "kids-lit", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["kids-lit.json", "kids-lit.safetensors"]
    assert not (tmp_path / "exports.safetensors").exists()
    assert main(["memory", "export", "kids-lit", f"{tmp_path / 'new'}/"]) == 0
    assert (tmp_path / "new" / "kids-lit.safetensors").read_bytes() == b"tensors of kids-lit"
    assert main(["memory", "export", "kids-lit", str(tmp_path / "named.safetensors")]) == 0
    assert (tmp_path / "named.json").is_file()


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    finished_memory("kids-lit")
    (tmp_path / "kids-lit.safetensors").write_bytes(b"someone else's export")
    assert main(["memory", "export", "kids-lit", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert (tmp_path / "kids-lit.safetensors").read_bytes() == b"someone else's export"
    assert not (tmp_path / "kids-lit.json").exists()
    assert main(["memory", "export", "kids-lit", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "kids-lit.safetensors").read_bytes() == b"tensors of kids-lit"


def test_exported_json_carries_the_name_after_a_rename(tmp_path):
    finished_memory("draft")
    assert main(["memory", "rename", "draft", "moby-dick"]) == 0
    assert main(["memory", "export", "moby-dick", f"{tmp_path}/"]) == 0
    meta = json.loads((tmp_path / "moby-dick.json").read_text(encoding="utf-8"))
    assert meta["name"] == "moby-dick" and meta["format"] == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def memory_names() -> list[str]:
    with Library() as lib:
        return [m["name"] for m in lib.list_memories()]


@pytest.mark.parametrize("typed, kept", [("n\n", True), ("\n", True), ("yes\n", False), ("y\n", False)])
def test_delete_asks_on_a_terminal(monkeypatch, capsys, typed, kept):
    path = finished_memory("long-one")
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    status = main(["memory", "delete", "long-one"])
    assert "Delete memory 'long-one'" in capsys.readouterr().err
    assert (memory_names() == ["long-one"]) is kept
    assert path.with_suffix(".safetensors").exists() is kept
    assert status == (1 if kept else 0)


def test_delete_without_a_terminal_needs_yes(monkeypatch, capsys):
    finished_memory("long-one")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is not a person answering
    assert main(["memory", "delete", "long-one"]) == 1
    assert "add --yes" in capsys.readouterr().err
    assert memory_names() == ["long-one"]
    assert main(["memory", "delete", "long-one", "--yes"]) == 0
    assert memory_names() == []


def test_every_memory_subcommand_has_help(capsys):
    parser = build_parser()
    memory = parser._subparsers._group_actions[0].choices["memory"]
    actions = memory._subparsers._group_actions[0]
    assert actions.choices, "no memory subcommands"
    missing = [a.dest for a in actions._choices_actions if not a.help]
    listed = {a.dest for a in actions._choices_actions}
    assert not missing and listed == set(actions.choices), (missing, listed)
    with pytest.raises(SystemExit):
        main(["memory", "--help"])
    out = capsys.readouterr().out
    for a in actions._choices_actions:
        assert a.help in out
