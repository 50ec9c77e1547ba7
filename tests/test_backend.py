"""The backend seam and the allocator setting."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from glassgrad import backend


def test_array_module_is_numpy_and_to_numpy_converts():
    assert backend.array_module(np.ones(2)) is np
    assert isinstance(backend.to_numpy([1, 2]), np.ndarray)


def _tuned_in_subprocess(**env: str) -> str:
    code = "import glassgrad.backend as b; print(b.malloc_tuned)"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLASSGRAD_"))}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION")), reason="glibc only"
)
def test_malloc_tuning_is_on_by_default_and_can_be_turned_off():
    assert _tuned_in_subprocess() == "True"
    assert _tuned_in_subprocess(GLASSGRAD_MALLOC_TUNING="0") == "False"
    assert _tuned_in_subprocess(MALLOC_MMAP_THRESHOLD_="131072") == "False"  # the user's own setting wins
