"""Grounding: the passage an answer rests on, its supporting sentence, and abstention."""

from __future__ import annotations

from app.answer.grounding import (
    ABSTAIN_TEXT,
    Evidence,
    cited_passage,
    ground,
    should_abstain,
    strip_citations,
    supporting_sentence,
    with_citation,
)
from app.answer.prompts import SHORT_ANSWER_TOKENS, answer_budget
from app.bench.answer_checks import answer_checks, contradicts, max_ngram_repeats

HARE = ("The Hare laughed at the Tortoise. They agreed to race. The Hare lay down to sleep. "
        "The Tortoise plodded on and won the race. Slow and steady wins.")
MOUSE = "The Lion caught a Mouse. The Mouse gnawed the net and set the Lion free."


def test_the_answer_cites_the_passage_it_rests_on():
    assert cited_passage("The Mouse set him free.", [HARE, MOUSE]) == 1
    assert cited_passage("As [1] says, the tortoise.", [MOUSE, HARE]) == 0  # a valid [n] wins
    assert cited_passage("See [7]: the tortoise won.", [MOUSE, HARE]) == 1  # an invalid one is ignored
    assert cited_passage("anything", []) is None
    assert with_citation("The tortoise won.", 0) == "The tortoise won. [1]"
    assert with_citation("The tortoise won [2].", 0) == "The tortoise won [2]."
    assert strip_citations("The tortoise won. [1]") == "The tortoise won."


def test_the_supporting_sentence_is_the_one_that_backs_the_answer():
    start, end = supporting_sentence(HARE, "Who won the race?", "The tortoise won the race.")
    assert HARE[start:end] == "The Tortoise plodded on and won the race."
    # an answer's incidental words do not outweigh what was asked
    start, end = supporting_sentence(HARE, "Who won the race?", "The tortoise won, the hare laughed.")
    assert HARE[start:end] == "The Tortoise plodded on and won the race."


def evidence(**kw) -> Evidence:
    base = dict(retrieval=5.0, question_coverage=1.0, answer_support=1.0, lp_with=-1.0, lp_without=-3.0)
    return Evidence(**{**base, **kw})


def test_the_supporting_sentence_matches_words_whatever_their_form():
    passage = "The gold glittered in the hall. She opened the box of gold. It held frogs."
    start, end = supporting_sentence(passage, "What was in the gold boxes?", "")
    assert passage[start:end] == "She opened the box of gold."  # "boxes" is "box"
    start, end = supporting_sentence(passage, "What did she find opening it?", "")
    assert passage[start:end] == "She opened the box of gold."  # "opening" is "opened"


def test_abstention_follows_the_calibrated_rule():
    rule = {"bias": 1.0, "lp_gain": -1.0}  # abstain unless the passages raise the answer's likelihood by > 1
    assert not should_abstain(evidence(), rule)
    assert should_abstain(evidence(lp_with=-3.0), rule)
    assert not should_abstain(evidence(lp_with=-3.0), {})  # no rule: never


def test_ground_marks_the_passage_and_never_leaves_an_answer_empty():
    calls = []

    def logprob(passages, text):
        calls.append((len(passages), text))
        return -1.0 if passages else -2.0

    grounded = ground("Who won the race?", "The tortoise won.", [MOUSE, HARE], [-3.0, -5.0], logprob,
                      full_evidence=True)
    assert grounded.text == "The tortoise won. [2]" and grounded.cited == 1 and not grounded.abstained
    start, end = grounded.support
    assert HARE[start:end] == "The Tortoise plodded on and won the race."
    assert grounded.evidence["retrieval"] == 5.0 and grounded.evidence["lp_gain"] == 1.0
    assert calls == [(2, "The tortoise won."), (0, "The tortoise won.")]
    # A reader's answer pays no pass without the passages while no rule reads that score.
    calls.clear()
    plain = ground("Who won the race?", "The tortoise won.", [MOUSE, HARE], [-3.0, -5.0], logprob)
    assert calls == [(2, "The tortoise won.")] and "lp_gain" not in plain.evidence
    assert plain.text == grounded.text
    empty = ground("Who won?", "", [HARE], [-1.0], logprob)
    assert empty.text == ABSTAIN_TEXT and empty.abstained
    assert ground("Who won?", "The tortoise.", [], [], logprob).text == "The tortoise."


def test_answers_fit_the_question():
    assert answer_budget("When did Ana adopt her cat?", 200) == SHORT_ANSWER_TOKENS
    assert answer_budget("Why does Ishmael go to sea?", 200) == 200
    assert answer_budget("Who?", 8) == 8


