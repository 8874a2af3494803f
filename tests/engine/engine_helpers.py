"""Tiny random-weight models of every supported architecture, built from configs (no download)."""

from __future__ import annotations

import hashlib

import torch

VOCAB = 96
_COMMON = dict(
    vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=3,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
    pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
)

ARCHS = ["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3"]
MLP_ARCHS = ["gpt2", "opt", "gpt_neox"]  # classic two-layer MLP FFNs, for Locas-MLP
PROMPT = torch.tensor([[5, 17, 33, 8, 61, 12, 90, 44, 3, 27]])  # (1, T): the prompt logits() reads


def logits(model) -> torch.Tensor:
    """A model's logits on PROMPT, without gradients: (1, T, vocab)."""
    with torch.no_grad():
        return model(input_ids=PROMPT).logits


def tiny_model(arch: str, seed: int = 0):
    """A 3-layer random model of ``arch`` in fp32 on CPU."""
    import transformers as tf

    kw = dict(_COMMON)
    if arch == "llama":
        cfg = tf.LlamaConfig(**kw)
    elif arch == "mistral":
        cfg = tf.MistralConfig(**kw, sliding_window=None)
    elif arch == "qwen2":
        cfg = tf.Qwen2Config(**kw)
    elif arch == "qwen3":
        cfg = tf.Qwen3Config(**kw, head_dim=8)
    elif arch == "gemma":
        cfg = tf.GemmaConfig(**kw, head_dim=8, hidden_activation="gelu_pytorch_tanh")
    elif arch == "gemma2":
        cfg = tf.Gemma2Config(**kw, head_dim=8, sliding_window=16)
    elif arch == "gemma3":
        cfg = tf.Gemma3TextConfig(**kw, head_dim=8, sliding_window=16)
    elif arch == "phi3":
        cfg = tf.Phi3Config(**kw)
    elif arch == "gpt2":
        cfg = tf.GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=256)
    elif arch == "opt":  # ReLU FFN on the decoder layer itself (fc1 / fc2)
        cfg = tf.OPTConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, ffn_dim=48,
                           num_attention_heads=4, max_position_embeddings=256,
                           word_embed_proj_dim=32, pad_token_id=0, bos_token_id=1,
                           eos_token_id=2)
    elif arch == "gpt_neox":
        cfg = tf.GPTNeoXConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                               num_attention_heads=4, intermediate_size=48,
                               max_position_embeddings=256, bos_token_id=1, eos_token_id=2)
    elif arch == "gpt_neo":
        cfg = tf.GPTNeoConfig(vocab_size=VOCAB, hidden_size=32, num_layers=2, num_heads=4,
                              intermediate_size=48, max_position_embeddings=256,
                              attention_types=[[["global", "local"], 1]], bos_token_id=1,
                              eos_token_id=2)
    elif arch == "bloom":
        cfg = tf.BloomConfig(vocab_size=VOCAB, hidden_size=32, n_layer=2, n_head=4,
                             bos_token_id=1, eos_token_id=2)
    else:
        raise ValueError(arch)
    torch.manual_seed(seed)
    model = tf.AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    # Larger-than-default weights so that memory effects are visible in the logits.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.15)
    return model.eval()


def weights_hash(model) -> str:
    """The backbone's own weights under the architecture's names (attached memories' adapters
    set aside, as a save would), so attaching alone never changes it."""
    from locas_engine.adapter import plain_modules

    h = hashlib.sha256()
    with plain_modules(model):
        state = model.state_dict()
    for name, t in sorted(state.items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def token_stream(n: int, seed: int = 0) -> torch.Tensor:
    """A repetitive random stream (a repeated phrase) that a memory can learn quickly."""
    g = torch.Generator().manual_seed(seed)
    phrase = torch.randint(3, VOCAB, (40,), generator=g)
    return phrase.repeat(n // 40 + 1)[:n]


class CharTokenizer:
    """Enough of a tokenizer for memorizing and answering: one id per character."""

    eos_token_id = 2
    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = False, return_tensors: str | None = None) -> dict:
        ids = [3 + ord(c) % (VOCAB - 3) for c in text]
        if return_tensors == "pt":
            import torch

            return {"input_ids": torch.tensor([ids])}
        return {"input_ids": ids}

    def get_vocab(self) -> dict[str, int]:
        return {chr(32 + i): i for i in range(VOCAB)}

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return "".join(chr(32 + int(i) % 90) for i in ids)


def save_tiny_tokenizer(folder) -> None:
    """A four-token BPE tokenizer saved as a model folder's tokenizer files (tokenizer.json)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE(vocab={"<unk>": 0, "a": 1, "b": 2, "ab": 3}, merges=[("a", "b")]))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", eos_token="<unk>").save_pretrained(folder)

