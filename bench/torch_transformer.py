"""The character transformer in PyTorch, for bench/transformer-compare.ts.

Reads what the TypeScript side wrote into DIR: the model's layer list
(config.json, Tessera's YAML layers after validation, with every dropout
set to 0), Tessera's initial weights (weights.bin + its index in
config.json, Keras names and layouts), the training windows and their
next-character targets, the per-epoch orders Tessera's RNG drew, and the
optimizer (AdamW with Keras's formulas: decoupled weight decay applied
before the Adam step, epsilon added to the bias-corrected sqrt(v)... as
Keras 3 does: step = lr·sqrt(1−β2^t)/(1−β1^t)·m/(sqrt(v)+ε)) and the
cosine learning-rate schedule per step. Builds the same graph layer by
layer, trains `steps` steps on the same batches in the same order, and
prints one JSON line: the validation loss (nats per character) after the
steps, the training losses of every step, and tokens per second.

    OPENBLAS_NUM_THREADS=1 python3 bench/torch_transformer.py DIR [threads]
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
root = sys.argv[1]
cfg = json.load(open(os.path.join(root, "config.json")))
T, V, B = cfg["T"], cfg["V"], cfg["batch"]

blob = np.fromfile(os.path.join(root, "weights.bin"), dtype="<f4")
W = {}
for w in cfg["weights"]:
    W[w["name"]] = torch.nn.Parameter(torch.tensor(blob[w["offset"]: w["offset"] + w["size"]].reshape(w["shape"]).copy()))


def ids(name):
    return torch.tensor(np.fromfile(os.path.join(root, name), dtype="<u2").astype(np.int64).reshape(-1, T))


train_x, train_y, val_x, val_y = ids("train_x.bin"), ids("train_y.bin"), ids("val_x.bin"), ids("val_y.bin")
orders = np.fromfile(os.path.join(root, "orders.bin"), dtype="<u4").reshape(-1, train_x.shape[0])


def forward(x):
    out = {"input": x}
    prev = "input"
    for layer in cfg["layers"]:
        name, kind = layer["name"], layer["type"]
        ins = [out[i] for i in layer.get("inputs", [prev])]
        h = ins[0]
        if kind == "embedding":
            y = F.embedding(h, W[f"{name}/embeddings"])
        elif kind == "position_embedding":
            y = h + W[f"{name}/embeddings"][: h.shape[1]]
        elif kind == "layer_normalization":
            y = F.layer_norm(h, (h.shape[-1],), W.get(f"{name}/gamma"), W.get(f"{name}/beta"), layer["epsilon"])
        elif kind == "multi_head_attention":
            H, dk = layer["num_heads"], layer["key_dim"]
            dv = layer.get("value_dim") or dk

            def proj(p, width):
                y = torch.einsum("btf,fhd->bthd", h, W[f"{name}/{p}/kernel"])
                if f"{name}/{p}/bias" in W:
                    y = y + W[f"{name}/{p}/bias"]
                return y.transpose(1, 2)  # [b, h, t, d]

            q, k, v = proj("query", dk), proj("key", dk), proj("value", dv)
            s = q @ k.transpose(-1, -2) / math.sqrt(dk)
            if layer["use_causal_mask"]:
                s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
            o = (s.softmax(-1) @ v).transpose(1, 2)  # [b, t, h, dv]
            y = torch.einsum("bthd,hdf->btf", o, W[f"{name}/attention_output/kernel"])
            if f"{name}/attention_output/bias" in W:
                y = y + W[f"{name}/attention_output/bias"]
        elif kind == "dense":
            y = h @ W[f"{name}/kernel"]
            if f"{name}/bias" in W:
                y = y + W[f"{name}/bias"]
            act = layer["activation"] if isinstance(layer["activation"], str) else layer["activation"]["type"]
            if act == "gelu":
                y = F.gelu(y)
            elif act == "relu":
                y = F.relu(y)
            elif act != "linear":
                raise SystemExit(f"activation {act} is not in this script")
        elif kind == "add":
            y = ins[0]
            for other in ins[1:]:
                y = y + other
        elif kind == "dropout":
            y = h  # the comparison runs with dropout off
        else:
            raise SystemExit(f"layer type {kind} is not in this script")
        out[name] = y
        prev = name
    return out[prev]


def loss_of(x, y):
    return F.cross_entropy(forward(x).reshape(-1, V), y.reshape(-1))


opt = cfg["optimizer"]
params = list(W.values())
m = [torch.zeros_like(p) for p in params]
v = [torch.zeros_like(p) for p in params]


def lr_at(step):
    s = cfg["schedule"]
    if s["type"] == "constant":
        return s["learning_rate"]
    # Keras CosineDecay with warmup: linear warmup to warmup_target, then cosine from it to alpha·target.
    if step < s["warmup_steps"]:
        return s["initial_learning_rate"] + (s["warmup_target"] - s["initial_learning_rate"]) * step / s["warmup_steps"]
    top = s["warmup_target"] if s["warmup_steps"] > 0 else s["initial_learning_rate"]
    t = min(step - s["warmup_steps"], s["decay_steps"]) / s["decay_steps"]
    return top * ((1 - s["alpha"]) * 0.5 * (1 + math.cos(math.pi * t)) + s["alpha"])


losses = []
start = time.perf_counter()
count = train_x.shape[0]
steps_per_epoch = math.ceil(count / B)
for step in range(cfg["steps"]):
    epoch, b = divmod(step, steps_per_epoch)
    rows = torch.from_numpy(orders[epoch][b * B: (b + 1) * B].astype(np.int64))
    loss = loss_of(train_x[rows], train_y[rows])
    for p in params:
        p.grad = None
    loss.backward()
    losses.append(loss.item())
    lr = lr_at(step)
    t = step + 1
    alpha = lr * math.sqrt(1 - opt["beta_2"] ** t) / (1 - opt["beta_1"] ** t)
    with torch.no_grad():
        for p, mi, vi in zip(params, m, v):
            if opt["weight_decay"]:
                p.sub_(p * opt["weight_decay"] * lr)
            mi.mul_(opt["beta_1"]).add_(p.grad, alpha=1 - opt["beta_1"])
            vi.mul_(opt["beta_2"]).addcmul_(p.grad, p.grad, value=1 - opt["beta_2"])
            p.sub_(alpha * mi / (vi.sqrt() + opt["epsilon"]))
seconds = time.perf_counter() - start

with torch.no_grad():
    total, n = 0.0, 0
    for i in range(0, val_x.shape[0], 256):
        x, y = val_x[i: i + 256], val_y[i: i + 256]
        total += loss_of(x, y).item() * x.shape[0]
        n += x.shape[0]
print(json.dumps({"val_loss": total / n, "losses": losses, "tokens_per_s": cfg["steps"] * B * T / seconds, "seconds": seconds}))
