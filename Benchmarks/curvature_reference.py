#!/usr/bin/env python3
"""Independent PyTorch reference for `occam curvature`: eigenvalues of the Hessian or the Gauss-Newton
matrix (GGN) of a checkpoint's mean loss on the first N images of a data set.

What it computes (numbers as one JSON object on stdout, progress on stderr):
  - the loss L(theta) = (1/N) sum_i loss(f(x_i; theta), y_i) over the first N records of the split's file
    (file order, no shuffling, no validation hold-out), its accuracy and gradient norm;
  - Hessian-vector products by double backprop (grad of <grad L, v>), or GGN products
    J^T H_loss J v / N with H_loss = diag(p) - p p^T per sample (softmax cross-entropy; 2 I for mse),
    via torch.func.jvp and torch.func.vjp. Over batches, each batch's product is weighted by
    batch size / N (the full-data mean, correct for a short last batch);
  - the top K (and with --bottom K the bottom K) eigenvalues with scipy.sparse.linalg.eigsh
    (ARPACK, which='LA' / 'SA') on a LinearOperator, with matvec counts and wall times;
  - with --dense (<= 10,000 parameters): the full matrix in float64 built column by column from
    matvecs, symmetrized, and every eigenvalue from numpy.linalg.eigh.

Data are prepared as Occam prepares them (Sources/OccamData): IDX bytes b become Scalar(b) / 255 in the
compute precision (Float(b)/255 for float32, Double(b)/255 for float64; CIFAR-10 binary the same, CHW).
If the checkpoint's config has "normalize": true, per-channel mean and population standard deviation are
computed in Double over the *training split Occam trained on* (the full training file minus the seeded
validation hold-out, then the seeded --train-size subset), reproducing Occam's RandomGenerator
(xoshiro256** seeded by SplitMix64, streams keyed by FNV-1a of "validation-split" / "subset", Fisher-Yates
with Swift's Lemire draw), and applied as (x - Scalar(mean)) * Scalar(1 / sd). Checkpoints do not store
these statistics, so they are recomputed here; the JSON reports them.

Models: the ModelZoo architectures with PyTorch names (Sources/OccamNN/ModelZoo.swift): lenet-300-100,
mlp (config "widths"), lenet-5, conv-2/4/6, mcnn (config "width"), resnet-20 (BatchNorm in evaluation
mode, i.e. with the running statistics; dropout off). The state dict is loaded strictly.

Other modes:
  --self-test   checks the operators on a tiny synthetic MLP against torch.autograd.functional.hessian,
                central finite differences of gradients, an explicit J^T H J, batching invariance, symmetry
                and eigsh against a dense eigensolver; exits non-zero on a failure.
  --timing      ms per gradient, ms per HVP, s for top-10 eigsh on 5,000 training images of
                lenet-300-100 (the --checkpoint given, else a seeded PyTorch-initialized lenet-300-100).
                Run it as
                    MKL_DEBUG_CPU_TYPE=5 python3 Benchmarks/curvature_reference.py --timing --checkpoint F
                (MKL_DEBUG_CPU_TYPE=5 makes older MKL builds use AVX2 kernels on AMD CPUs). Torch uses 2
                threads (--threads).

Example:
    python3 Benchmarks/curvature_reference.py --checkpoint RUN/final.safetensors --samples 1000 --top 10
"""

import argparse
import gzip
import json
import math
import os
import platform
import statistics
import sys
import time
from collections import OrderedDict


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Occam's random generator (Sources/OccamTensor/RandomGenerator.swift), for the validation split and subset.

M64 = (1 << 64) - 1


