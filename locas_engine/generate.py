"""Stream an answer from the backbone (with whatever memories are attached and enabled).

Greedy decoding by transformers' ``generate`` with its logits processors and stopping criteria:
deterministic answers make "memory on / off" comparisons meaningful, and a streamer lets the
caller show each token and stop at any time. Memory hooks run on every forward, so the memory
needs no help to shape the answer; it is only kept from deciding where the answer ends, and the
answer is kept from looping or running on into the source's own format (``generate_ids``,
``answer_text``).
"""

from __future__ import annotations

import contextvars
import inspect
import queue
import threading
from collections.abc import Callable, Iterator, Sequence

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    NoRepeatNGramLogitsProcessor,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.generation.streamers import BaseStreamer

from .adapter import only_enabled
from .answer_text import AnswerText, has_content
from .backbone import Backbone

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
    vocab = tok.get_vocab()
    for special in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>"):
        if special in vocab:  # end-of-turn markers of the common chat templates
            ids.add(vocab[special])
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


class _IdQueue(BaseStreamer):
    """Hands each new id from ``model.generate`` (running in a thread) to the caller's iterator."""

    END = object()

    def __init__(self, on_id: Callable[[int], None] | None = None) -> None:
        self.queue: queue.Queue = queue.Queue()
        self._prompt_seen = False
        self.on_id = on_id

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt itself
            self._prompt_seen = True
            return
        for i in value.reshape(-1).tolist():
            if self.on_id is not None:
                self.on_id(int(i))  # in generate's thread, before the next step
            self.queue.put(int(i))

    def end(self) -> None:
        self.queue.put(self.END)


def _flag(input_ids: torch.Tensor, value: bool) -> torch.Tensor:
    """A stopping criterion's answer: one bool per sequence."""
    return torch.full((input_ids.shape[0],), value, dtype=torch.bool, device=input_ids.device)


class _AnswerNoRepeatNGram(LogitsProcessor):
    """transformers' no-repeat n-gram rule applied to the answer only: copying a phrase from the
    passages is allowed, repeating one of the answer's own phrases is not."""

    def __init__(self, n: int, prompt_len: int) -> None:
        self.inner = NoRepeatNGramLogitsProcessor(n)
        self.prompt_len = prompt_len

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return self.inner(input_ids[:, self.prompt_len:], scores)


class _NoEndBeforeContent(LogitsProcessor):
    """Keep the end-of-turn ids from winning while the answer says nothing yet (empty, or only
    "The answer to this question is:"): an empty answer is never what a reader asked for."""

    def __init__(self, stop: set[int], prompt_len: int, ready: Callable[[list[int]], bool]) -> None:
        self.stop = sorted(stop)
        self.prompt_len = prompt_len
        self.ready = ready

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if not self.ready(input_ids[0, self.prompt_len:].tolist()):
            scores = scores.clone()
            scores[:, self.stop] = float("-inf")
        return scores


class _RecordLogprobs(LogitsProcessor):
    """Record the log-probability of each chosen token under the raw scores (before any rule
    changed them): the model's confidence in its own answer, at no extra cost."""

    def __init__(self, prompt_len: int, out: list[float]) -> None:
        self.prompt_len, self.out = prompt_len, out
        self.last: torch.Tensor | None = None

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self.last = torch.log_softmax(scores[0].float(), dim=-1)
        return scores

    def chosen(self, token: int) -> None:
        """The streamer says which id was chosen from the last recorded row."""
        if self.last is not None:
            self.out.append(float(self.last[token]))
            self.last = None


class _Callback(StoppingCriteria):
    """Stop when ``fn(answer ids)`` says so (cancel, closed stream, the text rules)."""

    def __init__(self, fn: Callable[[list[int]], bool], prompt_len: int) -> None:
        self.fn = fn
        self.prompt_len = prompt_len

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        return _flag(input_ids, bool(self.fn(input_ids[0, self.prompt_len:].tolist())))


