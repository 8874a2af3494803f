"""Stream an answer from the backbone (with whatever memories are attached and enabled).

Greedy decoding by a loop over the model's KV cache (``generate_ids``; it replaced transformers'
``generate``, whose per-step machinery cost more than the rules it ran, issue 32): deterministic
answers make "memory on / off" comparisons meaningful, and ids handed over one by one let the
caller show each token and stop at any time. Memory hooks run on every forward, so the memory
needs no help to shape the answer; it is only kept from deciding where the answer ends, and the
answer is kept from looping or running on into the source's own format (``generate_ids``,
``answer_text``).
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import torch
from transformers import NoRepeatNGramLogitsProcessor

from .adapter import only_enabled
from .answer_text import AnswerText, has_content
from .backbone import Backbone
from .timing import add_stage, stage

# A token 8-gram is long enough that a date written twice ("May 2023 ... June 2023") is never
# blocked, and short enough that a loop is broken within a line; AnswerText stops word loops.
NO_REPEAT_NGRAM = 8


def _cache_kwarg(model) -> str:
    """transformers >= 5.2x names the KV cache ``cache``; older versions ``past_key_values``."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _stop_ids(backbone: Backbone) -> set[int]:
    tok = backbone.tokenizer
    ids: set[int] = set()
    eos = getattr(backbone.model.generation_config, "eos_token_id", None)
    if eos is not None:
        ids.update(eos if isinstance(eos, (list, tuple)) else [eos])
    if tok.eos_token_id is not None:
        ids.add(tok.eos_token_id)
    # End-of-turn markers of the common chat templates, looked up one by one where the tokenizer
    # can: building its whole vocabulary (get_vocab) held the GIL for 40-130 ms per answer, a
    # stall in the window.
    vocab = None if hasattr(tok, "convert_tokens_to_ids") else tok.get_vocab()
    for special in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>"):
        if vocab is not None:
            found = vocab.get(special)
        else:
            found = tok.convert_tokens_to_ids(special)  # an unknown token gives the unk id: checked
            found = found if isinstance(found, int) and tok.convert_ids_to_tokens(found) == special else None
        if found is not None:
            ids.add(found)
    return ids


def prompt_ids(backbone: Backbone, messages: Sequence[dict[str, str]]) -> torch.Tensor:
    """The chat-templated prompt as ids, shape (1, T); plain concatenation without a template."""
    tok = backbone.tokenizer
    if getattr(tok, "chat_template", None):
        text = tok.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    else:
        text = "\n\n".join(m["content"] for m in messages) + "\n"
        ids = tok(text, return_tensors="pt")["input_ids"]
    return ids.to(backbone.device)


def _forward(model, x: torch.Tensor, past, cache_kw: str):
    """One forward pass reading ``x`` (batch, new positions) after the cache ``past``: the
    last position's logits (batch, vocab) and the grown cache."""
    out = model(input_ids=x, use_cache=True, logits_to_keep=1, **{cache_kw: past})
    return out.logits[:, -1], getattr(out, cache_kw, None)


def _stackable(cache) -> bool:
    """Whether a one-row KV cache can take a second row by stacking keys and values: its layers
    hold nothing else per row (transformers' dynamic layers, sliding-window ones included)."""
    from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

    layers = getattr(cache, "layers", None)
    return bool(layers) and all(type(layer) in (DynamicLayer, DynamicSlidingWindowLayer) for layer in layers)


def _with_plain_row(model, ids: torch.Tensor, past, cache_kw: str, memories, on: list[str]):
    """The answer's cache ``past`` (one row: the ids ``ids`` read with the memories ``on``) with
    a second row: the same ids read by the plain model (every memory off), stacked under it; for
    a cache that cannot be stacked, both rows read the ids anew."""
    if _stackable(past):
        with only_enabled(memories, []):
            _, plain = _forward(model, ids, None, cache_kw)
        for layer, other in zip(past.layers, plain.layers, strict=True):
            if layer.get_seq_length():
                layer.keys = torch.cat([layer.keys, other.keys])
                layer.values = torch.cat([layer.values, other.values])
        return past
    with only_enabled(memories, on, rows=torch.tensor([True, False], device=ids.device)):
        return _forward(model, ids.repeat(2, 1), None, cache_kw)[1]


