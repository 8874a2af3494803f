"""`locas import | list | search | remove` through main([...])."""

from __future__ import annotations

import json

from app.cli import main


def test_import_list_search_remove(shared_data, tmp_path, capsys):
    book = shared_data / "books" / "childrens-literature.epub"
    chat = shared_data / "chats" / "locomo-conv30.json"
    assert main(["import", str(book), str(tmp_path / "missing.txt"), str(chat)]) == 1
    out, err = capsys.readouterr()
    lines = out.strip().split("\n")
    assert lines[0].split("\t") == ["1", "Children's Literature", "book", "21 sections", "292724 characters"]
    assert lines[1].startswith("2\tConversation of Jon and Gina\tchat\t19 sections")
    assert err.strip() == "Could not import missing.txt: the file does not exist."

    assert main(["import", str(book)]) == 0
    assert "already in the library" in capsys.readouterr().out

    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["kind"]) for r in rows] == [(1, "book"), (2, "chat")]

    assert main(["list"]) == 0
    assert "Children's Literature — Charles Madison Curry" in capsys.readouterr().out

    assert main(["search", '"real princess"', "--doc", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[doc 1] Children's Literature › 192 THE REAL PRINCESS")
    assert main(["search", "xyzzy plugh", "--doc", "1"]) == 0
    assert capsys.readouterr().out.strip() == "No passages found."
    assert main(["search", "x", "--doc", "7"]) == 1
    assert capsys.readouterr().err.strip() == "There is no document 7 in the library."

    assert main(["remove", "1"]) == 0
    assert capsys.readouterr().out.strip() == "Removed 1: Children's Literature"
    assert main(["remove", "1"]) == 1
    assert capsys.readouterr().err.strip() == "There is no document 1 in the library."


def test_empty_list_and_no_command(capsys):
    assert main(["list"]) == 0
    assert "library is empty" in capsys.readouterr().out
    assert main([]) == 2
