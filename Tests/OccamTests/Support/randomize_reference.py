"""An independent measurement of "fitting random labels" (Zhang et al. 2017) on Fashion-MNIST, in PyTorch.

MLP 784-512-10 (ReLU, PyTorch default init) on a seeded random subset of 5,000 training images, pixels in [0, 1]
flattened. SGD lr 0.01, momentum 0.9, batch 128 (reshuffled every epoch, last partial batch kept), cross-entropy,
no weight decay, constant learning rate. After every epoch: accuracy and loss on the whole training subset and
accuracy on the 10,000 clean-label test images; stops at 100% training accuracy or after --epochs.

Conditions: true | random | corrupt:P | shuffled-pixels | random-pixels | gaussian. Label corruption touches only
the training labels; pixel conditions are applied to train and test images alike. Prints one JSON line per run.

    python3 Tests/OccamTests/Support/randomize_reference.py --condition random [--seed 0] [--epochs 300]
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch

root = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(root + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(condition, seed, n=5000):
    rng = np.random.default_rng(seed)
    train_x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    train_y = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    test_x = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    test_y = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    subset = rng.choice(len(train_x), n, replace=False)
    x, y = train_x[subset], train_y[subset].copy()
    if condition == "random" or condition.startswith("corrupt:"):
        p = 1.0 if condition == "random" else float(condition.split(":")[1])
        hit = rng.random(n) < p
        y[hit] = rng.integers(0, 10, hit.sum())
    elif condition == "shuffled-pixels":
        perm = rng.permutation(784)
        x, test_x = x[:, perm], test_x[:, perm]
    elif condition == "random-pixels":
        x, test_x = rng.permuted(x, axis=1), rng.permuted(test_x, axis=1)
    elif condition == "gaussian":
        mean, std = x.mean(), x.std()
        x, test_x = rng.normal(mean, std, x.shape), rng.normal(mean, std, test_x.shape)
    elif condition != "true":
        raise SystemExit(f"unknown condition {condition}")
    as_t = lambda a, dt=torch.float32: torch.tensor(a, dtype=dt)
    return as_t(x), as_t(y, torch.int64), as_t(test_x), as_t(test_y, torch.int64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--condition", default="true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    x, y, test_x, test_y = load(args.condition, args.seed)
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.functional.cross_entropy
    steps_per_epoch = math.ceil(len(x) / args.batch)
    start, fit = time.time(), None
    for epoch in range(1, args.epochs + 1):
        for batch in torch.randperm(len(x)).split(args.batch):
            opt.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            opt.step()
        with torch.no_grad():
            logits = model(x)
            train_loss, train_acc = loss_fn(logits, y).item(), (logits.argmax(1) == y).float().mean().item()
            test_acc = (model(test_x).argmax(1) == test_y).float().mean().item()
        if args.verbose:
            print(f"epoch {epoch} loss {train_loss:.4f} train {train_acc:.4f} test {test_acc:.4f}", flush=True)
        if train_acc == 1.0:
            fit = epoch
            break
    print(json.dumps({
        "condition": args.condition, "seed": args.seed, "epochs_to_fit": fit,
        "steps_to_fit": fit * steps_per_epoch if fit else None, "epochs_run": epoch,
        "train_acc": round(train_acc, 4), "train_loss": round(train_loss, 4), "test_acc": round(test_acc, 4),
        "seconds": round(time.time() - start, 1)}))


if __name__ == "__main__":
    main()
