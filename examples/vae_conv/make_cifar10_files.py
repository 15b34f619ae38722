#!/usr/bin/env python3
"""Writes a small stand-in for CIFAR-10's binary version (cifar-10-batches-bin): the six files,
data_batch_1.bin ... data_batch_5.bin and test_batch.bin, each of --per-file records of one
label byte and 3 x 32 x 32 pixel bytes (R, G, B planes), as the real files hold them.

CIFAR-10 is packaged neither by Debian nor on npm, so vae_conv's ctest entry trains on these:
each image is a two-colour gradient along a random direction with a disk of a third colour
and a little noise, so that a model has structure to learn (bits per dimension well under the
8 of uniform bytes) and the check is not of a model of noise. Deterministic (--seed).

    make_cifar10_files.py OUTPUT_FOLDER [--per-file 200] [--seed 1]
"""
import argparse
import os
import sys

import numpy as np


def images(rng, n):
    side = 32
    yy, xx = np.mgrid[0:side, 0:side] / (side - 1.0)
    out = np.empty((n, 3, side, side))
    for i in range(n):
        a, b, c = rng.uniform(0, 255, size=(3, 3))
        angle = rng.uniform(0, 2 * np.pi)
        t = np.clip(0.5 + (np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)), 0, 1)
        picture = (1 - t)[None] * a[:, None, None] + t[None] * b[:, None, None]
        cy, cx = rng.uniform(0.2, 0.8, size=2)
        radius = rng.uniform(0.1, 0.3)
        disk = (yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2
        picture[:, disk] = c[:, None]
        out[i] = picture + rng.normal(0, 3, size=picture.shape)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(n, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output")
    parser.add_argument("--per-file", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.per_file < 1:
        sys.exit("make_cifar10_files.py: --per-file takes a whole number >= 1")
    os.makedirs(args.output, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, size=(args.per_file, 1), dtype=np.uint8)
        records = np.concatenate([labels, images(rng, args.per_file)], axis=1)
        path = os.path.join(args.output, name)
        with open(path + ".part", "wb") as f:
            f.write(records.tobytes())
        os.replace(path + ".part", path)


if __name__ == "__main__":
    main()
