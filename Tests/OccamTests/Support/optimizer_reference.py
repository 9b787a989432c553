#!/usr/bin/env python3
"""PyTorch reference for OptimizerTests: runs one torch.optim optimizer in float64 and prints the results.

Reads JSON from the file named by the first argument (or stdin):
  {"optimizer": "sgd" | "adam" | "adamw", "options": {...torch keyword arguments except lr...},
   "parameters": [{"name": str, "shape": [int], "values": [float]}],
   "gradients": [[[float] per parameter] per step], "learning_rates": [float per step]}
Writes JSON to stdout:
  {"parameters": [[[float] per parameter] per step, after that step],
   "state": {"<key>.<name>": [float]}}   (momentum_buffer / exp_avg / exp_avg_sq after the last step)
"""
import json
import sys

import torch


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            spec = json.load(f)
    else:
        spec = json.load(sys.stdin)
    params = [
        torch.tensor(p["values"], dtype=torch.float64).reshape(p["shape"]).requires_grad_(True)
        for p in spec["parameters"]
    ]
    names = [p["name"] for p in spec["parameters"]]
    kind = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[spec["optimizer"]]
    options = dict(spec["options"])
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    optimizer = kind(params, lr=spec["learning_rates"][0], foreach=False, **options)
    history = []
    for grads, lr in zip(spec["gradients"], spec["learning_rates"]):
        for group in optimizer.param_groups:
            group["lr"] = lr
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float64).reshape(p.shape)
        optimizer.step()
        history.append([p.detach().reshape(-1).tolist() for p in params])
    state = {}
    for p, name in zip(params, names):
        for key, value in optimizer.state[p].items():
            if torch.is_tensor(value) and value.dim() > 0:
                state[f"{key}.{name}"] = value.reshape(-1).tolist()
    json.dump({"parameters": history, "state": state}, sys.stdout)


if __name__ == "__main__":
    main()
