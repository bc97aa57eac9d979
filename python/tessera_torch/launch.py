"""torchrun, for PyTorch builds where torchrun itself fails to start: Debian bookworm's python3-torch
(1.13) on Python 3.11, whose `Std.from_str` returns None for "0" (Python 3.11 no longer iterates the
flag NONE) and so dies with "AttributeError: 'NoneType' object has no attribute 'get'" before
launching anything. Takes torchrun's arguments and runs torch.distributed.run's main, with that one
function fixed when (and only when) it is broken:

    /usr/bin/python3 -m tessera_torch.launch --standalone --nproc_per_node 2 python/train.py prior ...
    (from python/, or with python/ on PYTHONPATH)
"""
import re


def _fix_std_from_str():
    from torch.distributed.elastic.multiprocessing import api
    if api.Std.from_str('0') is not None:
        return

    def from_str(cls, vm):
        if re.match(api._VALUE_REGEX, vm):
            return cls(int(vm))
        return {int(i): cls(int(v)) for i, v in (m.split(':') for m in vm.split(','))}
    api.Std.from_str = classmethod(from_str)


def main():
    _fix_std_from_str()
    from torch.distributed.run import main as torchrun
    torchrun()


if __name__ == '__main__':
    main()
