"""Round 58, a differential hunt on ``nn.init`` and the random-number functions against PyTorch.

What it found, pinned here:

- ``nn.init``'s fills wrote their own draws with ``copy_``: an integer tensor took truncated
  normals silently (PyTorch refuses it), ``uniform_(a > b)`` and ``normal_(std < 0)`` gave NumPy's
  errors, a zero-element tensor gave Kaiming no warning, ``trunc_normal_(a == b)`` raised.
- ``random_``, ``randint`` and ``randperm`` wrapped integers the dtype cannot hold (``randperm(300,
  dtype=uint8)`` was no permutation; ``int8.random_()`` drew negatives, ``bool.random_()`` nearly
  all True); ``random_(0)`` drew from the default range instead of refusing an empty one.
- The distribution fills took parameters outside their domain (``cauchy_(sigma=-1)``,
  ``log_normal_(std=0)``, ``geometric_(p=1)``), ``torch.normal`` a negative std, silently.
- ``torch.normal(mean, std)`` carried mean's gradient through (1) and std's (the draw); PyTorch's
  derivative of ``normal`` is zero for both.
- ``manual_seed(-1)`` raised (PyTorch seeds with its two's complement).

Distribution checks are Kolmogorov-Smirnov statistics of 20000 draws from a fixed seed against
the exact CDF, bounded at the level whose false-alarm rate is 1e-6 (sqrt(ln(2e6) / 2n)): with the
seed fixed they are deterministic, and would flake once in a million runs on a random seed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg

N = 20000
KS_BOUND = math.sqrt(math.log(2e6) / (2 * N))  # P(D > bound) <= 1e-6 under the null


def _ks(draws, cdf) -> float:
    x = np.sort(np.asarray(draws, dtype=np.float64).ravel())
    f = cdf(x)
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max()))


def _libs(torch):
    return {"torch": torch, "glassgrad": gg}


def _outcome(fn):
    """("ok", value) or (error class, message) of ``fn()``."""
    try:
        return "ok", fn()
    except Exception as e:
        return type(e), str(e)


# ---- nn.init --------------------------------------------------------------------------------------

_INITS = {
    "uniform_": lambda init, t: init.uniform_(t),
    "normal_": lambda init, t: init.normal_(t),
    "trunc_normal_": lambda init, t: init.trunc_normal_(t),
    "xavier_uniform_": lambda init, t: init.xavier_uniform_(t),
    "xavier_normal_": lambda init, t: init.xavier_normal_(t),
    "kaiming_uniform_": lambda init, t: init.kaiming_uniform_(t),
    "kaiming_normal_": lambda init, t: init.kaiming_normal_(t),
    "orthogonal_": lambda init, t: init.orthogonal_(t),
    "sparse_": lambda init, t: init.sparse_(t, 0.5),
}


@pytest.mark.parametrize("name", sorted(_INITS))
def test_random_inits_refuse_an_integer_tensor_as_pytorch(torch, name):
    for lib in (torch, gg):
        t = lib.zeros(4, 3, dtype=lib.int64)
        with pytest.raises(NotImplementedError):
            _INITS[name](lib.nn.init, t)
        assert t.tolist() == [[0] * 3] * 4  # left as it was


@pytest.mark.parametrize("name", sorted(_INITS))
def test_random_inits_fill_a_parameter_in_place_outside_the_graph(torch, name):
    seen = {}
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.zeros(6, 4))
        before = p._version
        out = _INITS[name](lib.nn.init, p)
        seen[lib.__name__] = (out is p, p._version > before, p.grad_fn is None, p.requires_grad, p.is_leaf)
    assert seen["glassgrad"] == seen["torch"] == (True, True, True, True, True)


@pytest.mark.parametrize(
    "call",
    [
        lambda init, t: init.uniform_(t, 2.0, 1.0),
        lambda init, t: init.normal_(t, 0.0, -1.0),
        lambda init, t: init.xavier_normal_(t, gain=-1.0),
    ],
    ids=["uniform_a_above_b", "normal_negative_std", "xavier_normal_negative_gain"],
)
def test_init_argument_errors_are_pytorchs(torch, call):
    got = {lib.__name__: _outcome(lambda lib=lib: call(lib.nn.init, lib.empty(3, 3))) for lib in (torch, gg)}
    assert issubclass(got["torch"][0], RuntimeError) and issubclass(got["glassgrad"][0], RuntimeError)
    assert got["glassgrad"][1] == got["torch"][1]


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_warns_on_a_zero_element_tensor_as_pytorch(torch, name):
    for lib in (torch, gg):
        t = lib.empty(0, 4)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert getattr(lib.nn.init, name)(t) is t


def test_trunc_normal_with_equal_bounds_fills_the_bound(torch):
    for lib in (torch, gg):
        assert (
            lib.nn.init.trunc_normal_(lib.empty(5, dtype=lib.float64), 0.0, 1.0, 0.25, 0.25).tolist()
            == [0.25] * 5
        )


def test_trunc_normal_warns_for_a_mean_far_outside_the_bounds(torch):
    for lib in (torch, gg):
        lib.manual_seed(0)
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            t = lib.nn.init.trunc_normal_(
                lib.empty(1000, dtype=lib.float64), mean=3.0, std=1.0, a=-2.0, b=0.0
            )
        assert t.min().item() >= -2.0 and t.max().item() <= 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a mean within 2 std: no warning
        gg.nn.init.trunc_normal_(gg.empty(10), mean=2.0, std=1.0, a=-2.0, b=0.0)


def test_trunc_normal_refuses_a_above_b_as_a_runtime_error():
    with pytest.raises(RuntimeError, match=r"trunc_normal_: expected a < b, got a=2, b=-2"):
        gg.nn.init.trunc_normal_(gg.empty(3), a=2, b=-2)


_GAINS = ["linear", "conv1d", "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", _GAINS)
def test_calculate_gain_is_pytorchs_number_and_type(torch, nonlinearity):
    for param in (None, 0.2):
        want = torch.nn.init.calculate_gain(nonlinearity, param)
        got = gg.nn.init.calculate_gain(nonlinearity, param)
        assert repr(got) == repr(want)  # linear's gain is the int 1, as there (f"{gain}" prints 1)


def test_constant_refuses_nan_into_an_integer_tensor():
    t = gg.zeros(2, 3, dtype=gg.int64)
    with pytest.raises(OverflowError, match="cannot be converted"):
        gg.nn.init.constant_(t, float("nan"))
    assert t.tolist() == [[0] * 3] * 2