def _splitmix_next(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def _fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x00000100000001B3) & M64
    return h


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class OccamRandom:
    """xoshiro256** seeded through SplitMix64, as RandomGenerator."""

    def __init__(self, seed):
        self.key = seed & M64
        s = self.key
        state = []
        for _ in range(4):
            s, out = _splitmix_next(s)
            state.append(out)
        self.s = state

    def stream(self, purpose):
        _, out = _splitmix_next(self.key ^ _fnv1a64(purpose))
        return OccamRandom(out)

    def next(self):
        s = self.s
        result = (_rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def below(self, n):
        """Swift's RandomNumberGenerator.next(upperBound:) for UInt64 (Lemire's nearly divisionless)."""
        m = self.next() * n
        if (m & M64) < n:
            t = ((1 << 64) - n) % n
            while (m & M64) < t:
                m = self.next() * n
        return m >> 64

    def permutation(self, count):
        order = list(range(count))
        for i in range(count - 1, 0, -1):
            j = self.below(i + 1)
            order[i], order[j] = order[j], order[i]
        return order


def validation_indices(count, validation_count, seed):
    order = OccamRandom(seed).stream("validation-split").permutation(count)
    return sorted(order[validation_count:]), sorted(order[:validation_count])


def subset_indices(count, size, seed):
    if size >= count:
        return list(range(count))
    return sorted(OccamRandom(seed).stream("subset").permutation(count)[:size])


# ---------------------------------------------------------------------------------------------------------
# Data (Sources/OccamData): IDX and CIFAR-10 readers, Scalar(b) / 255, optional channel normalization.

MNIST_FAMILY = {"fashion-mnist": "fashion-mnist", "mnist": "mnist", "kmnist": "kmnist"}


def _open_maybe_gzip(directory, name):
    for candidate, opener in ((name + ".gz", gzip.open), (name, open)):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                return f.read(), path
    return None, None


def _locate(dataset, data_dir, names):
    sub = {"cifar10": "cifar-10-batches-bin"}.get(dataset, dataset)
    candidates = [data_dir, os.path.join(data_dir, sub)]
    for c in candidates:
        if all(_open_exists(c, n) for n in names):
            return c
    sys.exit(f"error: {dataset} files {names} not found in {candidates} (use --data-dir)")


def _open_exists(directory, name):
    return os.path.exists(os.path.join(directory, name + ".gz")) or os.path.exists(os.path.join(directory, name))


def read_idx(directory, name, rank):
    import numpy as np

    raw, path = _open_maybe_gzip(directory, name)
    magic = int.from_bytes(raw[:4], "big")
    if magic != (0x0800 | rank):
        sys.exit(f"error: {path}: magic {magic:#010x}, expected {0x0800 | rank:#010x}")
    dims = [int.from_bytes(raw[4 + 4 * a: 8 + 4 * a], "big") for a in range(rank)]
    header = 4 + 4 * rank
    count = int(np.prod(dims))
    if len(raw) != header + count:
        sys.exit(f"error: {path}: {len(raw)} bytes, expected {header + count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_split_bytes(dataset, data_dir, split):
    """All records of a split: uint8 images [n, C*H*W] (CHW rows), int64 labels [n], (C, H, W)."""
    import numpy as np

    if dataset == "cifar10":
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
        directory = _locate(dataset, data_dir, names)
        chunks = []
        for n in names:
            raw, path = _open_maybe_gzip(directory, n)
            if len(raw) % 3073 != 0:
                sys.exit(f"error: {path}: {len(raw)} bytes is not a whole number of 3073-byte records")
            chunks.append(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073))
        records = np.concatenate(chunks)
        return records[:, 1:], records[:, 0].astype(np.int64), (3, 32, 32)
    if dataset not in MNIST_FAMILY:
        sys.exit(f"error: unknown dataset {dataset!r}")
    prefix = "train" if split == "train" else "t10k"
    names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
    directory = _locate(dataset, data_dir, names)
    images = read_idx(directory, names[0], 3)
    labels = read_idx(directory, names[1], 1)
    if images.shape[0] != labels.shape[0]:
        sys.exit(f"error: {images.shape[0]} images but {labels.shape[0]} labels")
    n, h, w = images.shape
    return images.reshape(n, h * w), labels.astype(np.int64), (1, h, w)


def intensities(image_bytes, np_dtype):
    """Occam's `Scalar(b) / 255`, correctly rounded in the compute precision."""
    import numpy as np

    table = np.arange(256, dtype=np_dtype) / np_dtype(255)
    return table[image_bytes]


def normalization_statistics(config, data_dir, channels, np_dtype):
    """Mean and population sd per channel of Occam's training split (after hold-out and subset), in Double
    over pixels held in the compute precision (as ChannelNormalization.fitted)."""
    import numpy as np

    images, _, _ = load_split_bytes(config["dataset"], data_dir, "train")
    seed = config.get("dataSeed", config.get("seed", 0))
    held = config.get("validationCount", 5000)
    train, _ = validation_indices(images.shape[0], held, seed)
    if config.get("trainSize") is not None:
        keep = subset_indices(len(train), config["trainSize"], seed)
        train = [train[i] for i in keep]
    x = intensities(images[np.asarray(train, dtype=np.int64)], np_dtype).astype(np.float64)
    x = x.reshape(len(train), channels, -1)
    mean = x.mean(axis=(0, 2))
    sd = np.sqrt(((x - mean[None, :, None]) ** 2).mean(axis=(0, 2)))
    return mean, sd, len(train)


def prepare_inputs(image_bytes, shape, normalization, np_dtype):
    import numpy as np

    x = intensities(image_bytes, np_dtype)
    if normalization is not None:
        mean, sd = normalization
        c = shape[0]
        shift = np.asarray(mean, dtype=np.float64).astype(np_dtype)
        scale = (1.0 / np.where(np.asarray(sd) > 0, sd, 1.0)).astype(np_dtype)
        x = x.reshape(x.shape[0], c, -1)
        x = ((x - shift[None, :, None]) * scale[None, :, None]).reshape(x.shape[0], -1)
    return x


# ---------------------------------------------------------------------------------------------------------
# Models (Sources/OccamNN/ModelZoo.swift), with PyTorch's names.

def build_model(name, input_shape, classes, widths=(512,), width=1):
    import torch.nn as nn

    c, h, _ = input_shape
    inputs = c * h * input_shape[2]

    def mlp(n_in, ws, prefix="relu"):
        layers, prev = [], n_in
        for i, wd in enumerate(ws):
            layers += [(f"fc{i + 1}", nn.Linear(prev, wd)), (f"{prefix}{i + 1}", nn.ReLU())]
            prev = wd
        layers.append((f"fc{len(ws) + 1}", nn.Linear(prev, classes)))
        return layers

    if name == "lenet-300-100":
        return nn.Sequential(OrderedDict([("flatten", nn.Flatten())] + mlp(inputs, [300, 100]))), False
    if name == "mlp":
        return nn.Sequential(OrderedDict([("flatten", nn.Flatten())] + mlp(inputs, list(widths)))), False
    if name == "lenet-5":
        pad = max(0, (32 - h) // 2)
        after = ((h + 2 * pad - 4) // 2 - 4) // 2
        return nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(c, 6, 5, padding=pad)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(16 * after * after, 120)), ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(120, 84)), ("relu4", nn.ReLU()), ("fc3", nn.Linear(84, classes)),
        ])), True
    if name in ("conv-2", "conv-4", "conv-6"):
        blocks = int(name[5:]) // 2
        layers, cin, extent = [], c, h
        for b in range(blocks):
            cout = 64 << b
            for i in (1, 2):
                idx = b * 2 + i
                layers += [(f"conv{idx}", nn.Conv2d(cin, cout, 3, padding=1)), (f"relu{idx}", nn.ReLU())]
                cin = cout
            layers.append((f"pool{b + 1}", nn.MaxPool2d(2)))
            extent //= 2
        layers.append(("flatten", nn.Flatten()))
        layers += mlp(cin * extent * extent, [256, 256], prefix="fc_relu")
        return nn.Sequential(OrderedDict(layers)), True
    if name == "mcnn":
        k = width
        layers, cin, extent = [], c, h
        for index, multiple in enumerate([1, 2, 4, 8]):
            layers += [(f"conv{index + 1}", nn.Conv2d(cin, k * multiple, 3, padding=1, bias=False)),
                       (f"bn{index + 1}", nn.BatchNorm2d(k * multiple)), (f"relu{index + 1}", nn.ReLU())]
            if index > 0:
                layers.append((f"pool{index}", nn.MaxPool2d(2)))
                extent //= 2
            cin = k * multiple
        layers += [("pool4", nn.MaxPool2d(extent)), ("flatten", nn.Flatten()), ("fc", nn.Linear(8 * k, classes))]
        return nn.Sequential(OrderedDict(layers)), True
    if name == "resnet-20":
        return _resnet20(c, classes, 16 * width), True
    sys.exit(f"error: unknown model {name!r} (lenet-300-100, mlp, lenet-5, conv-2, conv-4, conv-6, mcnn, resnet-20)")


