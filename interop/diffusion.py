"""The diffusion of the project in PyTorch, formula for formula (`lib/schedule.ts`,
`lib/respace.ts`, `lib/diffusion.ts`, `lib/gaussian.ts`, `lib/loss.ts`, `lib/sampler.ts`): the
linear, cosine and sigmoid schedules in float64; q_sample; the reverse step's mean and variance
(fixed-small, fixed-large, learned-range); the losses simple, hybrid (MSE + lambda * T * L_t with
the bound seeing the mean through a stop-gradient, lambda = 0.001) and vlb; ancestral and DDIM
sampling on respaced schedules.

Tensors are NCHW for images ([B, 1, 28, 28]; the model's second channel is v) and [B, 2] for
points (columns 2-3 are v). Schedule values are cast to float32 where they meet a tensor, as
`extract` does there.
"""
import math

import numpy as np
import torch


def linear_betas(T):
    scale = 1000 / T
    start, end = scale * 1e-4, scale * 0.02
    return np.array([start if T == 1 else start + (end - start) * (i / (T - 1)) for i in range(T)])


def cosine_betas(T, max_beta=0.999):
    s = 0.008
    abar = lambda u: math.cos(((u + s) / (1 + s)) * math.pi / 2) ** 2  # noqa: E731
    return np.array([min(1 - abar((i + 1) / T) / abar(i / T), max_beta) for i in range(T)])


def sigmoid_betas(T):
    xs = [-6 if T == 1 else -6 + 12 * (i / (T - 1)) for i in range(T)]
    return np.array([(1 / (1 + math.exp(-x))) * (5e-3 - 1e-5) + 1e-5 for x in xs])


BETAS = {"linear": linear_betas, "cosine": cosine_betas, "sigmoid": sigmoid_betas}


class Schedule:
    """Every schedule-derived array, in float64, as `createSchedule` computes them."""

    def __init__(self, betas, timestep_map=None):
        b = np.asarray(betas, dtype=np.float64)
        n = len(b)
        self.T = n
        self.betas = b
        self.alphas = 1 - b
        self.abar = np.cumprod(self.alphas)
        self.abar_prev = np.concatenate([[1.0], self.abar[:-1]])
        self.sqrt_abar = np.sqrt(self.abar)
        self.sqrt_1m_abar = np.sqrt(1 - self.abar)
        self.log_1m_abar = np.log(1 - self.abar)
        self.sqrt_recip_abar = np.sqrt(1 / self.abar)
        self.sqrt_recipm1_abar = np.sqrt(1 / self.abar - 1)
        self.post_var = b * (1 - self.abar_prev) / (1 - self.abar)
        self.post_coef1 = b * np.sqrt(self.abar_prev) / (1 - self.abar)
        self.post_coef2 = (1 - self.abar_prev) * np.sqrt(self.alphas) / (1 - self.abar)
        v = self.post_var.copy()
        v[0] = self.post_var[1] if n > 1 else b[0]
        self.post_log_var = np.log(v)
        self.timestep_map = np.arange(n) if timestep_map is None else np.asarray(timestep_map)

    @staticmethod
    def named(name, T):
        return Schedule(BETAS[name](T))


def space_timesteps(T, steps):
    """`spaceTimesteps` of lib/respace.ts: the kept timesteps for "all", "N", "N1,N2" or "ddimN"."""
    if steps == "all":
        return list(range(T))
    if steps.startswith("ddim"):
        want = int(steps[4:])
        for stride in range(1, T):
            if math.ceil(T / stride) == want:
                return list(range(0, T, stride))
        raise ValueError(f"cannot space {T} timesteps as {steps}")
    counts = [int(c) for c in steps.split(",")]
    size_per, extra = T // len(counts), T % len(counts)
    keep, start = set(), 0
    for i, count in enumerate(counts):
        size = size_per + (1 if i < extra else 0)
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        cur = 0.0
        for _ in range(count):
            keep.add(start + int(round(cur)))  # Python's round is half-to-even, as there
            cur += stride
        start += size
    return sorted(keep)


def respace(schedule, keep):
    last, betas = 1.0, []
    for i in keep:
        betas.append(1 - schedule.abar[i] / last)
        last = schedule.abar[i]
    return Schedule(betas, timestep_map=[int(schedule.timestep_map[i]) for i in keep])


def extract(arr, t, ndim):
    g = torch.tensor(np.asarray(arr), dtype=torch.float32, device=t.device)[t]
    return g.reshape([t.shape[0]] + [1] * (ndim - 1))


def mean_flat(x):
    return x.mean(dim=list(range(1, x.ndim))) if x.ndim > 1 else x


def q_sample(s, x0, t, noise):
    return extract(s.sqrt_abar, t, x0.ndim) * x0 + extract(s.sqrt_1m_abar, t, x0.ndim) * noise


def q_posterior(s, x0, xt, t):
    mean = extract(s.post_coef1, t, x0.ndim) * x0 + extract(s.post_coef2, t, x0.ndim) * xt
    return mean, extract(s.post_log_var, t, x0.ndim)


