#!/usr/bin/env python3
"""JAX's side of `occam bench train --compare`: training steps per second of the same workload.

    python3 Benchmarks/train_reference_jax.py --model lenet-300-100 --optimizer adam --batch-size 60
    python3 Benchmarks/train_reference_jax.py --model lenet-5 --optimizer sgd --batch-size 60

The workload of Benchmarks/train_reference.py (random 1x28x28 float32 data, 10 classes, 50 batches taken in
turn, Adam at 1.2e-3 or SGD with momentum 0.9 at 0.05, the models shaped as Occam's), written the way a JAX user
writes a fast loop: one jitted function runs a whole round of steps as a `lax.scan`, so Python is out of the
loop. Weights start as PyTorch's default (uniform in +-1/sqrt(fan_in)). Prints one JSON object:
{"model", "optimizer", "batch_size", "samples_per_second", "seconds_per_step", "jax_version", "device"}.
"""
import argparse
import json
import time

import jax
import jax.numpy as jnp
from jax import lax


def uniform(key, shape, fan_in):
    bound = 1.0 / fan_in ** 0.5
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def init(name: str, key):
    """The model's parameters as a list of (weight, bias) pairs: dense weights (in, out), convolutions OIHW."""
    if name == "lenet-300-100":
        shapes = [(784, 300), (300, 100), (100, 10)]
        keys = jax.random.split(key, 2 * len(shapes))
        return [(uniform(keys[2 * i], s, s[0]), uniform(keys[2 * i + 1], (s[1],), s[0])) for i, s in enumerate(shapes)]
    if name == "lenet-5":
        keys = jax.random.split(key, 10)
        convs = [(6, 1, 5, 5), (16, 6, 5, 5)]
        dense = [(400, 120), (120, 84), (84, 10)]
        layers = [(uniform(keys[2 * i], s, s[1] * 25), uniform(keys[2 * i + 1], (s[0],), s[1] * 25)) for i, s in enumerate(convs)]
        layers += [(uniform(keys[4 + 2 * i], s, s[0]), uniform(keys[5 + 2 * i], (s[1],), s[0])) for i, s in enumerate(dense)]
        return layers
    raise SystemExit(f"unknown model {name}")


def max_pool(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def forward(name: str, params, x):
    """Logits (batch, 10) of images x (batch, 1, 28, 28)."""
    if name == "lenet-300-100":
        h = x.reshape(x.shape[0], -1)
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        return h @ w + b
    (w1, b1), (w2, b2) = params[0], params[1]
    dimensions = ("NCHW", "OIHW", "NCHW")
    h = lax.conv_general_dilated(x, w1, (1, 1), [(2, 2), (2, 2)], dimension_numbers=dimensions)
    h = max_pool(jax.nn.relu(h + b1[None, :, None, None]))
    h = lax.conv_general_dilated(h, w2, (1, 1), "VALID", dimension_numbers=dimensions)
    h = max_pool(jax.nn.relu(h + b2[None, :, None, None])).reshape(x.shape[0], -1)
    for w, b in params[2:-1]:
        h = jax.nn.relu(h @ w + b)
    w, b = params[-1]
    return h @ w + b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="lenet-300-100")
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    parser.add_argument("--batch-size", type=int, default=60)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()

    key = jax.random.PRNGKey(0)
    params = init(args.model, key)
    data_key, label_key = jax.random.split(jax.random.PRNGKey(1))
    images = jax.random.uniform(data_key, (50, args.batch_size, 1, 28, 28), jnp.float32)
    labels = jax.random.randint(label_key, (50, args.batch_size), 0, 10)

    def loss(params, x, y):
        logits = forward(args.model, params, x)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    if args.optimizer == "adam":
        rate, beta1, beta2, epsilon = 1.2e-3, 0.9, 0.999, 1e-8
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        state = (params, zeros, zeros, jnp.zeros((), jnp.float32))

        def update(state, gradients):
            params, m, v, t = state
            t = t + 1
            m = jax.tree_util.tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, m, gradients)
            v = jax.tree_util.tree_map(lambda v, g: beta2 * v + (1 - beta2) * g * g, v, gradients)
            step = rate * jnp.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            params = jax.tree_util.tree_map(lambda p, m, v: p - step * m / (jnp.sqrt(v) + epsilon), params, m, v)
            return (params, m, v, t)
    else:
        rate, momentum = 0.05, 0.9
        state = (params, jax.tree_util.tree_map(jnp.zeros_like, params))

        def update(state, gradients):
            params, velocity = state
            velocity = jax.tree_util.tree_map(lambda v, g: momentum * v + g, velocity, gradients)
            return (jax.tree_util.tree_map(lambda p, v: p - rate * v, params, velocity), velocity)

    def step(state, index):
        gradients = jax.grad(loss)(state[0], images[index], labels[index])
        return update(state, gradients), None

    @jax.jit
    def run(state, indices):
        return lax.scan(step, state, indices)[0]

    rounds = 5
    per_round = args.steps // rounds
    indices = jnp.arange(per_round) % 50
    state = jax.block_until_ready(run(state, indices))  # compiles, and warms up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        state = jax.block_until_ready(run(state, indices))
        best = min(best, (time.perf_counter() - start) / per_round)
    print(json.dumps({
        "model": args.model, "optimizer": args.optimizer, "batch_size": args.batch_size,
        "samples_per_second": args.batch_size / best, "seconds_per_step": best, "jax_version": jax.__version__,
        "device": str(jax.devices()[0]),
    }))


if __name__ == "__main__":
    main()
