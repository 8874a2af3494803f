"""Who decides where an answer ends when a memory is on (``generate_ids``)."""

from __future__ import annotations

import pytest
from engine_helpers import token_stream

from locas_engine import MemorySpec, attach_memory, only_enabled
from locas_engine.answer_text import repeat_start
from locas_engine.generate import generate_ids, stream_generate

ANSWER_CAP = 12
EOT = 2  # the tiny configs' eos id
PROMPT_LEN = 20


@pytest.fixture
def memorized(tiny_llama, randomize_values):
    """A tiny backbone whose memory visibly changes the greedy answer."""
    memory = attach_memory(tiny_llama, MemorySpec(rank=8, output_scale=2), name="m")
    randomize_values(memory, scale=2.0)
    return tiny_llama, memory


def memory_rows(backbone, batch: int) -> list[bool]:
    """Whether some memory is on, in each row of a forward pass run now (the answer and the
    plain model can share one pass, as two rows)."""
    rows = [False] * batch
    for memory in backbone.memories.values():
        rows = [a or b for a, b in zip(rows, memory.rows_on(batch), strict=True)]
    return rows


def positions_read(backbone) -> dict[bool, int]:
    """Positions of the sequence read so far by rows with a memory on (True) and off (False):
    the prompt, then one per token. (The output layer sees only the last position.)"""
    read = {True: 0, False: 0}

    def hook(module, args):
        for on in memory_rows(backbone, args[0].shape[0]):
            read[on] += args[0].shape[1]

    backbone.model.get_input_embeddings().register_forward_pre_hook(hook)
    return read


def plain_model_ends_after(backbone, answered: int, prompt_len: int = PROMPT_LEN):
    """Make the plain model (every memory off) want to end once it has read ``answered`` tokens
    of the answer, by raising its end-of-turn logit there; returns the forward passes seen,
    each as its rows' memory switches. Rows with a memory on are left alone."""
    passes: list[list[bool]] = []
    read = positions_read(backbone)

    def hook(module, args, logits):
        rows = memory_rows(backbone, logits.shape[0])
        passes.append(rows)
        if read[False] == prompt_len + answered:
            logits = logits.clone()
            for row, on in enumerate(rows):
                if not on:
                    logits[row, ..., EOT] = 1e4
        return logits

    backbone.model.get_output_embeddings().register_forward_hook(hook)
    return passes


def answer(backbone, plain_ending: bool) -> list[int]:
    prompt = token_stream(PROMPT_LEN)[None, :]
    return list(generate_ids(backbone, prompt, {EOT}, ANSWER_CAP, plain_ending=plain_ending))


def test_with_a_memory_the_plain_model_decides_where_the_answer_ends(memorized):
    backbone, memory = memorized
    free = answer(backbone, plain_ending=False)
    assert len(free) == ANSWER_CAP and EOT not in free  # the memory alone talks to the cap
    with only_enabled(backbone.memories, []):
        assert answer(backbone, plain_ending=False) != free  # the memory chose these tokens

    plain_model_ends_after(backbone, answered=5)
    ended = answer(backbone, plain_ending=True)
    assert ended == free[:5]  # the memory's tokens, cut where the plain model would end

    assert answer(backbone, plain_ending=False) == free  # the ablation ignores the plain model


def test_without_a_memory_there_is_no_second_pass(memorized):
    backbone, memory = memorized
    passes = plain_model_ends_after(backbone, answered=5)
    with only_enabled(backbone.memories, []):
        ended = answer(backbone, plain_ending=True)
    assert len(ended) == 5
    assert passes == [[False]] * 6  # the prompt, then one pass per token: nothing doubled


def test_with_a_memory_the_plain_model_reads_along_in_the_same_pass(memorized):
    """The plain model is a second row of the same forward passes, not passes of its own; its
    row gives what a pass with every memory off gives, and the answer's row what one with the
    memory on gives."""
    import torch

    backbone, memory = memorized
    passes = plain_model_ends_after(backbone, answered=5)
    assert len(answer(backbone, plain_ending=True)) == 5
    # the answer's prompt, the plain model's (after the first id), then one pass of both per id
    assert passes == [[True], [False]] + [[True, False]] * 5
    ids = token_stream(PROMPT_LEN)[None, :]
    with torch.no_grad():
        with only_enabled(backbone.memories, ["m"], rows=torch.tensor([True, False])):
            both = backbone.model(input_ids=ids.repeat(2, 1)).logits
        alone = backbone.model(input_ids=ids).logits
        with only_enabled(backbone.memories, []):
            plain = backbone.model(input_ids=ids).logits
    assert not torch.allclose(alone, plain, atol=1e-3)
    assert torch.allclose(both[0], alone[0], atol=1e-5) and torch.allclose(both[1], plain[0], atol=1e-5)


