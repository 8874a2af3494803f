"""A question that asks of one person what the chat says of the other is answered "the text does
not say", with the line that says whom it was (issue 18, abstention on LoCoMo's category 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.answer.attribution import misattributed
from app.answer.pipeline import AnswerRequest, run_answer
from app.bench.attribution import measure, wilson
from app.bench.scoring import abstained
from app.library import Library
from app.session import Session
from app.settings import Settings

CHAT = ("[25 May 2023, 1:14 pm] Melanie: I ran a charity race for mental health last Saturday. "
        "It made me realize that self-care is important.\n"
        "[25 May 2023, 1:15 pm] Caroline: I'm so proud of that! My week was quiet, I painted a lake.\n")


def test_a_question_about_the_other_speaker_is_misattributed():
    found = misattributed("What did Caroline realize after her charity race?", ["Unrelated passage.", CHAT])
    assert found is not None
    assert (found.asked, found.said_of, found.passage) == ("Caroline", "Melanie", 1)
    line = CHAT[found.span[0]:found.span[1]]
    assert line.startswith("[25 May 2023, 1:14 pm] Melanie: I ran a charity race")
    assert abstained(found.sentence())  # the bench and a reader read it as an abstention
    assert "of Melanie, not of Caroline [2]" in found.sentence()


def test_a_question_about_the_right_speaker_is_not():
    assert misattributed("What did Melanie realize after her charity race?", [CHAT]) is None
    assert misattributed("What did Caroline paint?", [CHAT]) is None


def test_a_line_that_only_says_you_is_about_the_other_person():
    said_to = ("[1 June 2023, 9:00 am] Caroline: You ran a charity race last Saturday!\n"
               "[1 June 2023, 9:01 am] Melanie: Thanks, it was a hot day.\n")
    found = misattributed("Why did Caroline run a charity race?", [said_to])
    assert found is not None and found.said_of == "Melanie"
    assert misattributed("Why did Melanie run a charity race?", [said_to]) is None


@pytest.mark.parametrize("passages, question", [
    (["The hare ran a race against the tortoise. The tortoise won."], "Who won the race?"),  # no chat
    ([CHAT], "What did Caroline and Melanie realize after the charity race?"),  # names both
    (["Then he said to the old Queen: I ran the race myself.\nCaroline: I ran home."],  # prose, one speaker
     "Why did Caroline run the race?"),
])
def test_no_check_without_a_chat_and_one_name(passages, question):
    assert misattributed(question, passages) is None


def test_in_a_group_chat_the_line_says_which_of_the_others_it_was():
    group = CHAT + "[25 May 2023, 1:16 pm] Jon: I only watched the race, and I got sunburnt.\n"
    found = misattributed("What did Caroline realize after the race?", [group])
    assert found is not None and (found.asked, found.said_of) == ("Caroline", "Melanie")
    found = misattributed("Did Caroline get sunburnt watching the race?", [group])  # Jon did
    assert found is not None and found.said_of == "Jon"
    assert misattributed("What did Jon get at the race?", [group]) is None  # asked of the right one
    # "you" has no one meaning among three: a line that only says "you" is about no one
    told = group + "[25 May 2023, 1:17 pm] Caroline: You should paint the lake next.\n"
    assert misattributed("What should Jon paint next?", [told]) is None


def locomo_file(tmp_path: Path) -> Path:
    """A LoCoMo-format conversation with one unanswerable (category 5) and one answerable question."""
    turns = [{"speaker": "Melanie", "dia_id": "D1:1",
              "text": "I ran a charity race for mental health last Saturday. It made me realize self-care is important."},
             {"speaker": "Caroline", "dia_id": "D1:2", "text": "I'm so proud of that! My week was quiet, I painted a lake."}]
    conv = {"speaker_a": "Melanie", "speaker_b": "Caroline", "session_1_date_time": "1:14 pm on 25 May, 2023",
            "session_1": turns,
            "qa": [{"question": "What did Caroline realize after her charity race?", "category": 5,
                    "evidence": ["D1:1"], "adversarial_answer": "self-care is important"},
                   {"question": "What did Melanie realize after her charity race?", "category": 4,
                    "evidence": ["D1:1"], "answer": "self-care is important"}]}
    path = tmp_path / "locomo-tiny.json"
    path.write_text(json.dumps({"conversation": conv, **conv}), encoding="utf-8")
    return path


def test_the_bench_counts_abstentions_per_kind_of_question(tmp_path):
    report = measure([locomo_file(tmp_path)], passages=4)
    row = report["table"][0]
    assert (row["abstain_unanswerable"]["hits"], row["abstain_unanswerable"]["n"]) == (1, 1)
    assert (row["false_abstain"]["hits"], row["false_abstain"]["n"]) == (0, 1)
    low, high = wilson(1, 1)
    assert 0.0 < low < 1.0 and high == 1.0


@pytest.fixture
def session(tmp_path):
    from engine_helpers import CharTokenizer, tiny_model

    from locas_engine import backbone_from_model

    s = Session(library=Library(), settings=Settings.of(max_new_tokens=8, passages=4, device="cpu"))
    s.use_backbone(backbone_from_model(tiny_model("llama"), tokenizer=CharTokenizer(), name="tiny"))
    s.library.import_file(locomo_file(tmp_path))
    yield s
    s.library.close()


def test_the_app_answers_a_misattributed_question_without_writing(session):
    written: list[str] = []
    answer = run_answer(session, AnswerRequest(question="What did Caroline realize after her charity race?",
                                               use_memory=False, max_new_tokens=8), on_token=written.append)
    assert written == [] and answer.draft == ""  # no guess about the wrong person was streamed
    assert answer.abstained and "It says this of Melanie, not of Caroline" in answer.text
    line = answer.citations[answer.cited].text[answer.support[0]:answer.support[1]]
    assert "Melanie: I ran a charity race" in line  # the line a reader checks, highlighted

    asked_right = run_answer(session, AnswerRequest(question="What did Melanie realize after her charity race?",
                                                    use_memory=False, max_new_tokens=8), on_token=written.append)
    assert written and not asked_right.text.startswith("The text does not say. It says this of")
