"""An independent measurement of the instability of LeNet-300-100 on Fashion-MNIST at initialization, in PyTorch.

Same protocol as `occam connectivity --spawn-step 0it` (Frankle et al. 2020): one Glorot-normal initialization (zero biases),
two copies trained with Adam 1.2e-3, batch 60, for STEPS iterations on different data orders (5,000 images held
out), then train and test error at 30 evenly spaced points of the straight line between them. Prints the error
barriers (max on the path minus the mean of the ends) in percentage points, per seed.

    python3 Tests/OccamTests/Support/connectivity_reference.py [STEPS] [SEEDS]
"""
import gzip
import sys

import numpy as np
import torch

torch.set_num_threads(2)
root = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(root + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


train_x = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0, dtype=torch.float32)
train_y = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
test_x = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0, dtype=torch.float32)
test_y = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))


def lenet():
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 300), torch.nn.ReLU(), torch.nn.Linear(300, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_normal_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return model


def train(model, x, y, steps, seed):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1.2e-3)
    order = torch.randperm(len(y), generator=generator)
    position = 0
    for _ in range(steps):
        if position + 60 > len(y):
            order, position = torch.randperm(len(y), generator=generator), 0
        batch = order[position:position + 60]
        position += 60
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()


@torch.no_grad()
def error(model, x, y):
    return (model(x).argmax(1) != y).float().mean().item()


def barrier(errors):
    return max(errors) - (errors[0] + errors[-1]) / 2


steps = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
for seed in range(seeds):
    torch.manual_seed(seed)
    keep = torch.randperm(len(train_y))[5000:]
    x, y = train_x[keep], train_y[keep]
    initial = lenet()
    a, b = lenet(), lenet()
    a.load_state_dict(initial.state_dict())
    b.load_state_dict(initial.state_dict())
    train(a, x, y, steps, 1000 + seed)
    train(b, x, y, steps, 2000 + seed)
    path = lenet()
    train_errors, test_errors = [], []
    for alpha in np.linspace(0, 1, 30):
        path.load_state_dict({k: (1 - alpha) * a.state_dict()[k] + alpha * b.state_dict()[k] for k in a.state_dict()})
        train_errors.append(error(path, x, y))
        test_errors.append(error(path, test_x, test_y))
    print(f"seed {seed}, {steps} steps: ends test error {100 * test_errors[0]:.2f}% / {100 * test_errors[-1]:.2f}%, "
          f"test barrier {100 * barrier(test_errors):.2f} pp, train barrier {100 * barrier(train_errors):.2f} pp", flush=True)

    # Positive control: a second, independent initialization.
    c = lenet()
    train(c, x, y, steps, 3000 + seed)
    test_errors = []
    for alpha in np.linspace(0, 1, 30):
        path.load_state_dict({k: (1 - alpha) * a.state_dict()[k] + alpha * c.state_dict()[k] for k in a.state_dict()})
        test_errors.append(error(path, test_x, test_y))
    print(f"seed {seed}, different init: test barrier {100 * barrier(test_errors):.2f} pp", flush=True)
