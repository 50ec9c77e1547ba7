"""Round 66: PyTorch's ``error_inputs`` (OpInfo) and ``module_error_inputs`` (ModuleInfo) replayed
against glassgrad. Each case is PyTorch parity: where PyTorch raises, glassgrad raises an error
of PyTorch's class (a program's ``except RuntimeError`` must catch it); where glassgrad ran
silently, the answer could be wrong (an integer ``arange(out=)``, a cross product broadcasting
a size-1 vector dim, a ``normal`` size dropped)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _both_raise(torch, call, exc=RuntimeError):
    """``call(lib)`` raises ``exc`` in PyTorch and in glassgrad."""
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc):
        call(gg)


def test_arange_out_computes_in_out_dtype(torch):
    # silently wrong before: the float values 0, 1.5, 3, 4.5 cast into the int out (4 elements)
    for args in ((0, 5, 1.5), (0.5, 5.7), (0, 7.5, 2.5), (-2.5, 3)):
        want = torch.arange(*args, out=torch.empty(0, dtype=torch.int64))
        got = gg.arange(*args, out=gg.empty(0, dtype=gg.int64))
        assert got.tolist() == want.tolist(), args
    want = torch.arange(5, out=torch.empty(0, dtype=torch.float64))
    got = gg.arange(5, out=gg.empty(0, dtype=gg.float64))
    assert got.dtype == gg.float64 and got.tolist() == want.tolist()
    # a step truncated to 0 in out's dtype, and a dtype= unlike out's: PyTorch's errors
    _both_raise(torch, lambda lib: lib.arange(0, 64, 0.5, out=lib.empty(0, dtype=lib.int64)), ValueError)
    _both_raise(torch, lambda lib: lib.arange(0, 5, dtype=lib.float64, out=lib.empty(0, dtype=lib.int64)))


def test_linalg_cross_does_not_broadcast_the_vector_dim(torch):
    a, b = np.random.default_rng(0).standard_normal((2, 5, 3))
    for lib in (torch, gg):
        x, y = lib.tensor(a), lib.tensor(b[:, :1])
        with pytest.raises(RuntimeError, match="must have length 3"):
            lib.linalg.cross(x, y)
        with pytest.raises(RuntimeError, match="must have length 3"):
            lib.cross(x, y, dim=1)
    # the other dims still broadcast, as PyTorch's
    want = torch.linalg.cross(torch.tensor(a), torch.tensor(b[:1]))
    got = gg.linalg.cross(gg.tensor(a), gg.tensor(b[:1]))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_isclose_refuses_negative_tolerances(torch):
    for kw in ({"rtol": -0.4}, {"atol": -0.4}, {"rtol": float("nan")}):
        _both_raise(torch, lambda lib, kw=kw: lib.isclose(lib.ones(2), lib.ones(2), **kw))
        _both_raise(torch, lambda lib, kw=kw: lib.allclose(lib.ones(2), lib.ones(2), **kw))
    assert gg.isclose(gg.ones(2), gg.ones(2), rtol=0, atol=0).tolist() == [True, True]


def test_normal_tensor_form_takes_no_size(torch):
    # the size was dropped silently: normal(mean (10,), 1.0, (5,)) gave 10 samples
    _both_raise(torch, lambda lib: lib.normal(lib.zeros(10), 1.0, (5,)), TypeError)
    _both_raise(torch, lambda lib: lib.normal(0.0, lib.ones(3), (3,)), TypeError)
    _both_raise(torch, lambda lib: lib.normal(lib.zeros(10), 0, -1), TypeError)
    assert gg.normal(gg.zeros(4), gg.ones(4)).shape == (4,)


@pytest.mark.parametrize("op", ["gather", "index_select", "take", "masked_select", "kthvalue", "cat"])
def test_out_that_is_an_input_is_refused(torch, op):
    """PyTorch's ``assert_no_overlap`` for the gathering ops' out=: the out given is the input."""

    def call(lib):
        a = lib.arange(6.0)
        i = lib.tensor([0, 2, 1, 3, 4, 5])
        return {
            "gather": lambda: lib.gather(a, 0, i, out=a),
            "index_select": lambda: lib.index_select(a, 0, i, out=a),
            "take": lambda: lib.take(a, i, out=a),
            "masked_select": lambda: lib.masked_select(a, a > -1, out=a),
            "kthvalue": lambda: lib.kthvalue(a, 2, out=(a, lib.empty(0, dtype=lib.int64))),
            "cat": lambda: lib.cat([a, lib.ones(6)], out=a),
        }[op]()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # resize warnings
        with pytest.raises(RuntimeError, match="refer to"):
            call(torch)
        with pytest.raises(RuntimeError, match="refer to"):
            call(gg)


def test_out_disjoint_from_input_still_written(torch):
    for lib in (torch, gg):
        a = lib.arange(6.0)
        lib.gather(a[:3], 0, lib.tensor([2, 0, 1]), out=a[3:])
        assert a.tolist() == [0.0, 1.0, 2.0, 2.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "name, shape",
    [("max_pool1d", (0, 10)), ("max_pool1d", (2, 0, 10)), ("avg_pool1d", (0, 10)), ("max_pool2d", (2, 0, 3, 10)),
     ("max_pool2d", (2, 3, 0, 10)), ("avg_pool2d", (2, 0, 3, 10)), ("max_pool3d", (0, 1, 2, 10)),
     ("avg_pool3d", (0, 1, 2, 10))],
)  # fmt: skip
def test_pooling_refuses_empty_non_batch_dims(torch, name, shape):
    _both_raise(torch, lambda lib: getattr(lib.nn.functional, name)(lib.ones(*shape), 1))


def test_pooling_takes_an_empty_batch(torch):
    for shape, name in (
        ((0, 2, 10), "max_pool1d"),
        ((0, 2, 3, 10), "avg_pool2d"),
        ((0, 3, 4, 10), "max_pool2d"),
    ):
        want = getattr(torch.nn.functional, name)(torch.ones(*shape), 1)
        assert getattr(F, name)(gg.ones(*shape), 1).shape == tuple(want.shape)


def test_value_errors_are_runtime_errors_as_pytorch(torch):
    """PyTorch raises RuntimeError for these bad settings; glassgrad raised a bare ValueError."""
    cases = [
        lambda lib: lib.cov(lib.ones(5), fweights=lib.tensor([1, 1, -1, 1, 1])),
        lambda lib: lib.cov(lib.ones(5), aweights=lib.tensor([1.0, 1, -1, 1, 1])),
        lambda lib: lib.nn.functional.rrelu(lib.ones(5, 5), lower=0.3, upper=0.1),
        lambda lib: lib.nn.functional.softshrink(lib.ones(1), lambd=-0.5),
        lambda lib: lib.empty_permuted((2,), (0, 1)),
        lambda lib: lib.empty_permuted((2, 3), (0, 0)),
        lambda lib: lib.nn.CrossEntropyLoss(label_smoothing=1.5)(lib.ones(2, 3), lib.tensor([0, 1])),
        lambda lib: lib.nn.LinearCrossEntropyLoss(3, 2, label_smoothing=2.0),
        lambda lib: lib.nn.functional.linear_cross_entropy(
            lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 2), ignore_index=0
        ),
    ]
    for call in cases:
        _both_raise(torch, call)
        with pytest.raises(ValueError):  # and still a ValueError, as glassgrad raised before
            call(gg)


def test_multi_margin_loss_weight_rank_checked_first(torch):
    for w in ((), (5, 4)):
        _both_raise(
            torch,
            lambda lib, w=w: lib.nn.functional.multi_margin_loss(
                lib.ones(5, 4), lib.zeros(5), weight=lib.ones(w)
            ),
            ValueError,
        )


def test_narrow_tensor_start_must_be_0d_integral(torch):
    x = np.arange(20.0).reshape(4, 5)
    for start in ([1], True, 1.0):
        _both_raise(torch, lambda lib, s=start: lib.tensor(x).narrow(1, lib.tensor(s), 2))
    for lib in (torch, gg):
        assert lib.tensor(x).narrow(1, lib.tensor(2), 2).tolist() == x[:, 2:4].tolist()


def test_ormqr_and_roll_of_0d(torch):
    _both_raise(torch, lambda lib: lib.ormqr(lib.tensor(1.0), lib.tensor(1.0), lib.tensor(1.0)))
    for dims in (0, -1, (0,)):
        _both_raise(torch, lambda lib, d=dims: lib.roll(lib.tensor(3.0), 1, d), IndexError)
    assert gg.roll(gg.tensor(3.0), 1).item() == torch.roll(torch.tensor(3.0), 1).item()


def test_raw_errors_now_name_the_op(torch):
    # linspace/logspace of 1-D bounds read as ``item``'s error; HuberLoss(delta=1j) as ``<=``'s
    for op in ("linspace", "logspace"):
        for lib in (torch, gg):
            with pytest.raises(RuntimeError, match=f"{op} only supports 0-dimensional"):
                getattr(lib, op)(lib.tensor([0, 1]), lib.tensor([2, 3]), 3)
    for delta in (1 + 0j, np.float32(0.5)):
        for lib in (torch, gg):
            with pytest.raises(TypeError, match="delta must be a float or int"):
                lib.nn.HuberLoss(delta=delta)
    assert gg.nn.HuberLoss(delta=True).delta == torch.nn.HuberLoss(delta=True).delta
    want = torch.linspace(torch.tensor(0.0), torch.tensor(2.0), 3)
    assert gg.linspace(gg.tensor(0.0), gg.tensor(2.0), 3).tolist() == want.tolist()