def split_output(out, x, variance):
    if variance != "learned-range":
        return out, None
    c = x.shape[1]
    return out[:, :c], out[:, c:]


def p_mean_variance(s, model, xt, t, variance, clip=False, model_output=None):
    out = model(xt, torch.as_tensor(s.timestep_map, device=t.device)[t]) if model_output is None else model_output
    eps, v = split_output(out, xt, variance)
    nd = xt.ndim
    if variance == "fixed-small":
        log_var = extract(s.post_log_var, t, nd)
    elif variance == "fixed-large":
        large = s.betas.copy()
        if s.T > 1:
            large[0] = s.post_var[1]
        log_var = extract(np.log(large), t, nd)
    elif variance == "learned-range":
        min_log = extract(s.post_log_var, t, nd)
        max_log = extract(np.log(s.betas), t, nd)
        frac = (v + 1) / 2
        log_var = frac * max_log + (1 - frac) * min_log
    else:
        raise ValueError(f"unknown variance {variance}")
    pred_x0 = extract(s.sqrt_recip_abar, t, nd) * xt - extract(s.sqrt_recipm1_abar, t, nd) * eps
    if clip:
        pred_x0 = pred_x0.clamp(-1, 1)
    mean, _ = q_posterior(s, pred_x0, xt, t)
    return mean, log_var, pred_x0


def normal_kl(mean1, logvar1, mean2, logvar2):
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
                  + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def _approx_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def discretized_gaussian_ll(x, means, log_scales):
    centered = x - means
    inv_std = torch.exp(-log_scales)
    cdf_plus = _approx_cdf(inv_std * (centered + 1 / 255))
    cdf_min = _approx_cdf(inv_std * (centered - 1 / 255))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_1m_cdf_min = torch.log((1 - cdf_min).clamp(min=1e-12))
    log_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    xb = x.expand_as(log_delta)
    return torch.where(xb < -0.999, log_cdf_plus, torch.where(xb > 0.999, log_1m_cdf_min, log_delta))


def continuous_gaussian_ll(x, means, log_scales):
    z = (x - means) * torch.exp(-log_scales)
    return -(0.5 * z ** 2 + log_scales + 0.5 * math.log(2 * math.pi))


def vb_terms_bpd(s, model, x0, xt, t, variance, data, model_output):
    true_mean, true_log_var = q_posterior(s, x0, xt, t)
    mean, log_var, _ = p_mean_variance(s, model, xt, t, variance, model_output=model_output)
    kl = mean_flat(normal_kl(true_mean, true_log_var, mean, log_var)) / math.log(2.0)
    ll = (discretized_gaussian_ll if data == "image" else continuous_gaussian_ll)(x0, mean, 0.5 * log_var)
    nll = -mean_flat(ll) / math.log(2.0)
    return torch.where(t == 0, nll, kl)


def training_losses(s, model, x0, t, noise, loss="simple", variance="fixed-small", data="image",
                    lambda_vlb=0.001):
    """Per-example losses {loss, mse, vlb} as `trainingLosses` of lib/loss.ts."""
    xt = q_sample(s, x0, t, noise)
    out = model(xt, torch.as_tensor(s.timestep_map, device=t.device)[t])
    eps, v = split_output(out, x0, variance)
    mse = mean_flat((eps - noise) ** 2)
    T = s.T
    if loss == "simple":
        return {"loss": mse, "mse": mse, "vlb": torch.zeros_like(mse)}
    if loss == "hybrid":
        frozen = out.detach() if v is None else torch.cat([eps.detach(), v], dim=1)
        vlb = T * vb_terms_bpd(s, model, x0, xt, t, variance, data, frozen)
        return {"loss": mse + lambda_vlb * vlb, "mse": mse, "vlb": vlb}
    if loss == "vlb":
        vlb = T * vb_terms_bpd(s, model, x0, xt, t, variance, data, out)
        return {"loss": vlb, "mse": mse, "vlb": vlb}
    raise ValueError(f"unknown loss {loss}")


@torch.no_grad()
def sample(s, model, noise, variance, steps="all", clip=False, generator=None):
    """Samples from x_T = `noise` on the schedule respaced to `steps`: DDIM with eta 0 for
    "ddimN" (deterministic), else ancestral with noise from `generator`."""
    keep = space_timesteps(s.T, steps)
    r = s if len(keep) == s.T else respace(s, keep)
    x = noise
    n = x.shape[0]
    for i in reversed(range(r.T)):
        t = torch.full((n,), i, dtype=torch.long, device=x.device)
        mean, log_var, pred_x0 = p_mean_variance(r, model, x, t, variance, clip)
        if steps.startswith("ddim"):
            eps = (extract(r.sqrt_recip_abar, t, x.ndim) * x - pred_x0) / extract(r.sqrt_recipm1_abar, t, x.ndim)
            abar_prev = float(r.abar_prev[i])
            x = pred_x0 * math.sqrt(abar_prev) + eps * math.sqrt(max(1 - abar_prev, 0.0))
        else:
            z = torch.randn(x.shape, generator=generator, device=x.device)
            x = mean + (torch.exp(0.5 * log_var) * z if i > 0 else 0)
    return x
