"""The reference models of `shared/spec/unet-s.md` in PyTorch: UNet-S (MNIST) and the 2-D MLP.

Their `state_dict` keys are the TypeScript models' parameter names with PyTorch's suffixes
(`down.0.1.conv1.weight` for `down.0.1.conv1.w`, `out.norm.weight` for `out.norm.gamma`; see
`lib/model/torch_layout.ts`), so that a file written by `deno task export` loads with
`load_state_dict` as it is (`interop/model_file.py`), and one saved from here imports back.

Layout is PyTorch's (NCHW; conv weights OIHW, linear weights [out, in]); the arithmetic is the
TypeScript model's, operation for operation (the timestep embedding's frequencies are rounded
from float64 as there).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

CHANNELS = (32, 64, 64)
GROUPS = 8
TIME_IN = 32
TIME_DIM = 128


def timestep_embedding(t: torch.Tensor, dim: int = TIME_IN, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, cos half first (improved-diffusion's `timestep_embedding`)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half).float()
    args = t.float()[:, None] * freqs[None, :].to(t.device)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


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


class ResBlock(nn.Module):
    """A ResBlock, followed by its attention (`attn`) where it has one."""

    def __init__(self, cin: int, cout: int, dropout: float, attention: bool = False):
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(TIME_DIM, cout)
        self.norm2 = nn.GroupNorm(GROUPS, cout, eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.attn = Attention(cout) if attention else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        h = (self.skip(x) if self.skip is not None else x) + h
        return self.attn(h) if self.attn is not None else h


class _Level(nn.Module):
    """One resolution: ResBlocks named "0", "1", ... and an optional resampling conv."""

    def __init__(self, blocks, resample_name=None, resample=None):
        super().__init__()
        for i, b in enumerate(blocks):
            self.add_module(str(i), b)
        self.n = len(blocks)
        self.resample_name = resample_name
        if resample is not None:
            self.add_module(resample_name, resample)

    def block(self, i):
        return getattr(self, str(i))

    def resample(self):
        return getattr(self, self.resample_name) if self.resample_name else None


class _Time(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(TIME_IN, TIME_DIM)
        self.fc2 = nn.Linear(TIME_DIM, TIME_DIM)

    def forward(self, t):
        return self.fc2(F.silu(self.fc1(timestep_embedding(t))))


class _Out(nn.Module):
    def __init__(self, ch: int, out_ch: int):
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, ch, eps=1e-5)
        self.conv = nn.Conv2d(ch, out_ch, 3, padding=1)

    def forward(self, h):
        return self.conv(F.silu(self.norm(h)))


class UNetS(nn.Module):
    """UNet-S: 1,623,169 parameters with out_ch 1, 1,623,458 with 2. Input NCHW [B, 1, 28, 28].

    With `num_classes > 0` it is class-conditional (classifier-free guidance): `label_emb`, an
    Embedding(num_classes + 1, 128) whose last row is the null label, is added to the time
    embedding; `forward(x, t, y)` takes int64 labels `y` (absent: the null label).
    """

    def __init__(self, out_ch: int = 1, dropout: float = 0.1, num_classes: int = 0):
        super().__init__()
        last = len(CHANNELS) - 1
        self.num_classes = num_classes
        self.time = _Time()
        self.conv_in = nn.Conv2d(1, CHANNELS[0], 3, padding=1)
        skips = [CHANNELS[0]]
        ch = CHANNELS[0]
        self.down = nn.ModuleDict()
        for level, cout in enumerate(CHANNELS):
            blocks = []
            for _ in range(2):
                blocks.append(ResBlock(ch, cout, dropout, attention=level == last))
                ch = cout
                skips.append(ch)
            conv = None
            if level < last:
                conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
                skips.append(ch)
            self.down[str(level)] = _Level(blocks, "down" if conv is not None else None, conv)
        self.mid = _Level([ResBlock(ch, ch, dropout)])
        self.mid.attn = Attention(ch)
        self.mid.add_module("1", ResBlock(ch, ch, dropout))
        self.up = nn.ModuleDict()
        for level in reversed(range(len(CHANNELS))):
            cout = CHANNELS[level]
            blocks = []
            for _ in range(3):
                blocks.append(ResBlock(ch + skips.pop(), cout, dropout, attention=level == last))
                ch = cout
            conv = nn.Conv2d(ch, ch, 3, padding=1) if level > 0 else None
            self.up[str(level)] = _Level(blocks, "up" if conv is not None else None, conv)
        self.out = _Out(ch, out_ch)
        # Registered last, as the TypeScript model creates it last.
        self.label_emb = nn.Embedding(num_classes + 1, TIME_DIM) if num_classes > 0 else None

    def forward(self, x, t, y=None):
        emb = self.time(t)
        if self.label_emb is not None:
            if y is None:
                y = torch.full_like(t, self.num_classes, dtype=torch.long)
            emb = emb + self.label_emb(y)
        elif y is not None:
            raise ValueError("labels given to a model trained without labels (num_classes 0)")
        h = self.conv_in(x)
        hs = [h]
        for level in self.down.values():
            for i in range(level.n):
                h = level.block(i)(h, emb)
                hs.append(h)
            if level.resample() is not None:
                h = level.resample()(h)
                hs.append(h)
        h = getattr(self.mid, "1")(self.mid.attn(self.mid.block(0)(h, emb)), emb)
        for level in self.up.values():
            for i in range(level.n):
                h = level.block(i)(torch.cat([h, hs.pop()], dim=1), emb)
            if level.resample() is not None:
                h = level.resample()(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out(h)


class _SinusoidalEmbed(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.proj = nn.Linear(hidden, 3 * hidden)

    def forward(self, t):
        return self.proj(timestep_embedding(t, self.hidden))


class MLP(nn.Module):
    """The seed demo's 2-D model: 72,066 parameters at T = 100 with out 2.

    With `time_embedding="learned"` the three layers' Embedding(T, hidden) tables are one
    Embedding(T, 3 * hidden) (`embed.weight`), as in the TypeScript model.
    """

    def __init__(self, timesteps: int = 100, out: int = 2, hidden: int = 128,
                 time_embedding: str = "learned", dropout: float = 0.0):
        super().__init__()
        self.fc0 = nn.Linear(2, hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        if time_embedding == "learned":
            self.embed = nn.Embedding(timesteps, 3 * hidden)
        elif time_embedding == "sinusoidal":
            self.embed = _SinusoidalEmbed(hidden)
        else:
            raise ValueError(f'expected time_embedding "learned" or "sinusoidal", got {time_embedding!r}')
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, out)

    def forward(self, x, t):
        embs = self.embed(t).chunk(3, dim=1)
        for fc, e in zip((self.fc0, self.fc1, self.fc2), embs):
            x = self.dropout(F.relu(fc(x) + e))
        return self.out(x)


if __name__ == "__main__":
    assert sum(p.numel() for p in UNetS(1).parameters()) == 1623169
    assert sum(p.numel() for p in UNetS(2).parameters()) == 1623458
    assert sum(p.numel() for p in UNetS(1, num_classes=10).parameters()) == 1623169 + 11 * 128
    assert sum(p.numel() for p in MLP().parameters()) == 72066
    print("parameter counts match the spec")
