"""The text rules of an answer (``answer_text``): loops, the source's line format, preambles."""

from __future__ import annotations

from locas_engine.answer_text import (
    AnswerText,
    has_content,
    repeat_start,
    strip_preamble,
    trim_unfinished,
)


def run(text: str, source_line=None) -> AnswerText:
    """Feed ``text`` word by word, as a stream would, until a rule stops it."""
    answer = AnswerText(source_line)
    words = text.split(" ")
    for i in range(1, len(words) + 1):
        if answer.update(" ".join(words[:i])):
            break
    return answer


def test_the_hare_loop_is_cut_after_its_last_new_sentence():
    looping = ("The hare won the race. The Hare was defeated by the Lion. The Mouse was defeated by "
               "the Fox. " * 6).strip()
    answer = run(looping)
    assert answer.stopped_for == "loop"
    assert answer.final() == ("The hare won the race. The Hare was defeated by the Lion. "
                              "The Mouse was defeated by the Fox.")


def test_a_phrase_loop_without_sentences_is_cut_where_it_repeats():
    answer = run("selling his head to a peddler who is selling his head to a peddler who is")
    assert answer.final() == "selling his head to a peddler who is"
    assert repeat_start(answer.final()) is None


def test_a_loop_of_contractions_is_cut_as_the_bench_counts_it():
    """ "I'm" is two words to the bench's loop check (it counts LOOP_WORD too), so "I'm a painter"
    a third time is a 4-gram written a third time."""
    answer = run("Ana: I'm a sailor, and I'm a painter. I'm a painter and I'm a painter. [2]")
    assert answer.stopped_for == "loop"
    assert answer.final() == "Ana: I'm a sailor, and I'm a painter."


def test_a_new_line_in_the_sources_format_ends_the_answer():
    """The caller tells what a line of its source looks like (the app: app/answer/source_lines.py)."""
    stamped = "Ana went to the harbour.\n[3 May 2024, 9:05 am] Ana: I loved it"
    answer = run(stamped, source_line=lambda line: line.startswith("["))
    assert answer.stopped_for == "source-line"
    assert answer.final() == "Ana went to the harbour."
    assert run(stamped).stopped_for is None  # the engine holds no rule about any kind of text


def test_a_later_line_that_starts_the_answer_over_ends_it():
    """The book run's "The father promised each son one hundred gold pieces.\n\nThe answer is: 10."."""
    answer = run("The father promised each son one hundred gold pieces.\n\nThe answer is: 10.")
    assert answer.stopped_for == "source-line"
    assert answer.final() == "The father promised each son one hundred gold pieces."
    kept = "The answer lies in friendship.\nThe answer was kindness, he said."  # prose, no restart
    assert run(kept).stopped_for is None and run(kept).final() == kept
    assert run("The answer is: ten sons.").final() == "Ten sons."  # on the first line: a preamble


def test_a_list_marker_left_alone_is_dropped():
    answer = AnswerText()
    answer.update("1. Ben walks in the forest with his family\n2.")
    assert answer.final() == "1. Ben walks in the forest with his family"


def test_the_first_line_may_copy_a_date_stamp():
    # copying a passage's stamp answers "when" questions; only a *new* such line ends the answer
    answer = run("[4 May 2024, 6:55 pm] Ben went to the park", source_line=lambda line: line.startswith("["))
    assert answer.stopped_for is None and answer.final().startswith("[4 May 2024")


def test_a_preamble_is_not_an_answer():
    for preamble in ("The answer to this question is:", "Answer:", "Sure, the answer is", "  "):
        assert not has_content(preamble), preamble
    assert strip_preamble("The answer to this question is: the lion.") == "The lion."
    assert strip_preamble("The answer is Rome.") == "Rome."
    for prose in ("The answer lies in friendship.", "Answerable questions come first."):
        assert strip_preamble(prose) == prose and has_content(prose)
    answer = AnswerText()
    answer.update("The answer to this question is:")
    assert answer.final() == ""


def test_what_is_shown_is_never_taken_back():
    text = ("Ishmael goes to sea when he feels gloomy. He goes to sea when he feels gloomy "
            "and he goes to sea when")
    answer = AnswerText()
    shown = ""
    words = text.split(" ")
    for i in range(1, len(words) + 1):
        stop = answer.update(" ".join(words[:i]))
        if stop:
            break
        now = answer.shown()
        assert now.startswith(shown)
        shown = now
    assert answer.final(keep=len(shown)).startswith(shown)


def test_an_answer_cut_off_by_its_budget_ends_after_its_last_full_sentence():
    hare = ("The Tortoise won the race. The Hare was not the winner. The Tortoise was the one "
            "who put forth his full speed, while the Hare was the")
    assert trim_unfinished(hare) == "The Tortoise won the race. The Hare was not the winner."
    assert trim_unfinished("The Tortoise won the race.") == "The Tortoise won the race."
    assert trim_unfinished("13 October 2023") == "13 October 2023"  # no full sentence: kept
    assert trim_unfinished("Mr. Brown went to the") == "Mr. Brown went to the"  # "Mr." is no answer
    # no full stop, but not cut off either: the model ended it (short chat answers are like this)
    assert trim_unfinished("It was held at a school. It was on 9 June 2023") == \
        "It was held at a school. It was on 9 June 2023"
    assert trim_unfinished("1. 22 October 2023 2. 27 June 2023,") == "1. 22 October 2023 2. 27 June 2023,"


def test_an_answer_that_used_its_whole_budget_ends_on_a_full_sentence():
    # "climbed" is a word sentences end with; only the budget tells that the model was cut off
    steps = ("The lighthouse keeper was a woman named Maren Solberg, and she had kept the light for "
             "thirty-one winters. Every evening she climbed")
    assert trim_unfinished(steps) == steps  # the model may have ended it there
    assert trim_unfinished(steps, at_budget=True) == ("The lighthouse keeper was a woman named Maren "
                                                      "Solberg, and she had kept the light for thirty-one winters.")
    quoted = 'The Fox said: "The Grapes are sour, and not ripe as I thought."'
    assert trim_unfinished(quoted, at_budget=True) == quoted  # it ends a sentence: whole
    assert trim_unfinished("13 October 2023", at_budget=True) == "13 October 2023"  # nothing whole to keep
