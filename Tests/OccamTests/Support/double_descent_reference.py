"""An independent NumPy measurement of random-features double descent on Fashion-MNIST (Belkin et al. 2019, CPU scale).

Protocol
--------
Data: the Fashion-MNIST IDX gzip files in /usr/share/datasets/fashion-mnist. Pixels are divided by 255 (so in [0, 1])
and flattened to 784. The test set is all 10,000 test images. The training subset is `--indices FILE` (a JSON array of
integer indices into the 60,000 training images, used in the given order) or, without it, the first n training images.

Features: random Fourier features phi(x) = sqrt(2/N) * cos(x @ V.T + b), with V [N, 784] ~ N(0, 1/sigma^2) entrywise
(sigma = --bandwidth, default 5) and b [N] ~ Uniform[0, 2 pi). Per seed, rng = numpy.random.default_rng(seed) draws
V = rng.standard_normal((N_max, 784)) / sigma first and then b = rng.uniform(0, 2 pi, N_max), for the largest N of the
run; a smaller N uses the first N rows of V and the first N entries of b, so features are nested across N within a seed.

Fit: Y is one-hot [n, 10] (0/1). A [N, 10] is the minimum-norm least-squares solution from
numpy.linalg.lstsq(Phi, Y, rcond=None) (cutoff max(n, N) * eps * largest singular value), float64 throughout; the rank
lstsq reports is recorded.

Per (n, N, seed): test and train zero-one error (argmax of Phi @ A against the labels), test and train squared loss
(mean over images of the sum over the 10 outputs of (f(x) - y)^2), coefficient norm ||A||_F, and rank. Per (n, N) the
ensemble: the predictions f(x) averaged over the seeds, then the same errors and squared losses.

Modes:
  model-wise   fixed n (--train-size, default 1000; with --indices, the first --train-size entries, or all of them when
               --train-size is not given), N over --features-list (default 50 ... 10000).
  sample-wise  fixed N (--features, default 1000), n over --sizes (default 100 ... 5000); the subsets are nested: the
               first n entries of --indices, or the first n training images.

    OPENBLAS_NUM_THREADS=1 python3 Tests/OccamTests/Support/double_descent_reference.py --mode model-wise \
        [--train-size 1000] [--features-list 50,100,...] [--seeds 0,1,2] [--bandwidth 5] [--indices FILE] [--json OUT]
    OPENBLAS_NUM_THREADS=1 python3 Tests/OccamTests/Support/double_descent_reference.py --mode sample-wise \
        [--features 1000] [--sizes 100,200,...] [--seeds 0,1,2] [--bandwidth 5] [--indices FILE] [--json OUT]

Prints a table (one row per point: means over the seeds and the ensemble) and, with --json, writes one record per
(n, N, seed) plus one ensemble record per (n, N).
"""
import argparse
import gzip
import json
import os
import time

import numpy as np

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
DEFAULT_FEATURES_LIST = "50,100,200,400,600,800,900,1000,1100,1200,1500,2000,3000,5000,10000"
DEFAULT_SIZES = "100,200,400,600,800,900,1000,1100,1200,1500,2000,5000"
CLASSES = 10
PIXELS = 784


# ---------------------------------------------------------------------------------------------------------------- data

