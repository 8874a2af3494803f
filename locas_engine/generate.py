"""Stream an answer from the backbone (with whatever memories are attached and enabled).

A plain greedy loop with a KV cache: deterministic answers make "memory on / off" comparisons
meaningful, and yielding between tokens lets the caller stop at any time. Memory hooks run on
every forward, so the memory needs no help to shape the answer; it is only kept from deciding
where the answer ends (``generate_ids``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence

import torch

from .backbone import Backbone
from .memory import only_enabled


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


def _greedy_step(model, x: torch.Tensor, past, cache_kw: str) -> tuple[int, object]:
    """The most likely next id after ``x`` and the grown KV cache (one sync per token is
    inherent to streaming)."""
    out = model(input_ids=x, use_cache=True, logits_to_keep=1, **{cache_kw: past})
    return int(out.logits[0, -1].argmax()), getattr(out, cache_kw, None)


@torch.no_grad()
def generate_ids(
    backbone: Backbone,
    ids: torch.Tensor,
    stop: set[int],
    max_new_tokens: int = 200,
    should_stop: Callable[[], bool] | None = None,
    plain_ending: bool = True,
) -> Iterator[int]:
    """Yield greedy next ids after the prompt ``ids`` (1, T) until a stop id or the cap.

    With a memory switched on and ``plain_ending``, the memory still chooses every token, but the
    answer ends as soon as the plain model (every memory off), reading the same answer so far,
    would end it. A memory learns from text in which no turn ever ends, so it learns to hold the
    end-of-turn token down: left to itself, a memorized model talks until the token cap (9 of 10
    answers in the LoCoMo bench, against 2 of 3 without memory) and its answer drifts into
    replaying the chat. Knowing when an answer is complete is the plain model's skill, not the
    memory's. The price is a second, memory-off forward pass per token, with its own KV cache.
    """
    model = backbone.model
    cache_kw = _cache_kwarg(model)
    judge = plain_ending and any(m.enabled for m in backbone.memories.values())
    past = plain_past = None
    x = ids
    for _ in range(max_new_tokens):
        if should_stop is not None and should_stop():
            break
        next_id, past = _greedy_step(model, x, past, cache_kw)
        if next_id in stop:
            break
        if judge:
            with only_enabled(backbone.memories, []):
                plain_id, plain_past = _greedy_step(model, x, plain_past, cache_kw)
            if plain_id in stop:
                break
        yield next_id
        x = torch.tensor([[next_id]], device=backbone.device)  # (1, 1)


def stream_generate(
    backbone: Backbone,
    messages: Sequence[dict[str, str]],
    max_new_tokens: int = 200,
    should_stop: Callable[[], bool] | None = None,
    plain_ending: bool = True,
) -> Iterator[str]:
    """Yield the answer's text piece by piece (greedy decoding, stops at end-of-turn; see
    ``generate_ids`` for who decides where an answer with memory ends)."""
    tok = backbone.tokenizer
    generated: list[int] = []
    shown = ""
    for next_id in generate_ids(backbone, prompt_ids(backbone, messages), _stop_ids(backbone),
                                max_new_tokens, should_stop, plain_ending):
        generated.append(next_id)
        text = tok.decode(generated, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            pass  # half of a multi-byte character: wait for the rest
        elif len(text) > len(shown):
            yield text[len(shown):]
            shown = text
    text = tok.decode(generated, skip_special_tokens=True)
    if len(text) > len(shown):
        yield text[len(shown):]
