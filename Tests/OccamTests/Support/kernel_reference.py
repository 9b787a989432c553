"""An independent NumPy measurement of exact kernel interpolation on Fashion-MNIST (Zhang et al. 2017, Sec. 5).

Pixels scaled to [0, 1] and flattened (784-d); targets one-hot (n x 10). Solves (K + ridge I) A = Y by Cholesky
(ridge 0 interpolates exactly), predicts argmax of K_test A on the full 10,000-image test set, and reports the
test error, the RKHS norm sqrt(trace(A^T K A)), and the training residual ||K A - Y||_F / ||Y||_F and max |K A - Y|
with a freshly built K, both in the solve precision and in float64.

Kernels: gaussian exp(-||x-y||^2 / (2 sigma^2)) (--convention 2s2, default) or exp(-||x-y||^2 / sigma^2)
(--convention s2); laplacian exp(-||x-y|| / sigma). Squared distances are x2 + y2 - 2 x.y clamped at 0.

    OPENBLAS_NUM_THREADS=1 python3 Tests/OccamTests/Support/kernel_reference.py --n 2000 [--sigma 5]
        [--kernel gaussian|laplacian] [--convention 2s2|s2] [--ridge 0] [--precision float64|float32]
        [--random-labels] [--subset first|random] [--seed 0] [--min-eig] [--indices RUN/n-N/training-indices.json]

--indices takes the training images `occam kernel` used (a JSON array written per size in its run directory), so
both solvers fit the same subset.
"""
import argparse
import gzip
import json
import time

import numpy as np
import scipy.linalg

root = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(root + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def kernel(x, y, args):
    d2 = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * (x @ y.T)
    np.maximum(d2, 0, out=d2)
    if args.kernel == "laplacian":
        return np.exp(-np.sqrt(d2) / args.sigma)
    scale = 2 * args.sigma ** 2 if args.convention == "2s2" else args.sigma ** 2
    return np.exp(-d2 / scale)


p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=2000)
p.add_argument("--sigma", type=float, default=5.0)
p.add_argument("--kernel", choices=["gaussian", "laplacian"], default="gaussian")
p.add_argument("--convention", choices=["2s2", "s2"], default="2s2")
p.add_argument("--ridge", type=float, default=0.0)
p.add_argument("--precision", choices=["float64", "float32"], default="float64")
p.add_argument("--random-labels", action="store_true")
p.add_argument("--subset", choices=["first", "random"], default="first")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--indices", help="a JSON array of training indices (overrides --n and --subset)")
p.add_argument("--min-eig", action="store_true", help="also report the extreme eigenvalues of K (float64)")
args = p.parse_args()
dtype = np.dtype(args.precision)
rng = np.random.default_rng(args.seed)

train_x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
train_y = idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
if args.indices:
    rows = np.array(json.load(open(args.indices)))
    args.n, args.subset = len(rows), args.indices
else:
    rows = np.arange(args.n) if args.subset == "first" else rng.choice(len(train_x), args.n, replace=False)
x = (train_x[rows] / 255.0).astype(dtype)
labels = rng.integers(0, 10, args.n) if args.random_labels else train_y[rows]
y = np.eye(10, dtype=dtype)[labels]
test_x = (idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0).astype(dtype)
test_y = idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)

start = time.perf_counter()
k = kernel(x, x, args)
k[np.diag_indices_from(k)] += args.ridge
a = scipy.linalg.cho_solve(scipy.linalg.cho_factor(k, lower=True, overwrite_a=True, check_finite=False), y)
solve_s = time.perf_counter() - start

pred = np.concatenate([(kernel(test_x[i:i + 2000], x, args) @ a).argmax(1) for i in range(0, len(test_x), 2000)])
result = {"n": args.n, "kernel": args.kernel, "sigma": args.sigma, "ridge": args.ridge, "precision": args.precision,
          "subset": args.subset, "random_labels": args.random_labels, "test_error": float((pred != test_y).mean()),
          "solve_seconds": round(solve_s, 2)}
if args.kernel == "gaussian":
    result["convention"] = args.convention
for name, xs, aa in (("", x, a), ("_float64", x.astype(np.float64), a.astype(np.float64))):
    k = kernel(xs, xs, args)  # fresh, without the ridge
    ka = k @ aa
    result["rkhs_norm" + name] = float(np.sqrt((aa * ka).sum()))
    result["residual_relative" + name] = float(np.linalg.norm(ka - y) / np.linalg.norm(y))
    result["residual_max" + name] = float(np.abs(ka - y).max())
if args.min_eig:
    eig = np.linalg.eigvalsh(k)
    result["min_eigenvalue"], result["max_eigenvalue"] = float(eig[0]), float(eig[-1])
print(json.dumps(result))
