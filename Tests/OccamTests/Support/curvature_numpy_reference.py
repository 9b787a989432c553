#!/usr/bin/env python3
"""Independent NumPy reference for Occam's curvature engine (used by CurvatureReferenceTests.swift).

For an Occam MLP checkpoint (fc1 ... fcK Dense layers, ReLU between them, softmax cross-entropy), over the
first N images of the Fashion-MNIST training file, this computes in float64:

  * the mean cross-entropy loss and its gradient (hand-written backward pass),
  * EXACT Hessian-vector products by Pearlmutter's R-operator: a forward R-pass and a backward R-pass written
    by hand for Dense + ReLU + softmax cross-entropy (no finite differences, no autodiff library),
  * the top-k and bottom-k Hessian eigenvalues: numpy.linalg.eigh of the dense Hessian (built column by
    column from R-op products) when the parameter count is at most --dense-limit (4000), otherwise a plain
    Lanczos with full re-orthogonalization.

It needs only numpy and safetensors, shares no code with Occam (the IDX files are read by hand, the checkpoint
with safetensors.numpy) and prints one JSON object on stdout:

  {"loss", "accuracy", "gradient_norm", "top" (descending), "bottom" (ascending), "dimension", "samples",
   "method", "iterations"}

Usage:
  curvature_numpy_reference.py CHECKPOINT [--samples 200] [--top 5] [--bottom 3] [--data-dir DIR]
  curvature_numpy_reference.py --self-test [CHECKPOINT]   (R-op against central differences of the gradient,
                                                          gradient against differences of the loss, symmetry,
                                                          Lanczos against eigh up to --dense-limit coordinates;
                                                          without a checkpoint a small random MLP on random
                                                          inputs)

The data set is searched as Occam searches it: --data-dir (and its subdirectory fashion-mnist), else
$OCCAM_DATA/fashion-mnist, $OCCAM_DATA, then /usr/share/datasets/fashion-mnist; each file gzip-compressed or not.
Keys starting with "optimizer." or "mask." are not parameters (a mask is ignored: every weight is a coordinate).
"""

import argparse
import gzip
import json
import os
import re
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

# ---------------------------------------------------------------------------------------------------------------
# Checkpoint and data


def load_mlp(path):
    """The layers [(W [out, in], b [out]), ...] of an Occam MLP checkpoint, in float64, and its metadata."""
    with safe_open(path, framework="np") as handle:
        metadata = handle.metadata() or {}
    tensors = load_file(path)
    config = json.loads(metadata.get("occam.config", "{}"))
    model = config.get("model")
    if model not in ("mlp", "lenet-300-100"):
        raise SystemExit(f"{path}: model {model!r} is not an MLP (mlp or lenet-300-100)")
    parameters = {k: v for k, v in tensors.items() if not k.startswith(("optimizer.", "mask."))}
    indices = sorted(int(m.group(1)) for k in parameters for m in [re.fullmatch(r"fc(\d+)\.weight", k)] if m)
    if indices != list(range(1, len(indices) + 1)) or not indices:
        raise SystemExit(f"{path}: expected fc1.weight ... fcK.weight, found {sorted(parameters)}")
    layers = []
    for i in indices:
        w = np.asarray(parameters.pop(f"fc{i}.weight"), dtype=np.float64)
        b = np.asarray(parameters.pop(f"fc{i}.bias"), dtype=np.float64)
        if w.ndim != 2 or b.shape != (w.shape[0],) or (layers and layers[-1][0].shape[0] != w.shape[1]):
            raise SystemExit(f"{path}: fc{i} has shapes {w.shape} and {b.shape}")
        layers.append((w, b))
    if parameters:
        raise SystemExit(f"{path}: tensors that belong to no Dense layer: {sorted(parameters)}")
    if model == "mlp" and "widths" in config:
        hidden = [w.shape[0] for w, _ in layers[:-1]]
        if hidden != list(config["widths"]):
            raise SystemExit(f"{path}: hidden widths {hidden} but occam.config says {config['widths']}")
    return layers, metadata