def _resnet20(channels, classes, base):
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            proj = stride != 1 or cin != cout
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout)) if proj else nn.Sequential()

        def forward(self, x):
            y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            return (y + self.shortcut(x)).relu()

    class Pool(nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    layers = [("conv", nn.Conv2d(channels, base, 3, padding=1, bias=False)), ("bn", nn.BatchNorm2d(base)),
              ("relu", nn.ReLU())]
    cin = base
    for stage in range(3):
        cout = base << stage
        blocks = []
        for b in range(3):
            blocks.append((str(b), Block(cin, cout, 2 if stage > 0 and b == 0 else 1)))
            cin = cout
        layers.append((f"layer{stage + 1}", nn.Sequential(OrderedDict(blocks))))
    layers += [("pool", Pool()), ("fc", nn.Linear(cin, classes))]
    return nn.Sequential(OrderedDict(layers))


def load_checkpoint(path):
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    state = {k: v for k, v in tensors.items() if not k.startswith(("optimizer.", "mask."))}
    masks = {k[len("mask."):]: v for k, v in tensors.items() if k.startswith("mask.")}
    config = json.loads(metadata["occam.config"]) if "occam.config" in metadata else {}
    return state, masks, config, metadata


def load_state_strictly(model, state, dtype):
    import torch

    expected = model.state_dict()
    fixed = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked") and k in expected:
            fixed[k] = v.to(torch.long)  # Occam stores it as a scalar of the checkpoint's precision
        else:
            fixed[k] = v.to(dtype)
    missing = [k for k in expected if k not in fixed]
    # Occam writes num_batches_tracked; tolerate its absence only (it does not enter evaluation).
    for k in missing:
        if k.endswith("num_batches_tracked"):
            fixed[k] = expected[k]
    model.load_state_dict(fixed, strict=True)


# ---------------------------------------------------------------------------------------------------------
# Curvature operators over a flat vector of the selected parameters.

class Problem:
    """The mean loss of `model` over (x, y) split into batches, as a function of the selected parameters."""

    def __init__(self, model, x, y, batch_size, names, loss="cross-entropy", label_smoothing=0.0, masks=None):
        import torch

        self.model, self.loss_kind, self.label_smoothing = model, loss, label_smoothing
        self.all_params = {k: v.detach() for k, v in model.named_parameters()}
        self.buffers = {k: v.detach() for k, v in model.named_buffers()}
        self.names = names
        self.shapes = [self.all_params[n].shape for n in names]
        self.sizes = [self.all_params[n].numel() for n in names]
        self.theta = [self.all_params[n].clone() for n in names]
        self.n = x.shape[0]
        self.batches = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, self.n, batch_size)]
        self.dtype = x.dtype
        self.classes = None
        # Optional restriction to the unpruned coordinates: the operator acts on those only.
        if masks:
            keep = [masks[n].reshape(-1).to(torch.bool) if n in masks else torch.ones(s, dtype=torch.bool)
                    for n, s in zip(names, self.sizes)]
            self.keep = torch.cat(keep)
        else:
            self.keep = None
        self.full_dim = sum(self.sizes)
        self.dim = int(self.keep.sum()) if self.keep is not None else self.full_dim

    # flat <-> list of tensors
    def split(self, flat):
        if self.keep is not None:
            full = flat.new_zeros(self.full_dim)
            full[self.keep] = flat
            flat = full
        out, o = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            out.append(flat[o:o + size].view(shape))
            o += size
        return out

    def flatten(self, tensors):
        import torch

        flat = torch.cat([t.reshape(-1) for t in tensors])
        return flat[self.keep] if self.keep is not None else flat

    def logits(self, theta, x):
        from torch.func import functional_call

        params = dict(self.all_params)
        params.update(zip(self.names, theta))
        return functional_call(self.model, (params, self.buffers), (x,))

    def batch_loss(self, z, y):
        import torch
        import torch.nn.functional as F

        if self.loss_kind == "mse":
            target = F.one_hot(y, z.shape[1]).to(z.dtype)
            return ((z - target) ** 2).sum(dim=1).mean()
        return F.cross_entropy(z, y, label_smoothing=self.label_smoothing)

    def loss_and_gradient(self):
        import torch

        total, correct = 0.0, 0
        grads = [torch.zeros_like(t) for t in self.theta]
        for x, y in self.batches:
            theta = [t.detach().requires_grad_(True) for t in self.theta]
            z = self.logits(theta, x)
            loss = self.batch_loss(z, y)
            g = torch.autograd.grad(loss, theta)
            w = x.shape[0] / self.n
            total += w * loss.item()
            correct += int((z.argmax(1) == y).sum())
            for a, b in zip(grads, g):
                a.add_(b, alpha=w)
        return total, correct / self.n, self.flatten(grads)

    def hvp(self, v):
        """H v by double backprop, batch products weighted by batch size / N."""
        import torch

        vs = self.split(v)
        out = [torch.zeros_like(t) for t in self.theta]
        for x, y in self.batches:
            theta = [t.detach().requires_grad_(True) for t in self.theta]
            loss = self.batch_loss(self.logits(theta, x), y)
            g = torch.autograd.grad(loss, theta, create_graph=True)
            dot = sum((gi * vi).sum() for gi, vi in zip(g, vs))
            hv = torch.autograd.grad(dot, theta)
            w = x.shape[0] / self.n
            for a, b in zip(out, hv):
                a.add_(b, alpha=w)
        return self.flatten(out)

    def hvp_forward_over_reverse(self, v):
        """H v as jvp of the gradient (a second, independent way; used by --self-test)."""
        import torch
        from torch.func import grad, jvp

        vs = tuple(self.split(v))
        out = [torch.zeros_like(t) for t in self.theta]
        for x, y in self.batches:
            def f(*theta):
                return self.batch_loss(self.logits(list(theta), x), y)
            _, hv = jvp(grad(f, argnums=tuple(range(len(vs)))), tuple(self.theta), vs)
            w = x.shape[0] / self.n
            for a, b in zip(out, hv):
                a.add_(b, alpha=w)
        return self.flatten(out)

    def ggn_vp(self, v):
        """J^T H_loss J v / N: H_loss = diag(p) - p p^T per sample (cross-entropy), 2 I (mse)."""
        import torch
        from torch.func import jvp, vjp

        vs = tuple(self.split(v))
        out = [torch.zeros_like(t) for t in self.theta]
        for x, y in self.batches:
            def f(*theta):
                return self.logits(list(theta), x)
            z, jv = jvp(f, tuple(self.theta), vs)
            if self.loss_kind == "mse":
                hjv = 2 * jv
            else:
                p = torch.softmax(z, dim=1)
                hjv = p * jv - p * (p * jv).sum(dim=1, keepdim=True)
            _, pull = vjp(f, *self.theta)
            jt = pull(hjv / self.n)  # batch mean (1/n_b) times weight n_b/N
            for a, b in zip(out, jt):
                a.add_(b)
        return self.flatten(out)


