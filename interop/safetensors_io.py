"""The safetensors format without the `safetensors` package (Debian has none): an 8-byte
little-endian header length, a JSON header (dtype, shape, data_offsets per tensor and a
`__metadata__` map of strings), then the raw little-endian tensors. The same format as
`lib/io/safetensors.ts`; files written here load with `safetensors.torch.load_file` and back.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {
    "F64": (torch.float64, np.dtype("<f8")),
    "F32": (torch.float32, np.dtype("<f4")),
    "F16": (torch.float16, np.dtype("<f2")),
    "I64": (torch.int64, np.dtype("<i8")),
    "I32": (torch.int32, np.dtype("<i4")),
    "I16": (torch.int16, np.dtype("<i2")),
    "I8": (torch.int8, np.dtype("i1")),
    "U8": (torch.uint8, np.dtype("u1")),
    "BOOL": (torch.bool, np.dtype("?")),
}
_NAMES = {torch_dtype: name for name, (torch_dtype, _) in _DTYPES.items()}


class SafetensorsError(ValueError):
    """A file that is not valid safetensors (one-line message)."""


def save_file(tensors, path, metadata=None):
    """Writes `tensors` (name -> torch.Tensor, written in this order) and string `metadata`."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise SafetensorsError(f"cannot write {name}: dtype {t.dtype} is not supported")
        blob = t.numpy().astype(_DTYPES[_NAMES[t.dtype]][1], copy=False).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    import os
    os.replace(tmp, path)


def load_file(path):
    """Reads a file: returns (dict name -> torch.Tensor in file order, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SafetensorsError(f"{path}: not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise SafetensorsError(f"{path}: not a safetensors file (header length {n})")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: not a safetensors file (header: {e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: not a safetensors file (header is not an object)")
    metadata = header.pop("__metadata__", {}) or {}
    buf = memoryview(data)[8 + n:]
    out = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if e.get("dtype") not in _DTYPES:
            raise SafetensorsError(f"{path}: tensor {name} has unknown dtype {e.get('dtype')}")
        torch_dtype, np_dtype = _DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        if end - begin != count * np_dtype.itemsize or end > len(buf):
            raise SafetensorsError(f"{path}: tensor {name} has bad data_offsets {e['data_offsets']}")
        arr = np.frombuffer(buf[begin:end], dtype=np_dtype).astype(np_dtype.newbyteorder("="))
        out[name] = torch.from_numpy(arr.copy()).reshape(e["shape"]).to(torch_dtype)
    return out, metadata