@torch.no_grad()
def generate_ids(
    backbone: Backbone,
    ids: torch.Tensor,
    stop: set[int],
    max_new_tokens: int = 200,
    should_stop: Callable[[], bool] | None = None,
    plain_ending: bool = True,
    no_repeat_ngram: int = NO_REPEAT_NGRAM,
    stop_when: Callable[[list[int]], bool] | None = None,
    ready: Callable[[list[int]], bool] | None = None,
    logprobs: list[float] | None = None,
) -> Iterator[int]:
    """Yield greedy next ids after the prompt ``ids`` (1, T) until a stop id, a rule, or the cap.

    A greedy loop over the model's KV cache (deterministic), in a thread whose ids are handed
    over one by one, so that the caller can show them and stop at any time (the loop checks
    ``should_stop`` before every forward pass: a cancel takes effect within one token).
    - No loops: the answer never repeats one of its own token ``no_repeat_ngram``-grams
      (transformers' rule, applied to the answer only: copying a phrase from the passages is
      allowed).
    - ``ready(answer ids)``: the answer may end only once this is true (default: one id written);
      until then the end ids cannot win.
    - ``stop_when(answer ids)``: the caller's own rules (``AnswerText``: the source's line format,
      a loop in words); the id that made it true is still yielded, the caller trims its text.
    - With a memory switched on and ``plain_ending``, the memory still chooses every token, but
      the answer ends as soon as the plain model (every memory off), reading the same answer so
      far, would end it. A memory learns from text in which no turn ever ends, so it learns to
      hold the end-of-turn token down: left to itself, a memorized model talks until the token
      cap (9 of 10 answers in the LoCoMo bench, against 2 of 3 without memory) and its answer
      drifts into replaying the chat. Knowing when an answer is complete is the plain model's
      skill, not the memory's. Both read the same ids, so they run as one forward pass of two
      rows, the memory on in the first only (``only_enabled(..., rows=...)``): on a CPU the
      second row costs a fraction of a second pass, since the weights are read once. The plain
      model joins once the answer may end (``ready``): it reads the prompt and the answer so
      far then, after the id that made the answer ready was handed over, so the first words
      wait for the answer's own prefill only.
    - ``logprobs``: if given, receives the log-probability of each id chosen (under the raw
      scores, before any rule; the yielded ids are its first entries).
    Time spent is reported to ``locas_engine.timing`` as the stages prefill (the answer's),
    prefill/plain (the plain model's, once the answer may end), decode (each pass after the
    first id) and rules (choosing each id).
    """
    model = backbone.model
    ready = ready or (lambda answer: len(answer) > 0)
    stops = sorted(stop)
    closed = threading.Event()

    def cancelled() -> bool:
        return closed.is_set() or (should_stop is not None and should_stop())

    if max_new_tokens <= 0 or cancelled():
        return
    on = [name for name, memory in backbone.memories.items() if memory.enabled]
    two_rows = plain_ending and bool(on)
    no_repeat = NoRepeatNGramLogitsProcessor(no_repeat_ngram) if no_repeat_ngram else None
    cache_kw = _cache_kwarg(model)
    handed: queue.Queue = queue.Queue()
    end = object()
    errors: list[BaseException] = []

    def choose(scores: torch.Tensor, answer: list[int], may_end: bool) -> int:
        """The answer's next id from its raw scores (vocab,), float32, under the rules;
        ``may_end``: ``ready(answer)``, worked out once per id by the loop."""
        if logprobs is not None:
            logp = torch.log_softmax(scores, dim=-1)
        if not may_end:
            scores = scores.clone()
            scores[stops] = float("-inf")
        if no_repeat is not None and len(answer) + 1 >= no_repeat_ngram:
            scores = no_repeat(torch.tensor([answer], device=scores.device), scores[None])[0]
        token = int(scores.argmax())
        if logprobs is not None:
            logprobs.append(float(logp[token]))
        return token

    def decode() -> None:
        answer: list[int] = []
        may_end = ready(answer)  # ready() decodes the whole answer: once per id, not three times
        rows = None  # one row: the answer; two: the answer and the plain model, once it joins
        with torch.no_grad():
            with stage("prefill"):  # the answer's row alone: its first word waits for nothing else
                logits, past = _forward(model, ids, None, cache_kw)
            while True:
                started = time.perf_counter()
                token = choose(logits[0].float(), answer, may_end)
                if token in stop:
                    break
                answer.append(token)
                may_end = ready(answer)
                handed.put(token)
                if (len(answer) >= max_new_tokens or cancelled()
                        or (stop_when is not None and stop_when(answer))):
                    break
                ruled = time.perf_counter()
                add_stage("rules", ruled - started)
                if two_rows and rows is None and may_end:
                    # the answer may end from now on: the plain model joins, having read what
                    # the answer's row has (the prompt and the answer but its last id, read next)
                    read = torch.cat([ids, torch.tensor([answer[:-1]], dtype=ids.dtype, device=ids.device)], 1)
                    with stage("prefill/plain"):
                        past = _with_plain_row(model, read, past, cache_kw, backbone.memories, on)
                    rows = torch.tensor([True, False], device=ids.device)
                    ruled = time.perf_counter()
                x = torch.full((1 if rows is None else 2, 1), token, dtype=ids.dtype, device=ids.device)
                switch = contextlib.nullcontext() if rows is None else only_enabled(backbone.memories, on, rows=rows)
                with switch:
                    logits, past = _forward(model, x, past, cache_kw)
                add_stage("decode", time.perf_counter() - ruled)
                # the plain model, having read the same answer, would end its turn here
                if rows is not None and int(logits[1].argmax()) in stop and may_end:
                    break

    def work() -> None:
        try:
            decode()
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)
        finally:
            handed.put(end)

    # In a copy of this context: the memories switched on here (adapter.only_enabled) are the
    # ones the decoding thread's forward passes use, and its stages go to the same record.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="locas-generate",
                              daemon=True)
    thread.start()
    try:
        while True:
            item = handed.get()
            if item is end or cancelled():
                break
            yield item
    finally:
        closed.set()
        thread.join()
    if errors:
        raise errors[0]


