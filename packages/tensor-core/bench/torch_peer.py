"""PyTorch CPU peer: the same workloads as bench/workloads.mjs, 2 threads, median ms per iteration."""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(2)
spec = json.loads(sys.argv[1])


def time_it(step, runs=5, iters=3, warmup=2):
    """Median wall and CPU (all threads) ms per iteration, as timeIt in workloads.mjs."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            step()
        wall.append((time.perf_counter() - t0) * 1000 / iters)
        cpu.append((time.process_time() - c0) * 1000 / iters)
    return {"ms": statistics.median(wall), "cpuMs": statistics.median(cpu)}


out = {"version": torch.__version__, "threads": torch.get_num_threads(), "matmul": [], "conv": []}
with torch.no_grad():
    for mm in spec["matmuls"]:
        a = torch.rand(mm["m"], mm["k"])
        b = torch.rand(mm["k"], mm["n"])
        out["matmul"].append(time_it(lambda: torch.mm(a, b)))
    for c in spec["convs"]:
        x = torch.rand(c["batch"], c["cin"], c["h"], c["w"])
        w = torch.rand(c["cout"], c["cin"], c["kernel"], c["kernel"])
        out["conv"].append(time_it(lambda: torch.nn.functional.conv2d(x, w, padding=c["padding"])))
print(json.dumps(out))
