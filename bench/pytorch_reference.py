"""PyTorch's time for the standard shapes of `shared/spec/unet-s.md`, as JSON on stdout.

The same steps as `deno task bench` measures: a training step is x_t = 0.8 x + 0.6 eps, the
forward pass, the epsilon MSE, the backward pass, clipping at global norm 1, one Adam update and
an EMA update; the forward shape is one pass without gradients. Median, min and max of `--runs` timed runs after a warm-up.

    python3 bench/pytorch_reference.py --threads 2 --runs 7

`deno task bench --pytorch` runs it beside the project's own shapes, so that the ratios come from
one machine in one run (Debian: `apt-get install python3-torch`, then `/usr/bin/python3`).
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "interop"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from unet_s import MLP, UNetS  # noqa: E402


def _time(fn, runs, warmup=1):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return {"msMedian": statistics.median(ms), "msMin": min(ms), "msMax": max(ms), "runs": runs}


def _train_step(model, x, t, noise):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    ema = [p.detach().clone() for p in model.parameters()]

    def step():
        opt.zero_grad(set_to_none=True)
        # x_t as the project's bench draws it (a fixed q_sample), then the epsilon MSE.
        loss = F.mse_loss(model(x * 0.8 + noise * 0.6, t), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            torch._foreach_mul_(ema, 0.999)
            torch._foreach_add_(ema, [p.detach() for p in model.parameters()], alpha=0.001)

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="all", help="all, unet or mlp")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    records = []
    if a.only in ("all", "unet"):
        model = UNetS(1, dropout=0.1)
        x = torch.randn(64, 1, 28, 28)
        noise = torch.randn(64, 1, 28, 28)
        t = torch.randint(0, 100, (64,))
        model.train()
        r = _time(_train_step(model, x, t, noise), a.runs)
        records.append({"shape": "UNet-S out_ch 1 batch 64 Adam train step", **r})
        model.eval()

        def fwd():
            with torch.no_grad():
                model(x, t)

        records.append({"shape": "UNet-S batch 64 forward (one sampling step)", **_time(fwd, a.runs)})
    if a.only in ("all", "mlp"):
        for batch, runs, shape in ((128, 200, "MLP T=100 batch 128 Adam step"),
                                   (10_000, 20, "MLP batch 10,000 Adam step")):
            model = MLP(100, 2)
            x = torch.randn(batch, 2)
            noise = torch.randn(batch, 2)
            t = torch.randint(0, 100, (batch,))
            records.append({"shape": shape, **_time(_train_step(model, x, t, noise), max(runs, a.runs), 5)})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "records": records}, indent=2))


if __name__ == "__main__":
    main()
