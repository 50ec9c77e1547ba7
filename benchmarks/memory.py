"""``python -m benchmarks.memory [workload ...] [--steps N] [--threads T]``: peak memory per library.

Each library runs the workload in a fresh process (so one library's arrays and caches cannot count
against the other), and the table reports, from Linux's ``/proc/self/status``:

- ``baseline``: resident memory after importing the library and building the workload (model,
  optimizer, data), before the first step;
- ``peak``: the high-water mark (``VmHWM``) after ``steps`` training steps;
- ``growth``: peak minus baseline, the memory the training steps themselves needed (activations,
  saved tensors, gradients, workspace). This is the figure to compare: PyTorch's baseline is mostly
  its own shared libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from benchmarks.runner import thread_env

__all__ = ["measure", "main"]

_CHILD = """
import json, sys
from benchmarks.workloads import WORKLOADS

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024  # kB -> bytes
    raise KeyError(key)

name, lib, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if lib == "torch":
    import torch
    torch.set_num_threads(int(sys.argv[4]))
step, probe = getattr(WORKLOADS[name], lib)(0)
base = status("VmRSS")
for _ in range(steps):
    step()
print(json.dumps({"baseline": base, "peak": status("VmHWM"), "probe": probe()}))
"""


def measure(name: str, lib: str, steps: int, threads: int) -> dict:
    """``{"baseline", "peak", "probe"}`` (bytes) for one library running one workload in a child process."""
    env = dict(os.environ)
    env.update(thread_env(threads))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, name, lib, str(steps), str(threads)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mib(b: float) -> str:
    return f"{b / 2**20:.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    p.add_argument("workloads", nargs="*", default=["cnn"], help="workload names (default: cnn)")
    p.add_argument("--steps", type=int, default=20, help="training steps before reading the peak")
    p.add_argument("--threads", type=int, default=1, help="threads for BLAS and torch")
    args = p.parse_args(argv)
    print(
        f"peak resident memory after {args.steps} steps, {args.threads} thread(s), one process per library\n"
    )
    print("| workload | library | baseline | peak | growth |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in args.workloads:
        for lib in ("glassgrad", "torch"):
            m = measure(name, lib, args.steps, args.threads)
            growth = m["peak"] - m["baseline"]
            print(f"| {name} | {lib} | {_mib(m['baseline'])} | {_mib(m['peak'])} | {_mib(growth)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
