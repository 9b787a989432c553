#!/usr/bin/env python3
"""PyTorch's side of `occam bench train`: training steps per second of the same workload.

    python3 Benchmarks/train_reference.py --model lenet-300-100 --optimizer adam --batch-size 60
    python3 Benchmarks/train_reference.py --model lenet-5 --optimizer sgd --batch-size 60

Random Fashion-MNIST-shaped data (1x28x28, 10 classes), float32, 2 threads (torch.set_num_threads), the
models shaped as Occam's (lenet-5 pads its first convolution by 2 for 28x28 inputs). Prints one JSON object:
{"model", "optimizer", "batch_size", "threads", "samples_per_second", "seconds_per_step", "torch_version"}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def build(name: str) -> nn.Module:
    if name == "lenet-300-100":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    if name == "lenet-5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    raise SystemExit(f"unknown model {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet-300-100")
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    parser.add_argument("--batch-size", type=int, default=60)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.model)
    optimizer = (torch.optim.Adam(model.parameters(), lr=1.2e-3) if args.optimizer == "adam"
                 else torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    batches = [(torch.rand(args.batch_size, 1, 28, 28), torch.randint(0, 10, (args.batch_size,))) for _ in range(50)]

    def step(i: int) -> None:
        x, y = batches[i % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for i in range(200):
        step(i)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for i in range(args.steps // 5):
            step(i)
        best = min(best, (time.perf_counter() - start) / (args.steps // 5))
    print(json.dumps({
        "model": args.model, "optimizer": args.optimizer, "batch_size": args.batch_size, "threads": args.threads,
        "samples_per_second": args.batch_size / best, "seconds_per_step": best, "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
