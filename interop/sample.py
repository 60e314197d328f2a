"""Samples a model file's EMA weights in PyTorch from a seeded x_T and writes both, so that the
project can sample the same weights from the same noise (`interop/sample_noise.ts`) and compare.

    python3 interop/sample.py --file trained.safetensors --n 16 --steps ddim50 --out py.safetensors
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from diffusion import Schedule, sample  # noqa: E402
from model_file import load  # noqa: E402
from safetensors_io import save_file  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", required=True)
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--steps", default="ddim50", help='"ddimN" (deterministic from x_T), "all" or "N"')
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", choices=["ema", "raw"], default="ema")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    f = load(a.file, weights=a.weights)
    cfg = f.train_config
    image = cfg["dataset"] == "mnist"
    g = torch.Generator().manual_seed(a.seed)
    noise = torch.randn((a.n, 1, 28, 28) if image else (a.n, 2), generator=g)
    t0 = time.time()
    x = sample(Schedule.named(cfg["schedule"], cfg["timesteps"]), f.model, noise, cfg["variance"],
               steps=a.steps, clip=image, generator=g)
    save_file({"noise": noise, "samples": x}, a.out, {"steps": a.steps})
    print(f"wrote {a.out} ({a.n} samples, {a.steps}, {time.time() - t0:.1f}s)")


if __name__ == "__main__":
    main()
