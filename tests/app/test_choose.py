"""Choice and yes/no questions: the options, the answer sentences, the memorized model's choice."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import app.answer.choose as choose_module
from app.answer.choose import (
    choice_options,
    choose,
    option_sentences,
    question_form,
    score_candidates,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from engine_helpers import CharTokenizer, tiny_model  # noqa: E402


@pytest.mark.parametrize(("question", "options"), [
    ("Who won the race, the hare or the tortoise?", ["the hare", "the tortoise"]),
    ("Were the grapes red, green or black?", ["red", "green", "black"]),
    ("What did the Ugly Duckling turn out to be: a duck, a turkey or a swan?", ["a duck", "a turkey", "a swan"]),
    ("What happened to the Dryad's oak in the end: was it cut down, or blown down by a storm?",
     ["cut down", "blown down by a storm"]),
    ("Did Fairyfoot follow a stream or the ground-ivy to reach Princess Maybloom's city?",
     ["a stream", "the ground-ivy"]),
    ("Should a purely decorative image have an empty alt attribute or no alt attribute at all?",
     ["an empty alt attribute", "no alt attribute"]),
    ("Which brother set out for the Golden River first, Hans or Schwartz?", ["Hans", "Schwartz"]),
    ("What activities has Melanie done with her family or friends?", []),  # one thing, not a choice
    ("Who won the race?", []),
])
def test_the_options_a_question_names(question, options):
    assert choice_options(question) == options


def test_question_forms():
    assert question_form("Did the Mouse keep its promise?").kind == "polar"
    assert question_form("Would Melanie go to a national park or a theme park?").options == (
        "a national park", "a theme park")
    assert question_form("Why did the Hare lose?").kind == "open"


def test_option_sentences_keep_the_drafts_wording():
    assert option_sentences(("the hare", "the tortoise"), "The Tortoise won the race. It was slow.") == [
        "The hare won the race.", "The tortoise won the race."]
    assert option_sentences(("red", "black"), "I do not know.") == ["Red.", "Black."]
    assert option_sentences(("Hans", "Schwartz"), "Hans and Schwartz left.") == ["Hans.", "Schwartz."]


def test_the_choice_follows_what_the_passages_raise(monkeypatch):
    # with the passages "The Hare ..." is likelier, but it is as likely without them: the habit of
    # the model. "The Tortoise ..." is what the passages raise.
    scores = {"The hare won the race.": (-4.0, -4.5), "The tortoise won the race.": (-5.0, -8.0)}
    monkeypatch.setattr(choose_module, "score_candidates", lambda b, w, wo, texts: [scores[t] for t in texts])
    form = question_form("Who won the race, the hare or the tortoise?")
    by_gain = choose(None, form, "The Hare won the race.", [], [], by="gain")
    assert by_gain.text == "The tortoise won the race." and by_gain.origin == "option"
    assert choose(None, form, "The Hare won the race.", [], [], by="with").origin == "draft"  # the draft stands
    assert choose(None, question_form("Who won?"), "The Hare.", [], [], by="gain") is None  # open: the draft stands
    assert choose(None, form, "The Hare won the race.", [], [], by="") is None  # switched off


def test_yes_or_no_keeps_a_draft_that_says_it(monkeypatch):
    monkeypatch.setattr(choose_module, "score_candidates", lambda b, w, wo, texts: [(-1.0, -3.0), (-2.0, -2.0)])
    monkeypatch.setattr(choose_module, "CHOOSE_BY", "gain")
    form = question_form("Did the Mouse keep its promise?")
    assert choose(None, form, "Yes, the Mouse set him free.", [], []).text == "Yes, the Mouse set him free."
    said_no = choose(None, form, "No, it did not.", [], [])
    assert said_no.text == "Yes." and said_no.origin == "yes-no"


def test_candidates_are_scored_with_and_without_the_passages():
    from locas_engine import backbone_from_model

    backbone = backbone_from_model(tiny_model("llama"), name="tiny")
    backbone.tokenizer = CharTokenizer()
    with_passages = [{"role": "user", "content": "Passages: the tortoise won. Question: who won?"}]
    alone = [{"role": "user", "content": "Question: who won?"}]
    scored = score_candidates(backbone, with_passages, alone, ["Hare.", "Tortoise."])

    def alone_score(messages, text):
        prompt = "\n\n".join(m["content"] for m in messages) + "\n"
        ids = CharTokenizer()(prompt + text)["input_ids"]
        n = len(CharTokenizer()(prompt)["input_ids"])
        logp = torch.log_softmax(backbone.model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
        return sum(float(logp[i - 1, ids[i]]) for i in range(n, len(ids)))

    for (w, wo), text in zip(scored, ["Hare.", "Tortoise."], strict=True):
        assert w == pytest.approx(alone_score(with_passages, text), abs=1e-3)
        assert wo == pytest.approx(alone_score(alone, text), abs=1e-3)


def test_the_writer_shows_the_models_choice_with_its_support(monkeypatch):
    """A choice question: the draft names the hare, the passages raise the tortoise; the answer
    shown is the chosen option in the draft's own words, grounded in its passage."""
    import time
    from types import SimpleNamespace

    import app.answer.pipeline as pipeline
    from app.answer.pipeline import AnswerRequest, PreparedAnswer, write_answer
    from app.library.records import Passage

    hare = "The Hare slept by the wayside. The Tortoise plodded on and won the race."
    passage = Passage(1, "Fables", 1, "The Hare", 0, 0, 0, len(hare), hare, hare, -5.0)
    question = "Who won the race, the hare or the tortoise?"

    def fake_stream(backbone, messages, max_new_tokens, logprobs, **_):
        logprobs.append(-0.1)
        yield "The Hare won the race."

    def fake_scores(backbone, with_messages, without_messages, texts):
        return [(-4.0, -4.5) if "hare" in t.lower() else (-5.0, -8.0) for t in texts]

    monkeypatch.setattr(pipeline, "stream_generate", fake_stream)
    monkeypatch.setattr(choose_module, "score_candidates", fake_scores)
    monkeypatch.setattr(choose_module, "CHOOSE_BY", "gain")
    prepared = PreparedAnswer(request=AnswerRequest(question=question), question=question,
                              backbone=SimpleNamespace(memories={}), citations=[passage], messages=[],
                              memories=[], route=None, started=time.perf_counter())
    answer = write_answer(prepared)
    assert answer.text == "The tortoise won the race. [1]" and answer.chosen == "option"
    assert answer.draft == "The Hare won the race."
    assert hare[answer.support[0]:answer.support[1]] == "The Tortoise plodded on and won the race."
    assert [c["text"] for c in answer.evidence["candidates"]] == ["The hare won the race.",
                                                                  "The tortoise won the race."]


