#!/usr/bin/env python3
"""Reads a safetensors file with Python's safetensors library and writes its tensors back.

Usage: safetensors_roundtrip.py IN OUT

Loads IN with safetensors.numpy (NumPy arrays, no PyTorch needed), reads its metadata with safe_open, writes
every tensor and the metadata to OUT with safetensors.numpy.save_file (which lays tensors out in its own
order: by dtype alignment, then name), and prints a JSON summary on stdout:

    {"metadata": {...},
     "tensors": {name: {"dtype": "float32", "shape": [2, 3], "sum": "6.0", "bits": ["3f800000", ...]}}}

Sums are strings (repr of a float64 sum for floating tensors, so NaN survives JSON; exact integers otherwise).
"bits" lists every element in row-major order as lowercase hex: the IEEE bit pattern of a float (8 or 16
digits), the value of an integer (two's complement, 2 digits per byte).
Occam's SafeTensorsTests runs this to check that files Occam writes are read bit-exactly by the reference
implementation, and that files it writes are read back bit-exactly by Occam.
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def tensor_sum(array):
    if np.issubdtype(array.dtype, np.floating):
        return repr(float(np.sum(array, dtype=np.float64)))
    return str(int(np.sum(array, dtype=np.int64)))


def tensor_bits(array):
    width = array.dtype.itemsize
    unsigned = array.reshape(-1).view(np.dtype(f"<u{width}"))
    return [format(int(value), f"0{2 * width}x") for value in unsigned]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: safetensors_roundtrip.py IN OUT")
    source, destination = sys.argv[1], sys.argv[2]
    tensors = load_file(source)
    with safe_open(source, framework="numpy") as handle:
        metadata = handle.metadata() or {}
        if sorted(handle.keys()) != sorted(tensors):
            sys.exit("safe_open and load_file disagree on the tensor names")
    for name, array in tensors.items():
        if not array.flags["C_CONTIGUOUS"]:
            sys.exit(f"{name} is not C-contiguous")
    save_file(tensors, destination, metadata=metadata if metadata else None)
    summary = {
        "metadata": metadata,
        "tensors": {
            name: {"dtype": str(array.dtype), "shape": list(array.shape), "sum": tensor_sum(array),
                   "bits": tensor_bits(array)}
            for name, array in tensors.items()
        },
    }
    json.dump(summary, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