def dense_matrix_vectorized(problem, operator, chunk=256):
    """The full matrix (float64 numpy), `chunk` columns at a time with torch.func.vmap over basis vectors:
    forward-over-reverse HVPs for the Hessian, jvp then vjp for the GGN. Unmasked problems only."""
    import numpy as np
    import torch
    from torch.func import grad, jvp, vjp, vmap

    dim, dtype = problem.dim, problem.dtype
    m = np.zeros((dim, dim), dtype=np.float64)
    start = time.perf_counter()
    for x, y in problem.batches:
        w = x.shape[0] / problem.n

        def f_loss(*theta):
            return problem.batch_loss(problem.logits(list(theta), x), y)

        def f_logits(*theta):
            return problem.logits(list(theta), x)

        theta = tuple(problem.theta)
        if operator == "ggn":
            z, pull = vjp(f_logits, *theta)
            p = torch.softmax(z.detach(), dim=1)

        def column(e):
            vs = tuple(problem.split(e))
            if operator == "hessian":
                _, hv = jvp(grad(f_loss, argnums=tuple(range(len(vs)))), theta, vs)
                return torch.cat([t.reshape(-1) for t in hv]) * w
            _, jv = jvp(f_logits, theta, vs)
            if problem.loss_kind == "mse":
                hjv = 2 * jv
            else:
                hjv = p * jv - p * (p * jv).sum(dim=1, keepdim=True)
            return torch.cat([t.reshape(-1) for t in pull(hjv / problem.n)])

        batched = vmap(column)
        for j0 in range(0, dim, chunk):
            j1 = min(dim, j0 + chunk)
            e = torch.zeros(j1 - j0, dim, dtype=dtype)
            e[torch.arange(j1 - j0), torch.arange(j0, j1)] = 1
            m[:, j0:j1] += batched(e).double().numpy().T
            el = time.perf_counter() - start
            log(f"dense: columns {j1}/{dim} of batch, {el:.1f} s")
    return m


