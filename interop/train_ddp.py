"""Continues a run in PyTorch with DistributedDataParallel, under torchrun, on CPUs (gloo) or GPUs
(nccl): the same objective, schedule, timestep sampling, gradient clipping, Adam and EMA as the
project (`lib/loss.ts`, `lib/schedule.ts`, `lib/timestep_sampler.ts`, `lib/train/trainer.ts`),
from the file `deno task export --weights all` writes, to a file `deno task import` reads.

    deno task export --run <id> --weights all --out start.safetensors
    deno run -A interop/export_data.ts --dataset mnist --out mnist_train.npy
    torchrun --nproc_per_node=2 interop/train_ddp.py --file start.safetensors \\
        --data mnist_train.npy --steps 100 --out trained.safetensors
    deno task import --file trained.safetensors

The batch (`--batch`, default the run's) is the global one, split evenly over the processes;
DDP averages the gradients, so a step is the project's step on the whole batch. The EMA decay is
`min(rate, (1 + n) / (10 + n))` with n the steps done before. The losses go, one JSON line per
step, to `--log` (rank 0). Timesteps: "uniform" and "antithetic" draw uniformly (the project's
antithetic sampler does, too); "importance" is not carried over (uniform here, with a note).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(__file__))
from diffusion import Schedule, training_losses  # noqa: E402
from model_file import load, save  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", required=True, help="model file with weights=all (deno task export --weights all)")
    p.add_argument("--data", required=True, help=".npy training set (interop/export_data.ts)")
    p.add_argument("--steps", type=int, required=True, help="steps to train on top of the file's step")
    p.add_argument("--out", required=True, help="model file to write (weights=all)")
    p.add_argument("--batch", type=int, help="global batch size (default: the run's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the run's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the timesteps, noise and batches")
    p.add_argument("--log", help="JSON lines of the losses (rank 0)")
    p.add_argument("--backend", choices=["gloo", "nccl"], help="default: nccl with CUDA, else gloo")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    a = p.parse_args()

    backend = a.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}") if backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.set_num_threads(a.threads)

    f = load(a.file, weights="raw")
    if f.ema is None or f.adam is None:
        raise SystemExit(f"{a.file}: expected weights=all (export with --weights all), got {f.weights}")
    cfg = f.train_config
    if not cfg:
        raise SystemExit(f"{a.file}: no train_config in the metadata")
    if cfg.get("tSampler") == "importance" and rank == 0:
        print("note: the importance sampler is not carried over; timesteps are drawn uniformly")
    batch = a.batch or cfg["batch"]
    if batch % world:
        raise SystemExit(f"--batch {batch} does not split evenly over {world} processes")
    per_rank = batch // world
    lr = a.lr if a.lr is not None else cfg["lr"]
    image = cfg["dataset"] == "mnist"
    schedule = Schedule.named(cfg["schedule"], cfg["timesteps"])

    model = f.model.to(device)
    model.train()
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    for n, q in zip(names, params):
        opt.state[q] = {"step": torch.tensor(float(f.adam["step"])),
                        "exp_avg": f.adam["m"][n].to(device).clone(),
                        "exp_avg_sq": f.adam["v"][n].to(device).clone()}
    ema = {n: f.ema[n].to(device).clone() for n in names}
    ddp = DDP(model, device_ids=[local] if device.type == "cuda" else None)

    data = torch.from_numpy(np.load(a.data)).float()
    data = data.reshape(-1, 1, 28, 28) if image else data.reshape(-1, 2)
    data = data.to(device)
    kind = "image" if image else "continuous"
    step0 = f.step
    log = open(a.log, "a") if (a.log and rank == 0) else None
    t_start = time.time()
    for k in range(a.steps):
        n = step0 + k
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + n * 1009 + rank)
        idx = torch.randint(len(data), (per_rank,), generator=g)
        x0 = data[idx.to(device)]
        t = torch.randint(schedule.T, (per_rank,), generator=g).to(device)
        noise = torch.randn(x0.shape, generator=g).to(device)
        warm = cfg.get("warmup", 0)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (n + 1) / warm) if warm > 0 else lr
        terms = training_losses(schedule, ddp, x0, t, noise, loss=cfg["loss"],
                                variance=cfg["variance"], data=kind)
        loss = terms["loss"].mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, cfg["clip"]) if cfg.get("clip", 0) > 0 else \
            torch.sqrt(sum((q.grad ** 2).sum() for q in params))
        opt.step()
        decay = min(cfg["ema"], (1 + n) / (10 + n))
        with torch.no_grad():
            for name, q in zip(names, params):
                ema[name].mul_(decay).add_(q.detach(), alpha=1 - decay)
        stats = torch.stack([loss.detach(), terms["mse"].mean().detach(), terms["vlb"].mean().detach()])
        dist.all_reduce(stats)
        stats /= world
        if log:
            log.write(json.dumps({"step": n + 1, "loss": stats[0].item(), "simple": stats[1].item(),
                                  "vlb": stats[2].item(), "gradNorm": float(norm),
                                  "seconds": round(time.time() - t_start, 3)}) + "\n")
            log.flush()
    if rank == 0:
        step = step0 + a.steps
        adam_step = int(opt.state[params[0]]["step"].item())
        new_cfg = {**cfg, "steps": step}
        trained = f"pytorch {torch.__version__}, DDP {world} x {backend}"
        save(a.out, f.config, step,
             {n: q.detach().cpu() for n, q in zip(names, params)},
             ema={n: e.cpu() for n, e in ema.items()},
             adam={"step": adam_step,
                   "m": {n: opt.state[q]["exp_avg"].cpu() for n, q in zip(names, params)},
                   "v": {n: opt.state[q]["exp_avg_sq"].cpu() for n, q in zip(names, params)}},
             metadata={"schedule": f.metadata.get("schedule", ""), "train_config": json.dumps(new_cfg),
                       "trained_with": trained, "backend": "pytorch",
                       "source": os.path.abspath(a.file)})
        print(f"wrote {a.out} (step {step0} -> {step}, {world} processes, {backend}, "
              f"{time.time() - t_start:.1f}s)")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
