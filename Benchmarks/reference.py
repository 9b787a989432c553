#!/usr/bin/env python3
"""Reference timings for Occam's speed benchmark (Benchmarks/OccamBenchmarks).

Times, on this machine:
  - NumPy element-wise ops on 10^7 float32 elements: a + b, a * b, np.exp(a), np.maximum(a, 0);
  - PyTorch (CPU, 2 threads) forward plus backward of LeNet-300-100 (784-300-100-10, ReLU,
    cross-entropy, batch 60), with the same deterministic weights and inputs the Swift side builds,
    so the two losses and gradient norms can be compared.

Prints one JSON object (or writes it to --out). A library that cannot be imported is reported as
null with the reason and the install command; nothing fails.

Each timing is {"best_s": ..., "median_s": ..., "all_s": [...]}: seconds per call, the minimum and
median over the repetitions, and every repetition (each averages `iterations` calls).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

INSTALL = "pip install numpy torch"
ELEMENTS = 10_000_000
BATCH, SIZES = 60, (784, 300, 100, 10)


def measure(fn, repeats, iterations=1, warmup=2):
    """Seconds per call of fn(): best and median over `repeats` samples of `iterations` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        samples.append((time.perf_counter() - start) / iterations)
    return {"best_s": min(samples), "median_s": statistics.median(samples), "all_s": samples}


def pattern(np, count, phase, scale):
    """scale * sin(phase + 0.618 i) for i < count, computed in float64, rounded to float32.
    OccamBenchmarks builds the same numbers, so both sides train the same network on the same batch."""
    return (scale * np.sin(phase + 0.618 * np.arange(count, dtype=np.float64))).astype(np.float32)


def lenet_data(np):
    """Inputs [60, 784], labels [60], and PyTorch-layout parameters ([out, in] weights, [out] biases)."""
    x = pattern(np, BATCH * SIZES[0], 0.5, 1.0).reshape(BATCH, SIZES[0])
    labels = np.array([(7 * n) % SIZES[-1] for n in range(BATCH)], dtype=np.int64)
    params = []
    for layer, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        weight = pattern(np, fan_out * fan_in, 1.0 + layer, 1.0 / math.sqrt(fan_in)).reshape(fan_out, fan_in)
        bias = pattern(np, fan_out, 2.0 + layer, 0.1)
        params += [weight, bias]
    return x, labels, params


def numpy_timings(np, repeats):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(ELEMENTS, dtype=np.float32)
    b = rng.standard_normal(ELEMENTS, dtype=np.float32)
    # Each op allocates its result, as Occam's Tensor ops do.
    ops = {
        "add": lambda: a + b,
        "multiply": lambda: a * b,
        "exp": lambda: np.exp(a),
        "relu": lambda: np.maximum(a, np.float32(0)),
    }
    return {name: measure(fn, repeats) for name, fn in ops.items()}


def torch_timings(torch, np, repeats, iterations):
    import torch.nn.functional as F

    torch.set_num_threads(2)
    x_np, labels_np, params_np = lenet_data(np)
    layers = [torch.nn.Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:])]
    with torch.no_grad():
        for layer, weight, bias in zip(layers, params_np[0::2], params_np[1::2]):
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    x, labels = torch.from_numpy(x_np), torch.from_numpy(labels_np)

    def step():
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        return loss

    loss = step()
    timing = measure(step, repeats, iterations, warmup=20)
    timing.update(
        loss=loss.item(),
        gradient_norms=[float(p.grad.norm()) for p in model.parameters()],
        threads=torch.get_num_threads(),
    )
    return timing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the JSON here instead of standard output")
    parser.add_argument("--repeats", type=int, default=15, help="samples per timing (default 15)")
    parser.add_argument("--iterations", type=int, default=50, help="LeNet steps per sample (default 50)")
    args = parser.parse_args()

    result = {"python": platform.python_version(), "machine": platform.processor() or platform.machine()}
    try:
        import numpy as np
    except ImportError as error:
        np = None
        result.update(numpy=None, numpy_error=f"{error}; install with: {INSTALL}")
    if np is not None:
        result["numpy_version"] = np.__version__
        result["numpy"] = numpy_timings(np, args.repeats)

    try:
        import torch
    except Exception as error:  # a broken install can raise more than ImportError (missing CUDA libraries)
        torch = None
        result.update(torch=None, torch_error=f"{type(error).__name__}: {error}; install with: {INSTALL}")
    if torch is not None and np is None:
        result.update(torch=None, torch_error=f"the LeNet reference needs NumPy too; install with: {INSTALL}")
    elif torch is not None:
        result["torch_version"] = torch.__version__
        result["torch"] = torch_timings(torch, np, args.repeats, args.iterations)

    text = json.dumps(result, indent=2)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, args.out)
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())