def stream_generate(
    backbone: Backbone,
    messages: Sequence[dict[str, str]],
    max_new_tokens: int = 200,
    should_stop: Callable[[], bool] | None = None,
    plain_ending: bool = True,
    logprobs: list[float] | None = None,
    source_line: Callable[[str], bool] | None = None,
) -> Iterator[str]:
    """Yield the answer's text piece by piece (see ``generate_ids`` for the decoding and
    ``AnswerText`` for the rules on the text: it ends at a new line in the source's format, as
    ``source_line(line)`` tells it, or a loop, and a preamble with nothing after it is no answer). Pieces are only ever appended:
    text that a later rule could still cut is held back until it is safe."""
    tok = backbone.tokenizer
    generated: list[int] = []
    text = AnswerText(source_line)
    shown = ""

    def decode(answer: list[int]) -> str:
        return tok.decode(answer, skip_special_tokens=True)

    def rules(answer: list[int]) -> bool:  # runs in generate's thread: its own AnswerText
        return AnswerText(source_line).update(decode(answer))

    with stage("prompt"):  # the chat template and the tokenizer
        ids = prompt_ids(backbone, messages)
    for next_id in generate_ids(backbone, ids, _stop_ids(backbone),
                                max_new_tokens, should_stop, plain_ending, stop_when=rules,
                                ready=lambda answer: has_content(decode(answer)), logprobs=logprobs):
        generated.append(next_id)
        text.update(decode(generated))
        if text.stopped_for:
            break
        now = text.shown()
        if not now.endswith("\ufffd") and now.startswith(shown) and len(now) > len(shown):
            yield now[len(shown):]  # (a half multi-byte character waits for the rest)
            shown = now
    text.update(decode(generated))
    if logprobs is not None:
        del logprobs[len(generated):]  # ids generate() wrote past the end the rules chose
    final = text.final(keep=len(shown))
    if final.startswith(shown) and len(final) > len(shown):
        yield final[len(shown):]


@torch.no_grad()
def answer_logprob(backbone: Backbone, messages: Sequence[dict[str, str]], answer: str) -> float:
    """Mean log-probability per token of ``answer`` as the reply to ``messages`` (teacher forced,
    with whatever memories are on): the model's confidence in its answer, comparable between
    prompts with and without passages. One forward pass over prompt and answer."""
    prompt = prompt_ids(backbone, messages)
    reply = backbone.tokenizer(answer, add_special_tokens=False, return_tensors="pt")["input_ids"]
    reply = reply.to(backbone.device)
    if reply.shape[1] == 0:
        return 0.0
    ids = torch.cat([prompt, reply], dim=1)
    logits = backbone.model(input_ids=ids).logits[0, prompt.shape[1] - 1:-1].float()
    logp = torch.log_softmax(logits, dim=-1).gather(1, reply[0][:, None])
    return float(logp.mean())
