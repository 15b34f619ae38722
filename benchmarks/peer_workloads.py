#!/usr/bin/env python3
"""Times the PyTorch peer (../shared/peers/pytorch_vae.py) on the workloads of issue 8 that its
own command line does not time on their own, using the peer's own model and log_weights():

  iwae   an IWAE training step with k particles (Adam 1e-3, batch 128): seconds per step
  is-ll  importance-sampled log-likelihood with k particles on chunks of 20 test images, as the
         peer's evaluation does it: images per second

Prints one JSON line. Used by benchmarks/compare_peer.sh, alternating with vaelib's
bench_vae_step; run it with Debian's python3 (python3-torch).

  peer_workloads.py --workload iwae --k 50 --steps 20
  peer_workloads.py --workload is-ll --k 1000 --images 100
"""
import argparse, json, os, statistics, sys, time

here = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=["iwae", "is-ll"], required=True)
    ap.add_argument("--k", type=int, required=True, help="particles")
    ap.add_argument("--steps", type=int, default=20, help="iwae: timed steps (after 3 warm-up steps)")
    ap.add_argument("--images", type=int, default=100, help="is-ll: test images evaluated")
    ap.add_argument("--peer", default=os.path.join(here, "..", "..", "shared", "peers"), help="folder of pytorch_vae.py")
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data", "mnist"))
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True), as vaelib's examples run")
    a = ap.parse_args()
    if a.k < 1 or a.steps < 1 or a.images < 1:
        ap.error("--k, --steps and --images must be at least 1")
    if not os.path.isfile(os.path.join(a.peer, "pytorch_vae.py")):
        ap.error(f"no pytorch_vae.py in {a.peer}")
    sys.path.insert(0, a.peer)
    import numpy as np
    import torch
    import pytorch_vae as peer

    torch.set_num_threads(1)  # the peer's best setting on 2 cores (its README)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(1234)
    rng = np.random.RandomState(1234)
    model = peer.VAE(784, 40, 500)
    if a.workload == "iwae":
        xtr = peer.read_idx(peer.find(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = []
        for t in range(a.steps + 3):
            t0 = time.perf_counter()
            xb = torch.from_numpy(xtr[rng.randint(0, len(xtr), 128)])
            xb = (torch.rand_like(xb) < xb).float()
            lb = (torch.logsumexp(peer.log_weights(model, xb, a.k), 0) - float(np.log(a.k))).mean()
            opt.zero_grad(); (-lb).backward(); opt.step()
            lb.item()
            if t >= 3:
                times.append(time.perf_counter() - t0)
        print(json.dumps({"workload": "iwae", "k": a.k, "seconds_per_step": statistics.median(times)}))
    else:
        xte = peer.read_idx(peer.find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
        x = torch.from_numpy((rng.uniform(size=xte.shape) < xte).astype(np.float32)[: a.images])
        t0 = time.perf_counter()
        with torch.no_grad():
            for i in range(0, len(x), 20):
                lw = peer.log_weights(model, x[i:i + 20], a.k)
                (torch.logsumexp(lw, 0) - np.log(a.k)).sum().item()
        seconds = time.perf_counter() - t0
        print(json.dumps({"workload": "is-ll", "k": a.k, "images": len(x), "images_per_second": len(x) / seconds}))


if __name__ == "__main__":
    main()
