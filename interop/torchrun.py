"""`torchrun` for Debian's python3-torch 1.13 on Python 3.11, whose own `torchrun` (and
`python3 -m torch.distributed.run`) fail at start-up with "AttributeError: 'NoneType' object has no
attribute 'get'": torch 1.13 parses `--redirects`/`--tee` by comparing an Enum member with an
int, which Python 3.11 no longer equates. This shim fixes that parse and runs torchrun's own main,
so the flags and environment are torchrun's:

    python3 interop/torchrun.py --nproc_per_node=2 interop/train_ddp.py ...

With a newer PyTorch, call `torchrun` itself.
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api


def _from_str(vm):
    if re.fullmatch(r"\d+", vm):
        return api.Std(int(vm))
    return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}


api.Std.from_str = staticmethod(_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main
    sys.argv[0] = "torchrun"
    sys.exit(main())