def data_directory(explicit):
    """The first directory holding the Fashion-MNIST training files, searched in Occam's order."""
    if explicit:
        candidates = [explicit, os.path.join(explicit, "fashion-mnist")]
    else:
        candidates = []
        root = os.environ.get("OCCAM_DATA", "")
        if root:
            candidates += [os.path.join(root, "fashion-mnist"), root]
        candidates.append("/usr/share/datasets/fashion-mnist")
    for directory in candidates:
        if all(idx_path(directory, name) for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")):
            return directory
    raise SystemExit(f"Fashion-MNIST training files not found in {candidates}")


def idx_path(directory, name):
    for candidate in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None


def read_idx(path, count):
    """The first `count` records of an IDX file of unsigned bytes: header, then uint8 data (big-endian sizes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        magic = handle.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08:
            raise SystemExit(f"{path}: not an IDX file of unsigned bytes (magic {magic.hex()})")
        dims = [int.from_bytes(handle.read(4), "big") for _ in range(magic[3])]
        if count > dims[0]:
            raise SystemExit(f"{path}: {count} records asked for, {dims[0]} stored")
        record = int(np.prod(dims[1:], dtype=np.int64)) if len(dims) > 1 else 1
        data = handle.read(count * record)
        if len(data) != count * record:
            raise SystemExit(f"{path}: truncated")
    return np.frombuffer(data, dtype=np.uint8).reshape([count] + dims[1:])


def load_fashion_mnist(count, directory):
    """The first `count` training images as rows [count, 784] of pixels / 255 (float64) and their labels."""
    images = read_idx(idx_path(directory, "train-images-idx3-ubyte"), count)
    labels = read_idx(idx_path(directory, "train-labels-idx1-ubyte"), count)
    return images.reshape(count, -1).astype(np.float64) / 255.0, labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------------------------
# The network as a function of one flat parameter vector (fc1.weight row-major, fc1.bias, fc2.weight, ...)


class MLPRisk:
    """Mean softmax cross-entropy of a ReLU MLP over fixed data, with exact gradients and Hessian products."""

    def __init__(self, layers, x, labels):
        self.shapes = [(w.shape, b.shape) for w, b in layers]
        self.x, self.labels = x, labels
        self.theta = self.flatten(layers)
        self.dimension = self.theta.size
        self.classes = layers[-1][0].shape[0]
        self.onehot = np.eye(self.classes)[labels]
        self.products = 0
        self.set_point(self.theta)

    def flatten(self, layers):
        return np.concatenate([np.concatenate([w.ravel(), b.ravel()]) for w, b in layers])

    def unflatten(self, v):
        layers, offset = [], 0
        for wshape, bshape in self.shapes:
            nw, nb = wshape[0] * wshape[1], bshape[0]
            layers.append((v[offset:offset + nw].reshape(wshape), v[offset + nw:offset + nw + nb]))
            offset += nw + nb
        return layers

    def forward(self, layers):
        """Pre-activations z_l and activations a_l (a_0 = x), softmax probabilities and mean loss."""
        a, zs, activations = self.x, [], [self.x]
        for i, (w, b) in enumerate(layers):
            z = a @ w.T + b
            zs.append(z)
            if i < len(layers) - 1:
                a = np.maximum(z, 0.0)
                activations.append(a)
        logits = zs[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[np.arange(len(self.labels)), self.labels].mean()
        return zs, activations, np.exp(log_p), loss

    def set_point(self, theta):
        """Caches the forward pass at `theta` (loss, gradient and the R-op all use it)."""
        self.point = theta
        self.layers = self.unflatten(theta)
        self.zs, self.activations, self.p, self.loss = self.forward(self.layers)

    def loss_at(self, theta):
        return self.forward(self.unflatten(theta))[3]

    def accuracy(self):
        return float((self.zs[-1].argmax(axis=1) == self.labels).mean())

    def gradient(self):
        """d loss / d theta by the backward pass: g_K = (p - y) / N, dW = g^T a, db = sum g, g <- (g W) * relu'."""
        n = len(self.labels)
        g = (self.p - self.onehot) / n
        grads = []
        for i in range(len(self.layers) - 1, -1, -1):
            w, _ = self.layers[i]
            grads.append((g.T @ self.activations[i], g.sum(axis=0)))
            if i > 0:
                g = (g @ w) * (self.zs[i - 1] > 0)
        return self.flatten(grads[::-1])

    def hessian_vector_product(self, v):
        """H v, exactly, by Pearlmutter's R-operator R{f} = d/dr f(theta + r v) at r = 0.

        Forward R-pass:  R{a_0} = 0;  R{z_l} = R{a_(l-1)} W_l^T + a_(l-1) V_l^T + v_bl;
                         R{a_l} = relu'(z_l) * R{z_l}   (relu'' = 0 away from the kinks).
        Backward R-pass: g_K = (p - y) / N,  R{g_K} = (p * R{z_K} - p (p . R{z_K})) / N  (the softmax Jacobian);
                         R{dW_l} = R{g_l}^T a_(l-1) + g_l^T R{a_(l-1)},  R{db_l} = sum_n R{g_l};
                         R{g_(l-1)} = (R{g_l} W_l + g_l V_l) * relu'(z_(l-1)).
        """
        self.products += 1
        n = len(self.labels)
        vlayers = self.unflatten(np.asarray(v, dtype=np.float64))
        # Forward R-pass.
        r_activations = [np.zeros_like(self.x)]
        r_zs = []
        for i, ((w, _), (vw, vb)) in enumerate(zip(self.layers, vlayers)):
            a, ra = self.activations[i], r_activations[i]
            rz = ra @ w.T + a @ vw.T + vb
            r_zs.append(rz)
            if i < len(self.layers) - 1:
                r_activations.append(rz * (self.zs[i] > 0))
        # Backward pass and its R-pass together.
        g = (self.p - self.onehot) / n
        rz = r_zs[-1]
        rg = (self.p * rz - self.p * (self.p * rz).sum(axis=1, keepdims=True)) / n
        products = []
        for i in range(len(self.layers) - 1, -1, -1):
            (w, _), (vw, _) = self.layers[i], vlayers[i]
            a, ra = self.activations[i], r_activations[i]
            products.append((rg.T @ a + g.T @ ra, rg.sum(axis=0)))
            if i > 0:
                relu_prime = self.zs[i - 1] > 0
                rg, g = (rg @ w + g @ vw) * relu_prime, (g @ w) * relu_prime
        return self.flatten(products[::-1])

    def dense_hessian(self):
        """The Hessian [d, d], one R-op product per column, symmetrized (it is symmetric up to rounding)."""
        d = self.dimension
        h = np.empty((d, d))
        basis = np.zeros(d)
        for j in range(d):
            basis[j] = 1.0
            h[:, j] = self.hessian_vector_product(basis)
            basis[j] = 0.0
        return (h + h.T) / 2


# ---------------------------------------------------------------------------------------------------------------
# Eigenvalues


def lanczos_extremes(apply, d, top, bottom, tolerance=1e-13, seed=0, max_iterations=None):
    """Lanczos with full re-orthogonalization (twice, classical Gram-Schmidt).

    Stops when every wanted Ritz pair's residual |beta_m y_m| is at most `tolerance` times the largest |Ritz
    value| (eigenvalue error ~ residual^2 / gap, far smaller), when the Krylov space is invariant, or after d
    steps (then the Ritz values are the eigenvalues). Returns (top descending, bottom ascending, steps).
    """
    rng = np.random.default_rng(seed)
    limit = d if max_iterations is None else min(d, max_iterations)
    q = rng.standard_normal(d)
    q /= np.linalg.norm(q)
    basis = np.empty((limit, d))
    alphas, betas = [], []
    values = None
    for m in range(limit):
        basis[m] = q
        w = apply(q)
        alphas.append(q @ w)
        for _ in range(2):
            w -= basis[: m + 1].T @ (basis[: m + 1] @ w)
        beta = np.linalg.norm(w)
        steps = m + 1
        invariant_scale = max(abs(a) for a in alphas + betas) if alphas else 0.0
        invariant = beta <= 1e-13 * max(invariant_scale, 1e-300)
        if not (invariant or steps == limit or steps < 50 or steps % 5 == 0):
            betas.append(beta)
            q = w / beta
            continue
        t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        theta, y = np.linalg.eigh(t)
        values = theta
        scale = max(np.abs(theta).max(), 1e-300)
        if steps >= top + bottom:
            wanted = list(range(min(bottom, steps))) + list(range(max(steps - top, 0), steps))
            worst = max(abs(beta * y[-1, j]) for j in wanted)
            if invariant or worst <= tolerance * scale:
                break
        if invariant:
            break
        betas.append(beta)
        q = w / beta
    return values[::-1][:top].tolist(), values[:bottom].tolist(), steps


def extremes(risk, top, bottom, dense_limit, tolerance, seed):
    if risk.dimension <= dense_limit:
        values = np.linalg.eigvalsh(risk.dense_hessian())
        return values[::-1][:top].tolist(), values[:bottom].tolist(), "eigh", risk.dimension
    t, b, steps = lanczos_extremes(risk.hessian_vector_product, risk.dimension, top, bottom, tolerance, seed)
    return t, b, "lanczos", steps


# ---------------------------------------------------------------------------------------------------------------
# Self-test


def self_test(risk, dense_limit=4000, seed=1):
    """Checks the gradient and the R-op against central differences and the eigen-solvers against each other."""
    rng = np.random.default_rng(seed)
    failures = []
    report = {"dimension": risk.dimension}
    theta = risk.point.copy()
    g = risk.gradient()
    # Steps of 1e-6 along unit directions: small enough that no ReLU kink is crossed at these points (a crossed
    # kink would show as an O(1) error in one product, not as a small one).
    # Gradient: directional derivatives of the loss by central differences.
    worst = 0.0
    for _ in range(3):
        u = rng.standard_normal(risk.dimension)
        u /= np.linalg.norm(u)
        eps = 1e-6
        fd = (risk.loss_at(theta + eps * u) - risk.loss_at(theta - eps * u)) / (2 * eps)
        worst = max(worst, abs(fd - g @ u) / max(abs(g @ u), np.linalg.norm(g) * np.linalg.norm(u), 1e-300))
    report["gradient_vs_loss_differences"] = worst
    if worst > 1e-7:
        failures.append(f"gradient disagrees with differences of the loss: {worst:.3e}")
    # R-op: central differences of the gradient, theta +- eps v.
    worst = 0.0
    for _ in range(4):
        v = rng.standard_normal(risk.dimension)
        v /= np.linalg.norm(v)
        hv = risk.hessian_vector_product(v)
        eps = 1e-6
        risk.set_point(theta + eps * v)
        g_plus = risk.gradient()
        risk.set_point(theta - eps * v)
        g_minus = risk.gradient()
        risk.set_point(theta)
        fd = (g_plus - g_minus) / (2 * eps)
        worst = max(worst, np.abs(hv - fd).max() / max(np.abs(hv).max(), 1e-300))
    report["rop_vs_gradient_differences"] = worst
    if worst > 1e-6:
        failures.append(f"R-op disagrees with differences of the gradient: {worst:.3e}")
    # Symmetry u^T H v = v^T H u, and linearity H (a u + v) = a H u + H v.
    u, v = rng.standard_normal(risk.dimension), rng.standard_normal(risk.dimension)
    hu, hv = risk.hessian_vector_product(u), risk.hessian_vector_product(v)
    asymmetry = abs(u @ hv - v @ hu) / max(abs(u @ hv), 1e-300)
    nonlinearity = np.abs(risk.hessian_vector_product(2.5 * u + v) - (2.5 * hu + hv)).max() / np.abs(hv).max()
    report["asymmetry"], report["nonlinearity"] = asymmetry, nonlinearity
    if asymmetry > 1e-12 or nonlinearity > 1e-12:
        failures.append(f"R-op is not a symmetric linear map: {asymmetry:.3e}, {nonlinearity:.3e}")
    # Lanczos against eigh of the dense Hessian (up to --dense-limit coordinates).
    if risk.dimension <= dense_limit:
        values = np.linalg.eigvalsh(risk.dense_hessian())
        top, bottom, steps = lanczos_extremes(risk.hessian_vector_product, risk.dimension, 5, 3)
        scale = np.abs(values).max()
        difference = max(np.abs(np.array(top) - values[::-1][:5]).max(), np.abs(np.array(bottom) - values[:3]).max())
        report["lanczos_vs_eigh"], report["lanczos_steps"] = difference / scale, steps
        report["eigh_top"], report["eigh_bottom"] = values[::-1][:5].tolist(), values[:3].tolist()
        if difference > 1e-10 * scale:
            failures.append(f"Lanczos disagrees with eigh: {difference / scale:.3e} relative")
    report["failures"] = failures
    print(json.dumps(report, indent=1))
    return not failures


def random_risk(seed=0):
    """A 12-7-5-4 ReLU MLP on 30 random inputs (PyTorch-style uniform initialization)."""
    rng = np.random.default_rng(seed)
    sizes = [12, 7, 5, 4]
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out)))
    return MLPRisk(layers, rng.standard_normal((30, sizes[0])), rng.integers(0, sizes[-1], 30))