def test_the_bench_checks_loops_and_contradictions():
    assert max_ngram_repeats("the story of the story of the story of the story") == 3
    assert contradicts("The hare won the race.", "the Tortoise", HARE)
    assert not contradicts("The tortoise won.", "the Tortoise", HARE)
    assert not contradicts("The hare won.", "the Tortoise", MOUSE)  # the passage does not hold it
    answers = [
        {"mode": "m", "category": "adversarial", "prediction": ABSTAIN_TEXT},
        {"mode": "m", "category": "adversarial", "prediction": "Cake."},
        {"mode": "m", "category": "single-hop", "prediction": "The hare won [1]", "contradicts": True},
        {"mode": "m", "category": "single-hop", "prediction": "go go go go go go go go go go go go"},
    ]
    check = answer_checks(answers, ["m"])[0]
    assert check["abstain_unanswerable"] == 0.5 and check["false_abstain"] == 0.0
    assert check["loops"] == 1 and check["contradicts"] == 1.0


def test_a_right_answer_made_of_the_questions_words_is_never_replaced():
    """Issue 28: "The Tortoise won the race." for "Who won the race, the hare or the tortoise?"
    adds no word beyond the question's, and the prefer-passage rule replaced it with "A Hare one
    day ridiculed ...". The model's answer is shown as it wrote it."""
    for question in ("Who won the race, the hare or the tortoise?", "Who won the race?"):
        grounded = ground(question, "The Tortoise won the race.", [HARE], [-5.0], lambda ps, t: -1.0)
        assert grounded.text == "The Tortoise won the race. [1]" and not grounded.quote
    # a wrong answer is not swapped for a passage's sentence either: the reader sees what the
    # model said, with the sentence it rests on beside it
    wrong = ground("Who won the race?", "The Lion won the race.", [HARE], [-5.0], lambda ps, t: -1.0)
    assert wrong.text == "The Lion won the race. [1]"
    start, end = wrong.support
    assert HARE[start:end] == "The Tortoise plodded on and won the race."


def test_a_question_in_the_passage_is_not_what_supports_an_answer():
    chat = ("[1 May 2023] Caroline: You play any instruments?\n"
            "[1 May 2023] Melanie: Yes, I play the clarinet and the violin.\n")
    start, end = supporting_sentence(chat, "What instruments does Melanie play?", "")
    assert chat[start:end] == "[1 May 2023] Melanie: Yes, I play the clarinet and the violin."
    book = "THE REAL PRINCESS\nThere was once a Prince who wished to marry a real Princess."
    start, end = supporting_sentence(book, "Who was the real Princess?", "")
    assert book[start:end] == "There was once a Prince who wished to marry a real Princess."  # not the title
    only_questions = "Do you sing? Which instruments do you play?"
    start, end = supporting_sentence(only_questions, "Which instruments does Melanie play?", "")
    assert only_questions[start:end] == "Which instruments do you play?"  # nothing better: the best match


def test_an_answer_cut_off_by_its_budget_is_shown_to_its_last_full_sentence():
    # the hare answer, cut by the 32-token budget of a "who" question
    draft = ("The Tortoise won the race. The Hare was not the winner. The Tortoise was the one "
             "who plodded on, while the Hare was the [1]")
    grounded = ground("Who won the race?", draft, [HARE], [-5.0], lambda passages, text: -1.0)
    assert grounded.text == "The Tortoise won the race. The Hare was not the winner. [1]"
    assert ground("Who won?", "The tortoise won. The hare was", [], [], None).text == "The tortoise won."


def test_an_answer_that_says_the_text_does_not_say_is_an_abstention_not_a_passage():
    """The model's honest "the passage does not say" is shown in the app's words."""
    said = ("The passage contains a list of races, but it does not provide any information about "
            "the hare's age. The passage does not mention it.")
    grounded = ground("How old was the hare?", said, [HARE], [-5.0], lambda ps, t: -1.0)
    assert grounded.abstained and grounded.text == ABSTAIN_TEXT
    for honest in ("The text doesn't say.", "There is no information about his age in the passages."):
        assert ground("How old was the hare?", honest, [HARE], [-5.0], lambda ps, t: -1.0).abstained
    for answer in ("She did not say goodbye.", "The Tortoise won the race."):  # answers, not abstentions
        assert not ground("Who won the race?", answer, [HARE], [-5.0], lambda ps, t: -1.0).abstained


def test_a_rule_that_reads_the_score_without_passages_gets_it(monkeypatch):
    import app.answer.grounding as grounding

    monkeypatch.setattr(grounding, "ABSTAIN_RULE", {"bias": 1.0, "lp_gain": -1.0})
    calls = []

    def logprob(passages, text):
        calls.append(len(passages))
        return -3.0 if passages else -2.0  # the passages make the answer less likely: abstain

    grounded = ground("Who won the race?", "The tortoise won.", [HARE], [-5.0], logprob)
    assert calls == [1, 0] and grounded.abstained and grounded.evidence["lp_gain"] == -1.0
    # "The text does not say." has no supporting sentence: the window and `locas ask` show a
    # support whenever an answer carries one, so an abstention must not carry the answer's
    assert grounded.cited == 0 and grounded.support is None
