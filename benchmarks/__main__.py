"""``python -m benchmarks [workload ...] [--steps N] [--threads T] [--repeat R]``.

The thread count must reach NumPy's BLAS before NumPy is imported, so the arguments are parsed
and the environment set here, before anything imports numpy, glassgrad or torch (``main`` sets
the BLAS kernel choice, ``--blas-kernels``, before it imports them).
"""

import os
import sys

from benchmarks.runner import main, parse_args, thread_env

if __name__ == "__main__":
    os.environ.update(thread_env(parse_args(sys.argv[1:]).threads))
    sys.exit(main(sys.argv[1:]))