def test_the_plain_model_joins_only_once_the_answer_may_end(memorized):
    """Until ``ready`` says the answer may end, the plain model has nothing to decide: it reads
    nothing, and the first words wait for no pass of its. Then it reads the prompt and the
    answer so far at once, and ends the answer where a plain model reading along would."""
    backbone, _ = memorized
    free = answer(backbone, plain_ending=False)
    passes = plain_model_ends_after(backbone, answered=5)
    prompt = token_stream(PROMPT_LEN)[None, :]
    ids = list(generate_ids(backbone, prompt, {EOT}, ANSWER_CAP, ready=lambda a: len(a) >= 3))
    assert ids == free[:5]
    # the answer's prompt, its passes after ids 1 and 2, the plain model's catching up (the
    # prompt and ids 1-2 in one pass), then one pass of both for ids 3, 4 and 5
    assert passes == [[True], [True], [True], [False], [True, False], [True, False], [True, False]]


def force_answer(backbone, wanted, prompt_len: int = PROMPT_LEN):
    """Make the model (memory on or off) want ``wanted(position)`` at each answer position: a
    stand-in for a small model that has fallen into a loop or wants to stop."""
    read = positions_read(backbone)

    def hook(module, args, logits):
        position = max(read.values()) - prompt_len  # answer tokens already read (per row)
        want = wanted(position)
        if want is not None:
            logits = logits.clone()
            logits[..., want] = 1e4
        return logits

    backbone.model.get_output_embeddings().register_forward_hook(hook)


def repeated_ngrams(ids: list[int], n: int) -> list[tuple[int, ...]]:
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    return [g for g in set(grams) if grams.count(g) > 1]


@pytest.mark.parametrize("period", [1, 3])
def test_a_model_that_wants_to_loop_cannot(tiny_llama, period):
    force_answer(tiny_llama, lambda pos: 10 + pos % period)
    prompt = token_stream(PROMPT_LEN)[None, :]
    looped = list(generate_ids(tiny_llama, prompt, {EOT}, 40, no_repeat_ngram=0))
    assert repeated_ngrams(looped, 4)  # the forced model loops when nothing stops it
    for n in (3, 8):
        ids = list(generate_ids(tiny_llama, prompt, {EOT}, 40, no_repeat_ngram=n))
        assert len(ids) == 40 and not repeated_ngrams(ids, n)


def test_an_answer_cannot_end_before_it_says_something(tiny_llama):
    force_answer(tiny_llama, lambda pos: EOT)  # the model wants to end at once, every time
    prompt = token_stream(PROMPT_LEN)[None, :]
    assert list(generate_ids(tiny_llama, prompt, {EOT}, 10)) != []  # never an empty answer
    ids = list(generate_ids(tiny_llama, prompt, {EOT}, 10, ready=lambda answer: len(answer) >= 3))
    assert len(ids) == 3  # it ends as soon as it may


def test_the_callers_rules_and_cancel_end_the_answer(tiny_llama):
    prompt = token_stream(PROMPT_LEN)[None, :]
    assert len(list(generate_ids(tiny_llama, prompt, {EOT}, 20, stop_when=lambda a: len(a) >= 4))) == 4
    assert list(generate_ids(tiny_llama, prompt, {EOT}, 20, should_stop=lambda: True)) == []
    stream = generate_ids(tiny_llama, prompt, {EOT}, 20)
    first = next(stream)
    stream.close()  # a reader who stops reading stops the generation thread
    assert isinstance(first, int)


def test_answers_are_deterministic(memorized):
    backbone, _ = memorized
    assert answer(backbone, plain_ending=True) == answer(backbone, plain_ending=True)


class WordTokenizer:
    """One word per id, enough for ``stream_generate`` (no chat template)."""

    chat_template = None
    eos_token_id = EOT
    WORDS = {EOT: "", 10: "the", 11: "story", 12: "of", 13: "\n[3 May 2024, 9:05 am]",
             14: "Ana:", 15: "Ishmael", 16: "goes", 17: "to", 18: "sea.", 19: "answer", 20: "is:"}

    def __call__(self, text, return_tensors=None, **kwargs):
        return {"input_ids": token_stream(PROMPT_LEN)[None, :]}

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(self.WORDS.get(i, f"w{i}") for i in ids if i != EOT).replace(" \n", "\n")

    def get_vocab(self):
        return {}