def dense_matrix(apply, dim, dtype, progress_every=500):
    import numpy as np
    import torch

    m = np.empty((dim, dim), dtype=np.float64)
    start = time.perf_counter()
    for j in range(dim):
        e = torch.zeros(dim, dtype=dtype)
        e[j] = 1
        m[:, j] = apply(e).double().numpy()
        if (j + 1) % progress_every == 0:
            el = time.perf_counter() - start
            log(f"dense: column {j + 1}/{dim}, {el:.1f} s, eta {el / (j + 1) * (dim - j - 1):.0f} s")
    return m


def eigsh_extreme(apply, dim, dtype, k, which, tol, seed, maxiter=None):
    import numpy as np
    import torch
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    count = [0]

    def matvec(v):
        count[0] += 1
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        return apply(torch.from_numpy(v).to(dtype)).double().numpy()

    op = LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(dim)
    start = time.perf_counter()
    converged = True
    try:
        values, vectors = eigsh(op, k=k, which=which, tol=tol, v0=v0, maxiter=maxiter)
    except ArpackNoConvergence as error:  # keep the pairs that did converge
        converged = False
        values, vectors = error.eigenvalues, error.eigenvectors
        log(f"eigsh {which}: only {len(values)} of {k} eigenvalues converged within maxiter={maxiter}")
    seconds = time.perf_counter() - start
    order = np.argsort(values)[::-1] if which == "LA" else np.argsort(values)
    values, vectors = values[order], vectors[:, order]
    # Residuals ||A x - lambda x|| of the returned pairs (extra matvecs, not counted above).
    residuals = []
    for i in range(len(values)):
        ax = apply(torch.from_numpy(vectors[:, i]).to(dtype)).double().numpy()
        residuals.append(float(np.linalg.norm(ax - values[i] * vectors[:, i])))
    return {"which": which, "k": k, "tol": tol, "maxiter": maxiter, "converged": converged,
            "eigenvalues": [float(x) for x in values], "matvecs": count[0], "seconds": seconds,
            "residual_norms": residuals}


def time_calls(fn, repeats):
    if repeats == 0:
        return {"median_s": float("nan"), "min_s": float("nan"), "all_s": []}
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return {"median_s": statistics.median(samples), "min_s": min(samples), "all_s": samples}


# ---------------------------------------------------------------------------------------------------------
# Self-test on a tiny synthetic MLP.

