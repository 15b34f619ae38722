#!/usr/bin/env python3
"""ctest: NumPy reads a vaelib checkpoint, and vaelib reads a numpy.savez archive.

usage: numpy_interop.py NPZ_TOOL WORK_FOLDER
"""
import os
import subprocess
import sys

import numpy as np

tool, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder, exist_ok=True)

# vaelib -> NumPy
checkpoint = os.path.join(folder, "checkpoint.npz")
subprocess.run([tool, "write-checkpoint", checkpoint], check=True)
with np.load(checkpoint) as ck:
    w = ck["param/enc/w"]
    assert w.dtype == np.float32 and w.shape == (2, 3), (w.dtype, w.shape)
    # one Adam step of lr 1e-3 with gradient 1 moves every value by -1e-3
    assert np.allclose(w, np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1e-3, rtol=0, atol=1e-6), w
    assert np.allclose(ck["param/enc/b"], -1.001, rtol=0, atol=1e-6), ck["param/enc/b"]
    assert ck["step"].tolist() == [5]
    assert ck["optimizer/adam/steps"].tolist() == [1]
    assert np.allclose(ck["optimizer/adam/m/enc/w"], 0.1)
    assert ck["rng/state"].tolist()[0] == 77
    assert ck["vaelib/format"].tolist() == [1]

# NumPy -> vaelib
plain = os.path.join(folder, "from_numpy.npz")
np.savez(plain, a=np.arange(12, dtype=np.float32).reshape(3, 4), b=np.array([0.25, 0.5]), c=np.array([7], dtype=np.uint64))
out = subprocess.run([tool, "read", plain], check=True, capture_output=True, text=True).stdout.split("\n")
assert out[0] == "a <f4 [3, 4] 66.000000", out
assert out[1] == "b <f8 [2] 0.750000", out
assert out[2] == "c <u8 [1] 7.000000", out

# A compressed archive is refused by name.
compressed = os.path.join(folder, "compressed.npz")
np.savez_compressed(compressed, a=np.zeros(3))
result = subprocess.run([tool, "read", compressed], capture_output=True, text=True)
assert result.returncode == 1 and "is compressed (method 8)" in result.stderr, result.stderr
print("numpy interop: ok")
