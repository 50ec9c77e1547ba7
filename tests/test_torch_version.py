"""glassgrad.__version__ compares as PyTorch's TorchVersion and names the PyTorch API glassgrad
follows (2.13), so a script's version gate takes PyTorch 2.13's branch (Time-Series-Library's
``padding = 1 if torch.__version__ >= '1.5.0' else 2``, stat453's ``<= Version("1.7")``)."""

from __future__ import annotations

import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("v >= '1.5.0'", True),
        ("v >= '2.2'", True),  # as versions: a plain string would say '2.13' < '2.2'
        ("v < '2.14'", True),
        ("v > '2.13.0rc1'", True),
        ("v >= (1, 12)", True),
        ("v < (2, 13)", False),
        ("v == '2.13.0'", True),
        ("v == '2.13'", True),
        ("v != '2.12.1'", True),
    ],
)
def test_version_gates_take_torch_2_13s_branch(torch, expr, expected):
    assert eval(expr, {"v": gg.__version__}) is expected
    assert eval(expr, {"v": torch.torch_version.TorchVersion("2.13.0")}) == expected  # PyTorch's own


def test_version_reads_the_api_and_the_release():
    v = gg.__version__
    assert str(v) == "2.13.0+glassgrad.0.1.0" and v.release == "0.1.0"
    assert isinstance(v, str) and gg.version.__version__ is v
    packaging = pytest.importorskip("packaging.version")
    assert v >= packaging.Version("2.13") and not v <= packaging.Version("1.7")