def streamed(backbone, script, cap=30, source_line=None) -> tuple[list[str], str]:
    backbone.tokenizer = WordTokenizer()
    force_answer(backbone, lambda pos: script[pos] if pos < len(script) else script[-1])
    pieces = list(stream_generate(backbone, [{"role": "user", "content": "q"}], max_new_tokens=cap,
                                  source_line=source_line))
    return pieces, "".join(pieces)


def test_a_word_loop_is_cut_and_never_shown(tiny_llama):
    pieces, text = streamed(tiny_llama, [15, 16, 17, 18] + [10, 11, 12] * 10)
    assert text.startswith("Ishmael goes to sea.")
    assert repeat_start(text) is None and len(text.split()) < 12  # cut as soon as it repeats


def test_a_new_line_in_the_sources_format_ends_the_answer(tiny_llama):
    """The caller says what a line of its source looks like (the app: a chat line's stamp)."""
    script = [15, 16, 17, 18, 13, 14, 10, 11, 12, 15, 16, 17, 18]
    _, text = streamed(tiny_llama, script, source_line=lambda line: line.startswith("["))
    assert text == "Ishmael goes to sea."
    _, told_nothing = streamed(tiny_llama, script)  # the engine knows no source's format itself
    assert told_nothing.startswith("Ishmael goes to sea.\n[3 May 2024")


def test_a_preamble_alone_is_no_answer(tiny_llama):
    # "the answer is:" then the end: the end is held back until the answer says something
    _, text = streamed(tiny_llama, [10, 19, 20, EOT, 15, 16, 17, 18, EOT])
    assert text.endswith("Ishmael goes to sea.")  # (after whatever came instead of the end)
    assert not text.lower().startswith("the answer")  # the preamble itself is not shown


def test_the_answers_logprobs_are_recorded_while_it_is_written(tiny_llama):
    import torch

    prompt = token_stream(PROMPT_LEN)[None, :]
    logprobs: list[float] = []
    ids = list(generate_ids(tiny_llama, prompt, {EOT}, 6, no_repeat_ngram=0, logprobs=logprobs))
    full = torch.cat([prompt, torch.tensor([ids])], dim=1)
    with torch.no_grad():
        logits = tiny_llama.model(input_ids=full).logits[0, PROMPT_LEN - 1:-1]
    expected = torch.log_softmax(logits, -1).gather(1, torch.tensor(ids)[:, None])[:, 0]
    assert torch.allclose(torch.tensor(logprobs[:len(ids)]), expected, atol=1e-4)


def test_an_answer_reports_its_stages_only_to_a_listener(memorized):
    """While a `recording()` is open, the decoding thread reports its prefill, each decoding
    pass and the rules' time into it; with none open nothing is kept anywhere."""
    import threading

    from locas_engine.timing import listening, recording, stage

    backbone, _ = memorized
    assert not listening()
    answer(backbone, plain_ending=True)  # nobody listens: nothing to report to
    plain_model_ends_after(backbone, answered=5)
    with recording() as times:
        ids = answer(backbone, plain_ending=True)
        with stage("mine"):
            threading.Thread(target=lambda: None).start()
    assert len(ids) == 5
    assert times.counts == {"prefill": 1, "prefill/plain": 1, "decode": 5, "rules": 5, "mine": 1}
    assert all(s >= 0 for s in times.seconds.values()) and times.total() > 0
    assert not listening()


@pytest.mark.parametrize("arch", ["llama", "gemma3", "gpt2"])
def test_the_plain_row_joins_the_answers_cache_on_every_architecture(arch, monkeypatch, randomize_values):
    """The plain model's prompt cache is stacked under the answer's after the first word (a
    sliding-window cache too); where a cache cannot be stacked both rows are read anew. Either
    way the answer is the one two separate models would write: the memory's ids, ended where the
    plain model ends."""
    from engine_helpers import tiny_model

    from locas_engine import MLPMemoryConfig, attach_mlp_memory, backbone_from_model
    from locas_engine import generate as gen

    backbone = backbone_from_model(tiny_model(arch), name=f"tiny-{arch}")
    if arch == "gpt2":
        attach_mlp_memory(backbone, MLPMemoryConfig(capacity=8), name="m")
    else:
        randomize_values(attach_memory(backbone, MemorySpec(rank=8, output_scale=2), name="m"), scale=2.0)
    free = answer(backbone, plain_ending=False)
    plain_model_ends_after(backbone, answered=4)
    stacked = answer(backbone, plain_ending=True)
    monkeypatch.setattr(gen, "_stackable", lambda cache: False)
    plain_model_ends_after(backbone, answered=4)
    anew = answer(backbone, plain_ending=True)
    assert stacked == anew == free[:4]