def test_quote_candidates_are_the_best_passages_statements():
    from app.answer.choose import quote_candidates

    passages = ["THE HARE\nHe slept. Did he wake? The Tortoise won the race.", "Fox ate.",
                "A third passage is not read."]
    found = quote_candidates(passages, k=2)
    assert [t for _, _, t in found] == ["The Tortoise won the race."]  # headings, questions, short ones out
    i, (start, end), _ = found[0]
    assert passages[i][start:end] == "The Tortoise won the race."


def test_the_quote_is_the_sentence_the_question_raises_most(monkeypatch):
    """Scored with the passages both times, with and without the question: the gain is the
    question's alone, so a sentence that is merely easy to copy does not win."""
    from locas_engine import backbone_from_model

    backbone = backbone_from_model(tiny_model("llama"), name="tiny")
    backbone.tokenizer = CharTokenizer()
    passages = ["The hare slept by the road. The tortoise won the race.", "The fox saw black grapes."]
    quote = choose_module.best_quote(backbone, "who won the race", passages)
    from app.answer.prompts import build_messages
    from locas_engine.generate import prompt_ids
    from locas_engine.score import score_pairs

    gains = {}
    for _, _, text in choose_module.quote_candidates(passages):
        target = CharTokenizer()(text)["input_ids"]
        asked, neutral = (prompt_ids(backbone, build_messages(q, passages))[0].tolist()
                          for q in ("who won the race", choose_module.QUOTE_INSTRUCTION))
        (a, b) = score_pairs(backbone, [(asked, target)]) + score_pairs(backbone, [(neutral, target)])
        gains[text] = sum(a) - sum(b)
    assert quote.text == max(gains, key=gains.get)
    assert quote.gain == pytest.approx(gains[quote.text], abs=1e-3)
    assert passages[quote.passage][quote.span[0]:quote.span[1]] == quote.text


def test_the_quote_rule_shows_the_models_sentence_labelled(monkeypatch):
    import time
    from types import SimpleNamespace

    import app.answer.pipeline as pipeline
    from app.answer.pipeline import AnswerRequest, PreparedAnswer, write_answer
    from app.library.records import Passage

    text = "The Hare slept by the wayside. The Tortoise plodded on and won the race."
    passage = Passage(1, "Fables", 1, "The Hare", 0, 0, 0, len(text), text, text, -5.0)

    def fake_stream(backbone, messages, max_new_tokens, logprobs, **_):
        logprobs.append(-0.1)
        yield "The Lion won it all."  # its own words are not in the passage

    monkeypatch.setattr(pipeline, "stream_generate", fake_stream)
    start = text.index("The Tortoise")
    monkeypatch.setattr(pipeline, "best_quote", lambda *a: choose_module.Quote(0, (start, len(text)),
                                                                               text[start:], 3.0))

    def ask(rule):
        monkeypatch.setattr(choose_module, "SHOW_QUOTE", rule)
        question = "Who won the race?"
        return write_answer(PreparedAnswer(request=AnswerRequest(question=question), question=question,
                                           backbone=SimpleNamespace(memories={}), citations=[passage],
                                           messages=[], memories=[], route=None, started=time.perf_counter()))

    assert ask("never").text == "The Lion won it all. [1]"
    quoted = ask("unsupported")
    assert quoted.chosen == "quote" and quoted.text == "The Tortoise plodded on and won the race. [1]"
    assert quoted.draft == "The Lion won it all." and quoted.support == (start, len(text))
