"""Loading and saving the model files of `deno task export` / `deno task import` (the format of
`lib/model/model_file.ts`): the weights under the PyTorch modules' `state_dict` keys; with
`weights=all` also the EMA weights and Adam's moments under the prefixes `ema.`, `adam_m.`,
`adam_v.`; the model configuration, step and training configuration in the metadata.

    from model_file import load
    f = load("model.safetensors")          # the EMA weights where the file has them
    eps = f.model(x_nchw, t)
"""
import json
from dataclasses import dataclass, field

import torch

from safetensors_io import load_file, save_file
from unet_s import MLP, UNetS

FORMAT = "diffusion-ts-model"
VERSION = "1"
PREFIXES = {"ema": "ema.", "adam_m": "adam_m.", "adam_v": "adam_v."}


class ModelFileError(ValueError):
    """A model file that does not fit the model it describes (one-line message)."""


def build_model(config: dict) -> torch.nn.Module:
    """The PyTorch module of a model configuration (the `model` metadata entry)."""
    kind = config.get("kind")
    if kind == "unet-s":
        return UNetS(out_ch=config.get("outChannels", 1), dropout=config.get("dropout", 0.1),
                     num_classes=config.get("numClasses", 0))
    if kind == "mlp":
        return MLP(timesteps=config["timesteps"], out=config["outDim"],
                   hidden=config.get("hidden", 128),
                   time_embedding=config.get("timeEmbedding", "learned"),
                   dropout=config.get("dropout", 0.0))
    raise ModelFileError(f'unknown model kind {kind!r}: expected "mlp" or "unet-s"')


@dataclass
class ModelFile:
    """A loaded model file."""
    config: dict
    step: int
    weights: str
    model: torch.nn.Module
    metadata: dict
    raw: dict = None
    ema: dict = None
    adam: dict = None  # {"step": int, "m": state_dict, "v": state_dict}
    train_config: dict = field(default_factory=dict)


def _group(tensors, keys, prefix, path):
    out = {}
    for k, shape in keys.items():
        t = tensors.pop(prefix + k, None)
        if t is None:
            raise ModelFileError(f"{path}: tensor {prefix + k} {list(shape)} is missing")
        if tuple(t.shape) != tuple(shape):
            raise ModelFileError(f"{path}: tensor {prefix + k} has shape {list(t.shape)}, expected {list(shape)}")
        if t.dtype != torch.float32:
            raise ModelFileError(f"{path}: tensor {prefix + k} has dtype {t.dtype}, expected float32")
        out[k] = t
    return out


def load(path, weights="ema") -> ModelFile:
    """Loads a model file; the module gets the EMA weights (`weights="ema"`, where the file has
    them) or the raw ones (`"raw"`)."""
    tensors, meta = load_file(path)
    if "model" not in meta:
        raise ModelFileError(f"{path}: no model configuration in the metadata")
    config = json.loads(meta["model"])
    model = build_model(config)
    keys = {k: v.shape for k, v in model.state_dict().items()}
    kind = meta.get("weights", "raw")
    raw = _group(tensors, keys, "", path)
    f = ModelFile(config=config, step=int(meta.get("step", 0)), weights=kind, model=model,
                  metadata=meta, raw=raw,
                  train_config=json.loads(meta["train_config"]) if "train_config" in meta else {})
    if kind == "all":
        f.ema = _group(tensors, keys, PREFIXES["ema"], path)
        f.adam = {"step": int(meta.get("adam_step", f.step)),
                  "m": _group(tensors, keys, PREFIXES["adam_m"], path),
                  "v": _group(tensors, keys, PREFIXES["adam_v"], path)}
    if tensors:
        raise ModelFileError(f"{path}: tensors the model does not have: {sorted(tensors)[:3]}")
    model.load_state_dict(f.ema if (weights == "ema" and f.ema is not None) else raw)
    model.eval()
    return f


def save(path, config, step, raw, ema=None, adam=None, metadata=None):
    """Writes a model file: `raw` (a state_dict) alone (`weights` = metadata's or "raw"), or with
    `ema` and `adam` ({"step", "m", "v"}) as `weights=all`."""
    meta = dict(metadata or {})
    meta.update(format=FORMAT, version=VERSION, model=json.dumps(config), step=str(step))
    tensors = {k: v.float() for k, v in raw.items()}
    if ema is not None and adam is not None:
        meta["weights"] = "all"
        meta["adam_step"] = str(adam["step"])
        for prefix, group in ((PREFIXES["ema"], ema), (PREFIXES["adam_m"], adam["m"]),
                              (PREFIXES["adam_v"], adam["v"])):
            tensors.update({prefix + k: v.float() for k, v in group.items()})
    else:
        meta.setdefault("weights", "raw")
    save_file(tensors, path, meta)
