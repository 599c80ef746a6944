"""all-MiniLM-L6-v2 in ember against a PyTorch implementation of the same network with the same weights."""

import numpy as np
import pytest

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Hi",
    "The quick brown fox jumps over the lazy dog, while the cat, unimpressed, keeps sleeping in the warm "
    "afternoon sun on the windowsill of the old stone house.",
    "Tokenisers split unusual words like antidisestablishmentarianism into word pieces!",
    "ember runs PyTorch scripts on numpy; 12 sentences, one padded batch.",
    "Quantum chromodynamics describes the strong interaction between quarks and gluons.",
]


def torch_sentence_embeddings(torch, sd, input_ids, attention_mask):
    """The reference: BERT (post-LayerNorm, exact GELU, eps 1e-12), mean pooling, L2 norm, in torch.
    ``sd`` is the checkpoint's state dict as torch tensors (``safetensors.torch.load_file``)."""
    F = torch.nn.functional
    hidden, heads, eps = 384, 12, 1e-12
    ids = torch.as_tensor(input_ids)
    mask = torch.as_tensor(attention_mask)

    def linear(x, name):
        return F.linear(x, sd[name + ".weight"], sd[name + ".bias"])

    def norm(x, name):
        return F.layer_norm(x, (hidden,), sd[name + ".weight"], sd[name + ".bias"], eps)

    batch, length = ids.shape
    x = sd["embeddings.word_embeddings.weight"][ids] + sd["embeddings.position_embeddings.weight"][:length] \
        + sd["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = norm(x, "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def split(t):
        return t.view(batch, length, heads, hidden // heads).transpose(1, 2)

    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (split(linear(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2) / (hidden // heads) ** 0.5 + bias
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, hidden)
        x = norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        inner = F.gelu(linear(x, p + "intermediate.dense"))
        x = norm(linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
    m = mask.unsqueeze(-1).float()
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(pooled, p=2, dim=1)


def test_embeddings_equal_pytorch_on_a_padded_batch(torch, minilm, minilm_path):
    ids, mask = minilm.tokenize(SENTENCES)
    lengths = np.asarray(mask).sum(1)
    assert len(set(lengths.tolist())) >= 8 and lengths.min() < lengths.max()  # really padded
    ours = np.asarray(minilm.encode(SENTENCES))
    from safetensors.torch import load_file
    with torch.no_grad():
        ref = torch_sentence_embeddings(torch, load_file(minilm_path), np.asarray(ids), np.asarray(mask)).numpy()
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    assert np.abs(ours - ref).max() <= 1e-5
    assert (ours * ref).sum(1).min() >= 0.999999  # both unit length: the dot product is the cosine
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


def test_padding_does_not_change_an_embedding(minilm):
    alone = np.asarray(minilm.encode([SENTENCES[8]]))
    in_batch = np.asarray(minilm.encode(SENTENCES))[8]
    assert np.abs(alone[0] - in_batch).max() <= 1e-5


def test_sentences_are_truncated_to_256_tokens_not_the_tokenizer_files_128(minilm):
    ids, mask = minilm.tokenize(["word " * 400])
    assert tuple(ids.shape) == (1, 256) and int(np.asarray(mask).sum()) == 256
    assert minilm.max_seq_length == 256


def test_similar_sentences_are_closer_than_unrelated_ones(minilm):
    e = np.asarray(minilm.encode(SENTENCES[:3]))
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2