def self_test(args):
    import numpy as np
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    dtype = torch.float64
    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(5, 4)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(4, 3))]))
    model = model.to(dtype)
    n = 23
    x = torch.randn(n, 5, dtype=dtype)
    y = torch.randint(0, 3, (n,))
    results, failures = {}, []

    def check(name, value, limit):
        results[name] = {"value": float(value), "limit": limit, "ok": bool(value <= limit)}
        if not value <= limit:
            failures.append(name)

    for loss in ("cross-entropy", "mse"):
        names = [k for k, _ in model.named_parameters()]
        whole = Problem(model, x, y, n, names, loss=loss)
        batched = Problem(model, x, y, 7, names, loss=loss)  # 7, 7, 7, 2: a short last batch
        dim = whole.dim
        # The Hessian by torch.autograd.functional.hessian on the flat parameter vector, mean over all n.
        theta0 = whole.flatten(whole.theta)

        def flat_loss(flat):
            return whole.batch_loss(whole.logits(whole.split(flat), x), y)

        h_ref = torch.autograd.functional.hessian(flat_loss, theta0).numpy()
        h_dr = dense_matrix(batched.hvp, dim, dtype, progress_every=10 ** 9)
        h_fr = dense_matrix(batched.hvp_forward_over_reverse, dim, dtype, progress_every=10 ** 9)
        scale = np.abs(h_ref).max()
        check(f"{loss}: double-backprop HVP (batches 7,7,7,2) vs autograd.functional.hessian",
              np.abs(h_dr - h_ref).max() / scale, 1e-12)
        check(f"{loss}: forward-over-reverse HVP vs autograd.functional.hessian",
              np.abs(h_fr - h_ref).max() / scale, 1e-12)
        check(f"{loss}: Hessian symmetry |H - H^T| / |H|", np.abs(h_dr - h_dr.T).max() / scale, 1e-13)
        h_vm = dense_matrix_vectorized(batched, "hessian", chunk=10)
        check(f"{loss}: vmapped dense Hessian (--dense) vs autograd.functional.hessian",
              np.abs(h_vm - h_ref).max() / scale, 1e-12)
        # Central differences of gradients along random directions, eps 6e-6 in float64.
        rng = np.random.default_rng(1)
        worst = 0.0
        for _ in range(5):
            v = torch.from_numpy(rng.standard_normal(dim))
            eps = 6e-6

            def grad_at(flat):
                theta = [t.detach().requires_grad_(True) for t in whole.split(flat)]
                return whole.flatten(torch.autograd.grad(
                    whole.batch_loss(whole.logits(theta, x), y), theta))

            fd = (grad_at(theta0 + eps * v) - grad_at(theta0 - eps * v)) / (2 * eps)
            hv = batched.hvp(v)
            worst = max(worst, float((fd - hv).norm() / hv.norm()))
        check(f"{loss}: HVP vs central differences of gradients (eps 6e-6), relative", worst, 1e-6)
        # GGN: explicit J^T H_loss J / n with the Jacobian from torch.autograd.functional.jacobian.
        jac = torch.autograd.functional.jacobian(lambda flat: whole.logits(whole.split(flat), x), theta0)
        jac = jac.reshape(n, -1, dim).numpy()
        z = whole.logits(whole.theta, x).detach()
        p = torch.softmax(z, 1).numpy()
        g_ref = np.zeros((dim, dim))
        for i in range(n):
            hl = 2 * np.eye(z.shape[1]) if loss == "mse" else np.diag(p[i]) - np.outer(p[i], p[i])
            g_ref += jac[i].T @ hl @ jac[i] / n
        g_op = dense_matrix(batched.ggn_vp, dim, dtype, progress_every=10 ** 9)
        check(f"{loss}: GGN product (batches 7,7,7,2) vs explicit J^T H_loss J / N",
              np.abs(g_op - g_ref).max() / np.abs(g_ref).max(), 1e-12)
        g_vm = dense_matrix_vectorized(batched, "ggn", chunk=10)
        check(f"{loss}: vmapped dense GGN (--dense) vs explicit J^T H_loss J / N",
              np.abs(g_vm - g_ref).max() / np.abs(g_ref).max(), 1e-12)
        check(f"{loss}: GGN is PSD (-min eigenvalue / max)",
              max(0.0, -np.linalg.eigvalsh((g_op + g_op.T) / 2).min()) / np.abs(g_ref).max(), 1e-12)
        # eigsh on the operator vs numpy.linalg.eigh on the dense matrix.
        dense = np.linalg.eigvalsh((h_ref + h_ref.T) / 2)
        top = eigsh_extreme(batched.hvp, dim, dtype, 3, "LA", 1e-12, 0)["eigenvalues"]
        bottom = eigsh_extreme(batched.hvp, dim, dtype, 3, "SA", 1e-12, 0)["eigenvalues"]
        check(f"{loss}: eigsh LA top-3 vs dense eigh", np.abs(np.array(top) - dense[::-1][:3]).max() / scale, 1e-9)
        check(f"{loss}: eigsh SA bottom-3 vs dense eigh", np.abs(np.array(bottom) - dense[:3]).max() / scale, 1e-9)
        if loss == "cross-entropy":
            results["cross-entropy: dense Hessian eigenvalues"] = [float(v) for v in dense]

    # GGN = Hessian for a model linear in its parameters (softmax regression).
    lin = nn.Sequential(OrderedDict([("fc1", nn.Linear(5, 3))])).to(dtype)
    names = [k for k, _ in lin.named_parameters()]
    prob = Problem(lin, x, y, 7, names)
    h = dense_matrix(prob.hvp, prob.dim, dtype, progress_every=10 ** 9)
    g = dense_matrix(prob.ggn_vp, prob.dim, dtype, progress_every=10 ** 9)
    check("softmax regression: GGN = Hessian", np.abs(h - g).max() / np.abs(h).max(), 1e-12)
    # Occam's RNG: a fixed permutation, so a change to the port shows.
    results["OccamRandom(seed 0).stream('validation-split').permutation(10)"] = \
        OccamRandom(0).stream("validation-split").permutation(10)
    print(json.dumps({"self_test": results, "failures": failures}, indent=2))
    log("self-test:", "FAILED " + ", ".join(failures) if failures else "all checks passed")
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="an Occam checkpoint (.safetensors)")
    p.add_argument("--model", help="model name (default: the checkpoint config's)")
    p.add_argument("--widths", help="hidden widths of mlp, comma-separated (default: the config's)")
    p.add_argument("--data-dir", default=None, help="directory of the data set (default /usr/share/datasets/fashion-mnist "
                   "for fashion-mnist, else $OCCAM_DATA/<name>)")
    p.add_argument("--dataset", default=None, help="data set (default: the config's, else fashion-mnist)")
    p.add_argument("--split", choices=["train", "test"], default="train")
    p.add_argument("--samples", type=int, default=1000, help="the first N records of the split's file")
    p.add_argument("--operator", choices=["hessian", "ggn"], default="hessian")
    p.add_argument("--loss", choices=["checkpoint", "cross-entropy", "mse"], default="cross-entropy",
                   help="loss (default cross-entropy; 'checkpoint' takes the config's loss and label smoothing)")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--bottom", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-8, help="eigsh relative tolerance")
    p.add_argument("--maxiter", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of data, parameters and products (eigsh works in float64)")
    p.add_argument("--parameters", choices=["all", "weights"], default="all",
                   help="weights: tensors named *.weight that are not BatchNorm")
    p.add_argument("--masked", action="store_true", help="restrict to unpruned coordinates (checkpoint masks)")
    p.add_argument("--dense", action="store_true", help="full matrix in float64 and all eigenvalues (<= 10,000 parameters)")
    p.add_argument("--dense-limit", type=int, default=10000)
    p.add_argument("--dense-loop", action="store_true",
                   help="build the dense matrix one matvec per column (default: vmap over 256 columns at once)")
    p.add_argument("--hvp-repeats", type=int, default=5, help="gradients and products timed (median and min reported)")
    p.add_argument("--seed", type=int, default=0, help="seed of eigsh's start vector")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--timing", action="store_true", help="timing mode: 5,000 training images, top 10, lenet-300-100")
    p.add_argument("--evaluate-only", action="store_true",
                   help="loss, accuracy and gradient norm only (to check data and model against occam's metrics)")
    p.add_argument("--self-test", action="store_true", help="check the operators on a tiny MLP and exit")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    if args.self_test:
        sys.exit(self_test(args))
    if args.timing:
        args.samples, args.top, args.split = 5000, 10, "train"
        if args.model is None and args.checkpoint is None:
            args.model = "lenet-300-100"

    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    np_dtype = np.float64 if args.dtype == "float64" else np.float32
    torch.set_default_dtype(dtype)

    state, masks, config, metadata = ({}, {}, {}, {})
    if args.checkpoint:
        state, masks, config, metadata = load_checkpoint(args.checkpoint)
    if "occam.input_shape" in metadata or "occam.classes" in metadata:
        sys.exit(f"error: {args.checkpoint} was trained on synthetic data (input shape "
                 f"{metadata.get('occam.input_shape')}, classes {metadata.get('occam.classes')}); this script reads "
                 f"image data sets only")
    model_name = args.model or config.get("model")
    if model_name is None:
        sys.exit("error: give --checkpoint or --model")
    if args.model and config.get("model") and args.model != config["model"]:
        log(f"warning: --model {args.model} overrides the checkpoint's {config['model']}")
    widths = [int(w) for w in args.widths.split(",")] if args.widths else config.get("widths", [512])
    dataset = args.dataset or config.get("dataset", "fashion-mnist")
    data_dir = args.data_dir
    if data_dir is None:
        if dataset == "fashion-mnist":
            data_dir = "/usr/share/datasets/fashion-mnist"
        else:
            data_dir = os.path.join(os.environ.get("OCCAM_DATA", "/usr/share/datasets"), dataset)

    log(f"loading {dataset} {args.split} from {data_dir}")
    image_bytes, labels, shape = load_split_bytes(dataset, data_dir, args.split)
    if args.samples > image_bytes.shape[0]:
        sys.exit(f"error: --samples {args.samples} but the {args.split} file holds {image_bytes.shape[0]}")
    normalization, norm_info = None, None
    if config.get("normalize"):
        t0 = time.perf_counter()
        mean, sd, count = normalization_statistics(config, data_dir, shape[0], np_dtype)
        normalization = (mean, sd)
        norm_info = {"mean": mean.tolist(), "standard_deviation": sd.tolist(), "training_images": count,
                     "seconds": time.perf_counter() - t0}
        log(f"normalization over Occam's {count} training images: mean {mean}, sd {sd}")
    x = prepare_inputs(image_bytes[:args.samples], shape, normalization, np_dtype)
    y = torch.from_numpy(labels[:args.samples].copy())

    torch.manual_seed(args.seed)
    model, takes_images = build_model(model_name, shape, 10, widths, config.get("width", 1))
    model = model.to(dtype)
    if state:
        load_state_strictly(model, state, dtype)
    else:
        log(f"no checkpoint: {model_name} with PyTorch's default initialization, torch seed {args.seed}")
    model.eval()
    xt = torch.from_numpy(x)
    if takes_images:
        xt = xt.reshape(-1, *shape)

    bn_names = {n for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    names = [k for k, _ in model.named_parameters()]
    if args.parameters == "weights":
        names = [k for k in names if k.endswith(".weight") and k.rsplit(".", 1)[0] not in bn_names]
    loss_kind, smoothing = args.loss, 0.0
    if loss_kind == "checkpoint":
        loss_kind = config.get("loss", "cross-entropy")
        smoothing = float(config.get("labelSmoothing", 0) or 0)
    use_masks = {k: v for k, v in masks.items() if k in names} if args.masked else None
    problem = Problem(model, xt, y, args.batch_size, names, loss=loss_kind, label_smoothing=smoothing,
                      masks=use_masks)
    apply = problem.hvp if args.operator == "hessian" else problem.ggn_vp
    log(f"{model_name}: {problem.dim} parameters ({args.parameters}{', masked' if use_masks else ''}), "
        f"{args.samples} {args.split} images in batches of {args.batch_size}, {args.operator}, {args.dtype}, "
        f"{torch.get_num_threads()} threads")

    t0 = time.perf_counter()
    loss, acc, grad = problem.loss_and_gradient()
    first_grad = time.perf_counter() - t0
    grad_time = time_calls(problem.loss_and_gradient, 0 if args.evaluate_only else args.hvp_repeats)
    log(f"loss {loss:.10g}, accuracy {acc:.4f}, |grad| {grad.norm().item():.6g}, "
        f"gradient {1e3 * grad_time['median_s']:.1f} ms")

    if args.evaluate_only:
        print(json.dumps({"checkpoint": args.checkpoint, "model": model_name, "split": args.split,
                          "samples": args.samples, "dtype": args.dtype, "normalization": norm_info,
                          "loss": loss, "accuracy": acc, "gradient_norm": grad.norm().item()}, indent=2))
        return
    rng = np.random.default_rng(args.seed + 1)
    probe = torch.from_numpy(rng.standard_normal(problem.dim)).to(dtype)
    apply(probe)  # warm-up
    hvp_time = time_calls(lambda: apply(probe), args.hvp_repeats)
    log(f"{args.operator} product {1e3 * hvp_time['median_s']:.1f} ms (median of {args.hvp_repeats})")

    result = OrderedDict()
    result["checkpoint"] = os.path.abspath(args.checkpoint) if args.checkpoint else None
    result["checkpoint_precision"] = metadata.get("occam.precision")
    result["checkpoint_iteration"] = metadata.get("occam.iteration")
    result["model"] = model_name
    result["dataset"] = dataset
    result["data_dir"] = data_dir
    result["split"] = args.split
    result["samples"] = args.samples
    result["pixel_scaling"] = f"{args.dtype}(byte) / 255" + (", then (x - mean) / sd per channel" if normalization else "")
    result["normalization"] = norm_info
    result["operator"] = args.operator
    result["loss_function"] = loss_kind + (f" (label smoothing {smoothing})" if smoothing else "")
    result["dtype"] = args.dtype
    result["parameters"] = args.parameters
    result["parameter_names"] = names
    result["dimension"] = problem.dim
    result["batch_size"] = args.batch_size
    result["loss"] = loss
    result["accuracy"] = acc
    result["gradient_norm"] = grad.norm().item()
    result["timing"] = OrderedDict([
        ("threads", torch.get_num_threads()),
        ("first_gradient_s", first_grad),
        ("gradient_ms", 1e3 * grad_time["median_s"]),
        ("gradient_min_ms", 1e3 * grad_time["min_s"]),
        ("product_ms", 1e3 * hvp_time["median_s"]),
        ("product_min_ms", 1e3 * hvp_time["min_s"]),
        ("product_all_ms", [1e3 * s for s in hvp_time["all_s"]]),
    ])

    if args.top > 0:
        log(f"eigsh which=LA k={args.top} tol={args.tol} ...")
        top = eigsh_extreme(apply, problem.dim, dtype, args.top, "LA", args.tol, args.seed, args.maxiter)
        result["top"] = top
        result["timing"]["eigsh_top_s"] = top["seconds"]
        log(f"top {args.top}: {np.array2string(np.array(top['eigenvalues']), precision=8)} "
            f"({top['matvecs']} matvecs, {top['seconds']:.1f} s)")
    if args.bottom > 0:
        log(f"eigsh which=SA k={args.bottom} tol={args.tol} ...")
        bottom = eigsh_extreme(apply, problem.dim, dtype, args.bottom, "SA", args.tol, args.seed, args.maxiter)
        result["bottom"] = bottom
        result["timing"]["eigsh_bottom_s"] = bottom["seconds"]
        log(f"bottom {args.bottom}: {np.array2string(np.array(bottom['eigenvalues']), precision=8)} "
            f"({bottom['matvecs']} matvecs, {bottom['seconds']:.1f} s)")
    if args.dense:
        if problem.dim > args.dense_limit:
            sys.exit(f"error: --dense needs <= {args.dense_limit} parameters, the model has {problem.dim} "
                     f"(raise --dense-limit to force it)")
        t0 = time.perf_counter()
        if problem.keep is None and not args.dense_loop:
            m = dense_matrix_vectorized(problem, args.operator)
        else:
            m = dense_matrix(apply, problem.dim, dtype)
        build = time.perf_counter() - t0
        asym = float(np.abs(m - m.T).max() / max(np.abs(m).max(), 1e-300))
        t0 = time.perf_counter()
        values = np.linalg.eigvalsh((m + m.T) / 2)[::-1]
        result["dense"] = {"eigenvalues_descending": [float(v) for v in values], "trace": float(np.trace(m)),
                           "relative_asymmetry": asym, "build_s": build, "eigh_s": time.perf_counter() - t0}
        log(f"dense: top {values[:5]}, bottom {values[-5:]}, asymmetry {asym:.2e}")
    result["environment"] = {"torch": torch.__version__, "numpy": np.__version__,
                             "scipy": __import__("scipy").__version__, "python": platform.python_version(),
                             "machine": platform.processor() or platform.machine(),
                             "MKL_DEBUG_CPU_TYPE": os.environ.get("MKL_DEBUG_CPU_TYPE")}
    if args.timing:
        t = result["timing"]
        log(f"timing ({problem.dim} parameters, 5000 images, {t['threads']} threads): gradient "
            f"{t['gradient_ms']:.1f} ms (min {t['gradient_min_ms']:.1f}), {args.operator} product "
            f"{t['product_ms']:.1f} ms (min {t['product_min_ms']:.1f}), top-10 eigsh "
            f"{t.get('eigsh_top_s', float('nan')):.2f} s ({result['top']['matvecs']} matvecs, "
            f"{t.get('eigsh_top_s', float('nan')) / result['top']['matvecs'] * 1e3:.1f} ms each incl. ARPACK); "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        result["timing"]["load_average_1min"] = os.getloadavg()[0]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
