"""Runs a model file's module on given inputs, for the parity tests of `tests/torch_parity_test.ts`.

    python3 interop/parity.py MODEL.safetensors INPUTS.safetensors OUT.safetensors

INPUTS holds `x` ([B, 1, 28, 28] or [B, 2]) and `t` ([B], int32), and `y` ([B], int32 class
labels) for a class-conditional model; OUT gets `y`, the output in
the project's layout (NHWC for images, so that it compares element for element). When INPUTS also
holds `noise`, `x` is x_0 and OUT gets the per-example training losses `loss`, `mse` and `vlb` of
`interop/diffusion.py` for the metadata's `schedule`, `timesteps`, `loss`, `variance` and `data`.
"""
import sys

import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
from model_file import load  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402
from diffusion import Schedule, training_losses  # noqa: E402


def main(model_path, inputs_path, out_path):
    torch.set_num_threads(1)
    f = load(model_path, weights="raw")
    inputs, meta = load_file(inputs_path)
    if "noise" in inputs:
        s = Schedule.named(meta["schedule"], int(meta["timesteps"]))
        with torch.no_grad():
            terms = training_losses(s, f.model, inputs["x"], inputs["t"].long(), inputs["noise"],
                                    loss=meta["loss"], variance=meta["variance"], data=meta["data"])
        save_file({k: v.contiguous() for k, v in terms.items()}, out_path)
        return
    with torch.no_grad():
        if "y" in inputs:  # class labels of a class-conditional model (the last: the null label)
            y = f.model(inputs["x"], inputs["t"].long(), inputs["y"].long())
        else:
            y = f.model(inputs["x"], inputs["t"].long())
    if y.ndim == 4:
        y = y.permute(0, 2, 3, 1)
    save_file({"y": y.contiguous()}, out_path, {"torch": torch.__version__})


if __name__ == "__main__":
    main(*sys.argv[1:4])
