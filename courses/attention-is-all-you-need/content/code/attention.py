"""Scaled dot-product and multi-head attention in plain Python (lists of floats), for reading, not speed.

Written for this course. Shapes are noted as [rows x columns].
"""
import math


def matmul(a, b):
    """[n x m] times [m x p] -> [n x p]."""
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def transpose(m):
    return [list(row) for row in zip(*m)]


def softmax(row):
    top = max(row)  # subtract the max so exp() cannot overflow; the result is unchanged
    exps = [math.exp(x - top) if x != float("-inf") else 0.0 for x in row]
    total = sum(exps)
    return [e / total for e in exps]


def scaled_dot_product_attention(q, k, v, causal=False):
    """q: [n x d_k], k: [m x d_k], v: [m x d_v] -> [n x d_v].

    causal=True is the decoder's mask: query i may only look at keys 0..i.
    """
    d_k = len(k[0])
    scores = matmul(q, transpose(k))
    scale = 1.0 / math.sqrt(d_k)
    scores = [[s * scale for s in row] for row in scores]
    if causal:
        scores = [[s if j <= i else float("-inf") for j, s in enumerate(row)] for i, row in enumerate(scores)]
    weights = [softmax(row) for row in scores]
    return matmul(weights, v)


def multi_head_attention(x, heads, w_o):
    """x: [n x d_model]; heads: list of (w_q, w_k, w_v), each [d_model x d_k]; w_o: [h*d_k x d_model]."""
    outputs = [scaled_dot_product_attention(matmul(x, w_q), matmul(x, w_k), matmul(x, w_v)) for w_q, w_k, w_v in heads]
    concatenated = [sum((out[i] for out in outputs), []) for i in range(len(x))]
    return matmul(concatenated, w_o)


def positional_encoding(length, d_model):
    """The fixed sinusoidal encodings: [length x d_model]."""
    table = []
    for pos in range(length):
        row = []
        for dim in range(d_model):
            angle = pos / (10000 ** ((dim - dim % 2) / d_model))
            row.append(math.sin(angle) if dim % 2 == 0 else math.cos(angle))
        table.append(row)
    return table


if __name__ == "__main__":
    tokens = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    print(scaled_dot_product_attention(tokens, tokens, tokens))
    print(scaled_dot_product_attention(tokens, tokens, tokens, causal=True))
