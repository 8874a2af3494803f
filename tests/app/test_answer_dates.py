"""A when-question is answered with the date its supporting sentence gives, not the model's copy."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.answer.dates import asks_when, date_in
from app.answer.grounding import ground
from app.importers.chats import Message, render

# Written by the chat importer itself, so the stamps and pinned dates are in the app's own format.
CHAT, _ = render([
    Message("Jon", "Hey Gina! Yesterday I went to a fair to show off my studio. It was stressful.",
            datetime(2023, 4, 25, 11, 24)),
    Message("Gina", "Nice! I lost my job at Door Dash last month. I opened my store in 2019, on a whim.",
            datetime(2023, 4, 25, 11, 30)),
    Message("Jon", "Last week was wild. We met on 10 May 2023 at the studio.", datetime(2023, 6, 9, 19, 55)),
])


def span_of(sentence: str, passage: str = CHAT) -> tuple[int, int]:
    start = passage.index(sentence)
    return start, start + len(sentence)


@pytest.mark.parametrize(("sentence", "day"), [
    ("Yesterday [24 April 2023] I went to a fair to show off my studio.", "24 April 2023"),  # pinned
    ("It was stressful.", "25 April 2023"),  # nothing in it: the day its line was sent
    ("I lost my job at Door Dash last month [March 2023].", "March 2023"),
    ("I opened my store in 2019, on a whim.", "2019"),  # written in it
    ("Last week [the week before 9 June 2023] was wild.", "the week before 9 June 2023"),
    ("We met on 10 May 2023 at the studio.", "10 May 2023"),
])
def test_the_date_a_sentence_gives_is_pinned_written_or_its_line_s(sentence, day):
    assert sentence in CHAT, CHAT  # the importer wrote it so
    assert date_in(CHAT, span_of(sentence)) == day


def test_a_sentence_with_no_date_and_no_chat_line_gives_none():
    book = "The Tortoise plodded on. In the end he ran 1800 paces and won the race."
    assert date_in(book, span_of("The Tortoise plodded on.", book)) is None
    # a number is not a year unless something makes it one
    assert date_in(book, span_of("In the end he ran 1800 paces and won the race.", book)) is None


@pytest.mark.parametrize(("question", "when"), [
    ("When did Jon go to the fair?", True),
    ("When Gina has lost her job at Door Dash?", True),
    ("In which year did Gina open her store?", True),
    ("What date was the meeting?", True),
    ("What did Jon say when he left?", False),
    ("Who came to the fair?", False),
])
def test_questions_whose_answer_is_a_date(question, when):
    assert asks_when(question) is when


def no_score(passages, text):
    return -1.0


def test_a_when_question_is_answered_with_the_date_of_its_supporting_sentence():
    # the model replays a chat line, stamp and all: the answer becomes the date, the line is shown
    replayed = "[25 April 2023, 11:24 am] Jon: Hey Gina! Yesterday I went to a fair"
    grounded = ground("When did Jon go to a fair to show off his studio?", replayed, [CHAT], [-5.0], no_score)
    assert grounded.text == "24 April 2023. [1]"
    assert not grounded.abstained and grounded.cited == 0
    start, end = grounded.support
    assert CHAT[start:end] == "Yesterday [24 April 2023] I went to a fair to show off my studio."
    # a span is an answer too, capitalized as one
    assert ground("When was Jon's week wild?", "It was wild.", [CHAT], [-5.0], no_score).text \
        == "The week before 9 June 2023. [1]"


def test_other_questions_and_dateless_passages_keep_the_model_s_answer():
    answer = "Jon went to a fair to show off his studio."
    assert ground("Where did Jon go?", answer, [CHAT], [-5.0], no_score).text == answer + " [1]"
    story = "Maren Solberg kept the lighthouse light. Tobias came to the lighthouse in the storm."
    assert ground("When did Tobias come to the lighthouse?", "Tobias came in the storm.", [story], [-5.0],
                  no_score).text == "Tobias came in the storm. [1]"
    # an abstention stays one
    assert ground("When did Jon go to Rome?", "The text does not say.", [CHAT], [-5.0], no_score).abstained
