"""glassgrad.version: torch.version's build facts for a CPU-only library."""

from __future__ import annotations

import pytest

import glassgrad as gg


def test_version_module_says_cpu_build(torch):
    # torch.version.cuda is None on a CPU build; code branches on it (uvadlc tutorial 7)
    import glassgrad.version as v

    assert gg.version is v
    assert gg.version.cuda is torch.version.cuda is None
    assert gg.version.hip is None and gg.version.debug is False
    assert gg.version.__version__ == gg.__version__
    with pytest.raises(AttributeError):
        gg.version.cuda.replace(".", "")
