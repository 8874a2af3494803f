"""Stream an answer from the backbone (with whatever memories are attached and enabled).

A plain greedy loop with a KV cache: deterministic answers make "memory on / off" comparisons
meaningful, and yielding between tokens lets the caller stop at any time. Memory hooks run on
every forward, so generation needs nothing memory-specific.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence

import torch

from .backbone import Backbone


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


@torch.no_grad()
def stream_generate(
    backbone: Backbone,
    messages: Sequence[dict[str, str]],
    max_new_tokens: int = 200,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Yield the answer's text piece by piece (greedy decoding, stops at end-of-turn)."""
    model, tok = backbone.model, backbone.tokenizer
    ids = prompt_ids(backbone, messages)  # (1, T)
    stop = _stop_ids(backbone)
    generated: list[int] = []
    shown = ""
    past = None
    cache_kw = _cache_kwarg(model)
    x = ids
    for _ in range(max_new_tokens):
        if should_stop is not None and should_stop():
            break
        out = model(input_ids=x, use_cache=True, logits_to_keep=1, **{cache_kw: past})
        past = getattr(out, cache_kw, None)
        next_id = int(out.logits[0, -1].argmax())  # one sync per token is inherent to streaming
        if next_id in stop:
            break
        generated.append(next_id)
        text = tok.decode(generated, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            pass  # half of a multi-byte character: wait for the rest
        elif len(text) > len(shown):
            yield text[len(shown):]
            shown = text
        x = torch.tensor([[next_id]], device=backbone.device)  # (1, 1)
    text = tok.decode(generated, skip_special_tokens=True)
    if len(text) > len(shown):
        yield text[len(shown):]
