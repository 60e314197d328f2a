"""The reference models of `shared/spec/unet-s.md` in PyTorch: UNet-S (MNIST) and the 2-D MLP.

Parameter names follow the TypeScript models' names (`down.0.0.conv1.weight`, ...), so that a
checkpoint exported by `deno task export` loads with `load_state_dict` as it is.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

CHANNELS = (32, 64, 64)
GROUPS = 8
TIME_IN = 32
TIME_DIM = 128


def timestep_embedding(t: torch.Tensor, dim: int = TIME_IN) -> torch.Tensor:
    """Sinusoidal embedding, cos half first (improved-diffusion's `timestep_embedding`)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(TIME_DIM, cout)
        self.norm2 = nn.GroupNorm(GROUPS, cout, eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (self.skip(x) if self.skip is not None else x) + h


class Attention(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, c, eps=1e-5)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3 * c, hh * ww).chunk(3, dim=1)
        scores = torch.einsum("bci,bcj->bij", q, k) / math.sqrt(c)
        a = torch.einsum("bij,bcj->bci", scores.softmax(dim=-1), v)
        return x + self.proj(a.reshape(b, c, hh, ww))


class UNetS(nn.Module):
    """UNet-S: 1,623,169 parameters with out_ch 1, 1,623,458 with 2."""

    def __init__(self, out_ch: int = 1, dropout: float = 0.1):
        super().__init__()
        self.time_fc1 = nn.Linear(TIME_IN, TIME_DIM)
        self.time_fc2 = nn.Linear(TIME_DIM, TIME_DIM)
        self.conv_in = nn.Conv2d(1, CHANNELS[0], 3, padding=1)
        self.down = nn.ModuleList()
        skips = [CHANNELS[0]]
        ch = CHANNELS[0]
        for level, cout in enumerate(CHANNELS):
            for _ in range(2):
                self.down.append(ResBlock(ch, cout, dropout))
                ch = cout
                if level == len(CHANNELS) - 1:
                    self.down.append(Attention(ch))
                skips.append(ch)
            if level < len(CHANNELS) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                skips.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, dropout), Attention(ch), ResBlock(ch, ch, dropout)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(CHANNELS))):
            cout = CHANNELS[level]
            for _ in range(3):
                self.up.append(ResBlock(ch + skips.pop(), cout, dropout))
                ch = cout
                if level == len(CHANNELS) - 1:
                    self.up.append(Attention(ch))
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(ch, ch, 3, padding=1)))
        self.out_norm = nn.GroupNorm(GROUPS, ch, eps=1e-5)
        self.out_conv = nn.Conv2d(ch, out_ch, 3, padding=1)

    def forward(self, x, t):
        emb = self.time_fc2(F.silu(self.time_fc1(timestep_embedding(t))))
        h = self.conv_in(x)
        hs = [h]
        for m in self.down:
            if isinstance(m, ResBlock):
                h = m(h, emb)
            else:
                h = m(h)
            if not isinstance(m, ResBlock) or not self._followed_by_attention(m):
                hs.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
        for m in self.up:
            if isinstance(m, ResBlock):
                h = m(torch.cat([h, hs.pop()], dim=1), emb)
            else:
                h = m(h)
        return self.out_conv(F.silu(self.out_norm(h)))

    def _followed_by_attention(self, block):
        mods = list(self.down)
        i = mods.index(block)
        return i + 1 < len(mods) and isinstance(mods[i + 1], Attention)


class MLP(nn.Module):
    """The seed demo's 2-D model: 72,066 parameters at T = 100 with out 2."""

    def __init__(self, timesteps: int = 100, out: int = 2, hidden: int = 128):
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(2, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)])
        self.emb = nn.ModuleList([nn.Embedding(timesteps, hidden) for _ in range(3)])
        self.out = nn.Linear(hidden, out)

    def forward(self, x, t):
        for fc, emb in zip(self.fc, self.emb):
            x = F.relu(fc(x) + emb(t))
        return self.out(x)


if __name__ == "__main__":
    assert sum(p.numel() for p in UNetS(1).parameters()) == 1623169
    assert sum(p.numel() for p in UNetS(2).parameters()) == 1623458
    assert sum(p.numel() for p in MLP().parameters()) == 72066
    print("parameter counts match the spec")