class _PlainModelEnds(StoppingCriteria):
    """End the answer where the plain model (every memory off), reading the same answer so far,
    would end its turn. It keeps its own KV cache and reads each new token once."""

    def __init__(self, backbone: Backbone, stop: set[int], prompt_len: int,
                 ready: Callable[[list[int]], bool]) -> None:
        self.backbone, self.stop, self.ready = backbone, stop, ready
        self.prompt_len = prompt_len
        self.cache_kw = _cache_kwarg(backbone.model)
        self.past = None
        self.read = 0  # positions of the sequence already in the plain cache

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        x = input_ids[:, self.read:]
        with only_enabled(self.backbone.memories, []):
            out = self.backbone.model(input_ids=x, use_cache=True, logits_to_keep=1,
                                      **{self.cache_kw: self.past})
        self.past = getattr(out, self.cache_kw, None)
        self.read = input_ids.shape[1]
        ends = int(out.logits[0, -1].argmax()) in self.stop
        return _flag(input_ids, ends and self.ready(input_ids[0, self.prompt_len:].tolist()))


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

    transformers' ``generate`` does the decoding (greedy, so deterministic), in a thread whose
    ids a streamer hands over one by one, so that the caller can show them and stop at any time.
    - No loops: the answer never repeats one of its own token ``no_repeat_ngram``-grams.
    - ``ready(answer ids)``: the answer may end only once this is true (default: one id written).
    - ``stop_when(answer ids)``: the caller's own rules (``AnswerText``: the source's line format,
      a loop in words); the id that made it true is still yielded, the caller trims its text.
    - With a memory switched on and ``plain_ending``, the memory still chooses every token, but
      the answer ends as soon as the plain model (every memory off), reading the same answer so
      far, would end it. A memory learns from text in which no turn ever ends, so it learns to
      hold the end-of-turn token down: left to itself, a memorized model talks until the token
      cap (9 of 10 answers in the LoCoMo bench, against 2 of 3 without memory) and its answer
      drifts into replaying the chat. Knowing when an answer is complete is the plain model's
      skill, not the memory's. The price is a second, memory-off forward pass per token.
    - ``logprobs``: if given, receives the log-probability of each id generated (under the raw
      scores; the yielded ids are its first entries).
    """
    model = backbone.model
    prompt_len = ids.shape[1]
    ready = ready or (lambda answer: len(answer) > 0)
    closed = threading.Event()

    def cancelled(_answer: list[int]) -> bool:
        return closed.is_set() or (should_stop is not None and should_stop())

    record = _RecordLogprobs(prompt_len, logprobs if logprobs is not None else [])
    processors = LogitsProcessorList([record, _NoEndBeforeContent(stop, prompt_len, ready)])
    if no_repeat_ngram:
        processors.append(_AnswerNoRepeatNGram(no_repeat_ngram, prompt_len))
    criteria = StoppingCriteriaList([_Callback(cancelled, prompt_len)])
    if stop_when is not None:
        criteria.append(_Callback(stop_when, prompt_len))
    if plain_ending and any(m.enabled for m in backbone.memories.values()):
        criteria.append(_PlainModelEnds(backbone, stop, prompt_len, ready))
    config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                              eos_token_id=sorted(stop), pad_token_id=min(stop))
    streamer = _IdQueue(record.chosen)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with torch.no_grad():
                model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                               generation_config=config, logits_processor=processors,
                               stopping_criteria=criteria, streamer=streamer)
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)
        finally:
            streamer.end()

    if max_new_tokens <= 0 or cancelled([]):
        return
    # In a copy of this context: the memories switched on here (adapter.only_enabled) are the
    # ones generate's forward passes use.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="locas-generate",
                              daemon=True)
    thread.start()
    try:
        while True:
            item = streamer.queue.get()
            if item is _IdQueue.END or item in stop or cancelled([]):
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

    for next_id in generate_ids(backbone, prompt_ids(backbone, messages), _stop_ids(backbone),
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