def read_idx(root, name, offset):
    with gzip.open(os.path.join(root, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_fashion_mnist(root):
    """Returns (train_x [60000, 784], train_y [60000], test_x [10000, 784], test_y [10000]); pixels / 255, float64."""
    train_x = read_idx(root, "train-images-idx3-ubyte.gz", 16).reshape(-1, PIXELS).astype(np.float64) / 255.0
    train_y = read_idx(root, "train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    test_x = read_idx(root, "t10k-images-idx3-ubyte.gz", 16).reshape(-1, PIXELS).astype(np.float64) / 255.0
    test_y = read_idx(root, "t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return train_x, train_y, test_x, test_y


def one_hot(labels):
    y = np.zeros((labels.shape[0], CLASSES))
    y[np.arange(labels.shape[0]), labels] = 1.0
    return y


# ------------------------------------------------------------------------------------------------------------ features

def draw_features(seed, n_max, bandwidth):
    """V [n_max, 784] ~ N(0, 1/bandwidth^2), then b [n_max] ~ U[0, 2 pi), from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n_max, PIXELS)) / bandwidth
    b = rng.uniform(0.0, 2.0 * np.pi, n_max)
    return v, b


def random_fourier(x, v, b):
    """phi(x) = sqrt(2/N) cos(x V^T + b) for N = rows of v."""
    z = x @ v.T
    z += b
    np.cos(z, out=z)
    z *= np.sqrt(2.0 / v.shape[0])
    return z


# ----------------------------------------------------------------------------------------------------------- fit/eval

def fit(phi, y):
    """Minimum-norm least squares A = pinv(Phi) Y via lstsq (default cutoff); returns (A, rank)."""
    a, _, rank, _ = np.linalg.lstsq(phi, y, rcond=None)
    return a, int(rank)


def zero_one_error(pred, labels):
    return float(np.mean(np.argmax(pred, axis=1) != labels))


def squared_loss(pred, y):
    return float(np.mean(np.sum((pred - y) ** 2, axis=1)))


def predict_test(test_x, v, b, coefficients, chunk):
    """Test predictions for each N in `coefficients` ({N: A_N}), computing features for the largest N in row chunks."""
    n_max = max(coefficients)
    v, b = v[:n_max], b[:n_max]
    preds = {n_feat: np.empty((test_x.shape[0], CLASSES)) for n_feat in coefficients}
    for start in range(0, test_x.shape[0], chunk):
        rows = slice(start, start + chunk)
        z = test_x[rows] @ v.T  # unnormalised cos argument; the sqrt(2/N) scale depends on N
        z += b
        np.cos(z, out=z)
        for n_feat, a in coefficients.items():
            preds[n_feat][rows] = np.sqrt(2.0 / n_feat) * (z[:, :n_feat] @ a)
    return preds


def evaluate_seed(points, train_x, train_y, test_x, test_y, seed, bandwidth, chunk):
    """Fits every (n, N) in `points` for one seed; returns ({(n, N): record}, {(n, N): test predictions})."""
    n_feat_max = max(n_feat for _, n_feat in points)
    v, b = draw_features(seed, n_feat_max, bandwidth)
    test_onehot = one_hot(test_y)
    records, coefficients = {}, {}
    for n, n_feat in points:
        x, labels = train_x[:n], train_y[:n]
        y = one_hot(labels)
        phi = random_fourier(x, v[:n_feat], b[:n_feat])
        a, rank = fit(phi, y)
        train_pred = phi @ a
        coefficients[(n, n_feat)] = a
        records[(n, n_feat)] = {
            "n": n, "N": n_feat, "seed": seed, "rank": rank,
            "norm": float(np.linalg.norm(a)),
            "train_error": zero_one_error(train_pred, labels),
            "train_squared_loss": squared_loss(train_pred, y),
        }
    # Test predictions: group the points by n so one chunked pass over the test set serves every N.
    test_preds = {}
    for n in sorted({n for n, _ in points}):
        by_feat = {n_feat: coefficients[(m, n_feat)] for m, n_feat in points if m == n}
        for n_feat, pred in predict_test(test_x, v, b, by_feat, chunk).items():
            test_preds[(n, n_feat)] = pred
            records[(n, n_feat)]["test_error"] = zero_one_error(pred, test_y)
            records[(n, n_feat)]["test_squared_loss"] = squared_loss(pred, test_onehot)
    return records, test_preds


# ---------------------------------------------------------------------------------------------------------------- main

def parse_ints(text):
    return [int(t) for t in text.split(",") if t.strip()]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["model-wise", "sample-wise"], default="model-wise")
    p.add_argument("--train-size", type=int, default=None, help="model-wise n (default 1000, or all of --indices)")
    p.add_argument("--features-list", default=DEFAULT_FEATURES_LIST, help="model-wise N values")
    p.add_argument("--features", type=int, default=1000, help="sample-wise N")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="sample-wise n values")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--bandwidth", type=float, default=5.0, help="sigma; V entries ~ N(0, 1/sigma^2)")
    p.add_argument("--indices", help="JSON array of training indices (in order)")
    p.add_argument("--data", default=DEFAULT_ROOT)
    p.add_argument("--chunk", type=int, default=1000, help="test rows per feature chunk")
    p.add_argument("--json", help="write one record per point to this file")
    return p.parse_args()


def main():
    args = parse_args()
    started = time.time()
    train_x, train_y, test_x, test_y = load_fashion_mnist(args.data)
    if args.indices:
        with open(args.indices) as f:
            order = np.asarray(json.load(f), dtype=np.int64)
    else:
        order = np.arange(train_x.shape[0])

    if args.mode == "model-wise":
        n = args.train_size if args.train_size is not None else (len(order) if args.indices else 1000)
        points = [(n, n_feat) for n_feat in parse_ints(args.features_list)]
    else:
        points = [(n, args.features) for n in parse_ints(args.sizes)]
    n_needed = max(n for n, _ in points)
    if n_needed > len(order):
        raise SystemExit(f"need {n_needed} training indices, have {len(order)}")
    order = order[:n_needed]
    train_x, train_y = train_x[order], train_y[order]  # nested subsets: the first n of these
    seeds = parse_ints(args.seeds)

    per_seed, preds = [], []
    for seed in seeds:
        t = time.time()
        records, test_preds = evaluate_seed(points, train_x, train_y, test_x, test_y, seed, args.bandwidth, args.chunk)
        per_seed.append(records)
        preds.append(test_preds)
        print(f"# seed {seed} done in {time.time() - t:.1f}s", flush=True)

    test_onehot = one_hot(test_y)
    out = []
    header = (f"{'n':>6} {'N':>6} {'test err%':>9} {'sd':>5} {'train err%':>10} {'test sqloss':>12} "
              f"{'train sqloss':>12} {'norm':>11} {'rank':>7} {'ens err%':>8} {'ens sqloss':>11}")
    print(f"# mode {args.mode}, seeds {seeds}, bandwidth {args.bandwidth}, "
          f"{'indices ' + args.indices if args.indices else 'first n training images'}")
    print("# per-point means over the seeds; ens = predictions averaged over the seeds")
    print(header)
    for point in points:
        recs = [r[point] for r in per_seed]
        for r in recs:
            out.append(dict(mode=args.mode, bandwidth=args.bandwidth, **r))
        mean = {k: float(np.mean([r[k] for r in recs]))
                for k in ("test_error", "train_error", "test_squared_loss", "train_squared_loss", "norm", "rank")}
        sd = float(np.std([r["test_error"] for r in recs]))
        ens_pred = np.mean([p[point] for p in preds], axis=0)
        ens = {"mode": args.mode, "bandwidth": args.bandwidth, "n": point[0], "N": point[1], "seed": "ensemble",
               "seeds": seeds, "test_error": zero_one_error(ens_pred, test_y),
               "test_squared_loss": squared_loss(ens_pred, test_onehot)}
        out.append(ens)
        print(f"{point[0]:>6} {point[1]:>6} {100 * mean['test_error']:>9.2f} {100 * sd:>5.2f} "
              f"{100 * mean['train_error']:>10.2f} {mean['test_squared_loss']:>12.4g} "
              f"{mean['train_squared_loss']:>12.4g} {mean['norm']:>11.4g} {mean['rank']:>7.1f} "
              f"{100 * ens['test_error']:>8.2f} {ens['test_squared_loss']:>11.4g}", flush=True)
    print(f"# wall time {time.time() - started:.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