# ---------------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", nargs="?")
    parser.add_argument("--samples", type=int, default=200, help="the first N training images (default 200)")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--bottom", type=int, default=3)
    parser.add_argument("--data-dir")
    parser.add_argument("--dense-limit", type=int, default=4000, help="eigh of the dense Hessian up to this dimension")
    parser.add_argument("--tolerance", type=float, default=1e-13, help="Lanczos residual / largest |Ritz value|")
    parser.add_argument("--seed", type=int, default=0, help="Lanczos starting vector")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()

    if args.self_test and args.checkpoint is None:
        sys.exit(0 if self_test(random_risk()) else 1)
    if args.checkpoint is None:
        parser.error("a checkpoint is needed (or --self-test)")
    layers, _ = load_mlp(args.checkpoint)
    x, labels = load_fashion_mnist(args.samples, data_directory(args.data_dir))
    if x.shape[1] != layers[0][0].shape[1]:
        raise SystemExit(f"fc1 takes {layers[0][0].shape[1]} inputs but images have {x.shape[1]} pixels")
    risk = MLPRisk(layers, x, labels)
    if args.self_test:
        sys.exit(0 if self_test(risk, args.dense_limit) else 1)
    gradient = risk.gradient()
    top, bottom, method, iterations = extremes(risk, args.top, args.bottom, args.dense_limit, args.tolerance, args.seed)
    print(json.dumps({
        "loss": float(risk.loss), "accuracy": risk.accuracy(), "gradient_norm": float(np.linalg.norm(gradient)),
        "top": top, "bottom": bottom, "dimension": int(risk.dimension), "samples": int(args.samples),
        "method": method, "iterations": int(iterations),
    }))


if __name__ == "__main__":
    main()
