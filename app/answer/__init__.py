"""The answer pipeline: a question -> full-text candidates -> a prompt -> the memorized model's
answer -> grounding (support, citation, abstention) -> the answer shown and recorded.

    pipeline.py     run_answer (prepare, write, record) over a Session
    prompts.py      the prompt and the answer's token budget
    grounding.py    the cited passage, its supporting sentence, abstention
    attribution.py  a chat question asked of the wrong person
    dates.py        the date a when-question's supporting sentence gives
    compare.py      two answers written at once

Kept light: importing the package imports none of its modules (and no torch).
"""
