"""Random factories and empty layers at their edges: our own errors (not NumPy's), no float64 detour
for float32 draws, and ``Linear(0, n)`` as PyTorch."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.errors import DTypeError


@pytest.mark.parametrize("args", [(5, 5, (3,)), (5, 2, (3,)), (0, (3,))])
def test_randint_needs_low_below_high_in_its_own_words(args):
    with pytest.raises(ValueError, match=r"randint: expected low < high, got low=\d and high=\d") as e:
        gg.randint(*args)
    assert "low >= high" not in str(e.value)  # NumPy's wording


def test_randint_still_draws():
    x = gg.randint(2, 5, (1000,))
    assert x.dtype == gg.int64 and set(x.tolist()) == {2, 3, 4}
    assert gg.randint(3, (2, 2)).shape == (2, 2)


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("factory", [gg.randn, gg.rand])
def test_float32_draws_do_not_go_through_float64(factory):
    n = 1_000_000
    peak = _peak_bytes(lambda: factory(n))
    assert peak < 1.5 * 4 * n, f"peak {peak} bytes for {4 * n} bytes of float32"  # float64 first: 3x
    x = factory(n)
    assert x.dtype == gg.float32
    assert abs(float(x._data.mean()) - (0.0 if factory == gg.randn else 0.5)) < 0.01
    assert abs(float(x._data.std()) - (1.0 if factory == gg.randn else (1 / 12) ** 0.5)) < 0.01


@pytest.mark.parametrize("dtype", [gg.float16, gg.float32, gg.float64])
@pytest.mark.parametrize("factory", [gg.randn, gg.rand])
def test_random_factories_keep_their_dtype_and_follow_the_seed(factory, dtype):
    gg.manual_seed(3)
    a = factory(4, 5, dtype=dtype)
    gg.manual_seed(3)
    b = factory(4, 5, dtype=dtype)
    assert a.dtype == dtype and a.shape == (4, 5) and np.array_equal(a._data, b._data)


@pytest.mark.parametrize("factory", [gg.randn, gg.rand])
def test_random_floats_refuse_an_integer_dtype(factory):
    with pytest.raises(
        DTypeError, match=f"{factory.__name__}: expected a floating or complex dtype, got glassgrad.int64"
    ):
        factory(3, dtype=gg.int64)


def test_linear_with_no_input_features_gives_the_bias_as_pytorch():
    layer = nn.Linear(0, 3)
    x = gg.zeros(2, 0, requires_grad=True)
    y = layer(x)
    assert y.shape == (2, 3) and y.tolist() == [[0.0] * 3] * 2  # PyTorch's init makes the bias 0 too
    y.sum().backward()
    assert x.grad.shape == (2, 0) and layer.weight.grad.shape == (3, 0)
    assert layer.bias.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")  # torch's notice
def test_linear_matches_pytorch_on_empty_shapes(torch):
    for n_in, n_out, lead in [(0, 3, (2,)), (3, 0, (2,)), (3, 2, (0,)), (0, 0, (4, 0))]:
        ours, theirs = nn.Linear(n_in, n_out), torch.nn.Linear(n_in, n_out)
        theirs.load_state_dict({k: torch.tensor(v._data) for k, v in ours.state_dict().items()})
        x = np.ones((*lead, n_in), dtype=np.float32)
        a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = ours(a), theirs(t)
        np.testing.assert_array_equal(ya._data, yt.detach().numpy())
        ya.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
        np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
        np.testing.assert_array_equal(ours.bias.grad.numpy(), theirs.bias.grad.numpy())


@pytest.mark.parametrize("fill", ["normal_()", "uniform_()", "exponential_()", "log_normal_()", "cauchy_()"])
def test_continuous_fills_refuse_integer_tensors_as_pytorch(torch, fill):
    # found by tensorbasics probing (Machine-Learning-Collection): int64.normal_() filled truncated
    # draws where PyTorch's kernels refuse (NotImplementedError or RuntimeError; ours is both)
    for dtype in ("int64", "bool"):
        with pytest.raises(RuntimeError):
            eval(f"lib.zeros(3, dtype=lib.{dtype}).{fill}", {"lib": torch})
        with pytest.raises(NotImplementedError, match="expected a floating point tensor"):
            eval(f"lib.zeros(3, dtype=lib.{dtype}).{fill}", {"lib": gg})
    assert eval(f"lib.zeros(3, dtype=lib.float64).{fill}", {"lib": gg}).dtype == gg.float64
    assert gg.zeros(3, dtype=gg.int64).random_(0, 5).dtype == gg.int64  # discrete fills still take ints
    assert gg.zeros(3, dtype=gg.int64).geometric_(0.5).min().item() >= 1


def test_cauchy_fill_has_pytorchs_parameters():
    gg.manual_seed(0)
    x = gg.zeros(100_000).cauchy_(median=1.0, sigma=2.0)
    q1, q3 = np.quantile(x.numpy(), [0.25, 0.75])
    assert (
        abs(np.median(x.numpy()) - 1.0) < 0.05 and abs((q3 - q1) / 2 - 2.0) < 0.05
    )  # quartiles at median +- sigma
