"""Evaluates `occam memorize`'s saved network with NumPy and PyTorch, as two plain matrix products.

    python3 memorize_reference.py RUN/memorize [--images /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz]

Reads memorizer.safetensors and labels.csv (each image's index in the training set and its target), loads those
Fashion-MNIST training images as pixels in [0, 1], and prints the worst residual |f(x_i) - y_i| of
relu(X W1^T + b1) W2^T in NumPy float64, PyTorch float64 and PyTorch float32 (PyTorch optional).
"""
import argparse
import gzip

import numpy as np
from safetensors.numpy import load_file

parser = argparse.ArgumentParser()
parser.add_argument("directory")
parser.add_argument("--images", default="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
args = parser.parse_args()

weights = load_file(args.directory + "/memorizer.safetensors")
rows = np.loadtxt(args.directory + "/labels.csv", delimiter=",", skiprows=1, ndmin=2)
indices, targets = rows[:, 0].astype(int), rows[:, 1]
with gzip.open(args.images) as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
X = images[indices].astype(np.float64) / 255
W1, b1, W2 = weights["hidden.weight"], weights["hidden.bias"], weights["output.weight"]
print("numpy float64 worst residual", np.abs((np.maximum(X @ W1.T + b1, 0) @ W2.T)[:, 0] - targets).max())
try:
    import torch
except ImportError:
    raise SystemExit(0)
t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
with torch.no_grad():
    for dtype in (torch.float64, torch.float32):
        f = torch.relu(t(X).to(dtype) @ t(W1).to(dtype).T + t(b1).to(dtype)) @ t(W2).to(dtype).T
        print(f"torch {str(dtype)[6:]} worst residual", np.abs(f[:, 0].double().numpy() - targets).max())
