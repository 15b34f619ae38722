"""Exits non-zero unless the checkpoint given is complete and valid: every CRC of the .npz
(a zip archive) matches and NumPy reads every array. Prints its array count and step.
    /usr/bin/python3 check_checkpoint.py <checkpoint.npz>
Used by kill_and_resume.sh and check_distributed.sh after killing a training run."""
import sys
import zipfile

import numpy as np

path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit(f"{path}: CRC mismatch in {bad}")
with np.load(path) as f:
    for name in f.files:
        f[name]
    step = int(f["step"][0])
print(f"  checkpoint valid: {len(f.files)} arrays, step {step}")
