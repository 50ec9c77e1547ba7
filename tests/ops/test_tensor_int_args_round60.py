"""Round 60: int arguments given as a 0-d integer tensor or a NumPy integer, as PyTorch's parser
reads them (their int), at the sites that refused them or read them differently: the conv/pool
int tuples (``ntuple``: kernel_size, stride, padding, dilation, output_size) and conv groups,
avg_pool's divisor_override, local_response_norm's size, tensor_split's ``sections=``, hsplit's
sections, matrix_power's n, norm's p, nll_loss's ignore_index, polygamma's n and mvlgamma's p."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

A = np.random.default_rng(60).normal(size=(3, 4, 6))
SQ = np.random.default_rng(61).normal(size=(4, 4))

#: the int k as each kind PyTorch's parser takes for an int
KINDS = {
    "int": lambda lib, k: k,
    "tensor0d": lambda lib, k: lib.tensor(k),
    "int64": lambda lib, k: np.int64(k),
    "int32": lambda lib, k: np.int32(k),
}


def _f(lib):
    return lib.nn.functional


W1 = np.random.default_rng(62).normal(size=(2, 4, 3))
W2 = np.random.default_rng(63).normal(size=(2, 3, 2, 2))

CASES = {  # name: (k, call(lib, x, v)) with x a float64 leaf of A's values
    "conv1d.stride": (2, lambda lib, x, v: _f(lib).conv1d(x, lib.tensor(W1), stride=v)),
    "conv1d.padding": (1, lambda lib, x, v: _f(lib).conv1d(x, lib.tensor(W1), padding=v)),
    "conv1d.dilation": (2, lambda lib, x, v: _f(lib).conv1d(x, lib.tensor(W1), dilation=v)),
    "conv1d.groups": (2, lambda lib, x, v: _f(lib).conv1d(x, lib.tensor(W1[:, :2]), groups=v)),
    "conv2d.stride_tuple": (2, lambda lib, x, v: _f(lib).conv2d(x[None, :3], lib.tensor(W2), stride=(v, 1))),
    "max_pool1d.kernel_size": (2, lambda lib, x, v: _f(lib).max_pool1d(x, kernel_size=v)),
    "max_pool1d.stride": (1, lambda lib, x, v: _f(lib).max_pool1d(x, 2, stride=v)),
    "max_pool2d.kernel_size": (2, lambda lib, x, v: _f(lib).max_pool2d(x, v)),
    "avg_pool1d.kernel_size": (3, lambda lib, x, v: _f(lib).avg_pool1d(x, v)),
    "avg_pool2d.kernel_tuple": (2, lambda lib, x, v: _f(lib).avg_pool2d(x, (v, 2))),
    "avg_pool2d.divisor_override": (3, lambda lib, x, v: _f(lib).avg_pool2d(x, 2, divisor_override=v)),
    "MaxPool1d": (3, lambda lib, x, v: lib.nn.MaxPool1d(v)(x)),
    "fold.output_size": (
        4,
        lambda lib, x, v: _f(lib).fold(x[..., :5].reshape(1, 4, 15), output_size=(v, 6), kernel_size=2),
    ),
    "local_response_norm.size": (3, lambda lib, x, v: _f(lib).local_response_norm(x, v)),
    "tensor_split.sections": (2, lambda lib, x, v: x.tensor_split(sections=v, dim=2)[1]),
    "hsplit.sections": (2, lambda lib, x, v: lib.hsplit(x, v)[1]),
    "matrix_power.n": (3, lambda lib, x, v: lib.linalg.matrix_power(x[0, :, :4], n=v)),
    "Tensor.matrix_power": (2, lambda lib, x, v: x[0, :, :4].matrix_power(v)),
    "norm.p": (3, lambda lib, x, v: x.norm(v, dim=1)),
    "mvlgamma.p": (2, lambda lib, x, v: lib.mvlgamma(x.abs() + 2, p=v)),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_int_argument_kinds_as_pytorch(torch, case, kind):
    """Values and the input's gradient (float64) of each site given each kind of int, against PyTorch."""
    k, call = CASES[case]
    got = []
    for lib in (torch, gg):
        x = lib.tensor(A, requires_grad=True)
        out = call(lib, x, KINDS[kind](lib, k))
        weights = lib.tensor(np.random.default_rng(5).normal(size=tuple(out.shape)))
        (out * weights).sum().backward()
        got.append((out.detach().numpy(), x.grad.numpy()))
    (tv, tg), (gv, g_grad) = got
    assert gv.shape == tv.shape
    np.testing.assert_allclose(gv, tv, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_grad, tg, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_nll_loss_ignore_index_kinds_as_pytorch(torch, kind):
    got = []
    for lib in (torch, gg):
        x = lib.tensor(SQ, requires_grad=True)
        loss = _f(lib).nll_loss(x, lib.tensor([0, 1, 2, 1]), ignore_index=KINDS[kind](lib, 1))
        loss.backward()
        got.append((loss.item(), x.grad.numpy()))
    assert got[1][0] == pytest.approx(got[0][0], rel=1e-13)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-13)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_polygamma_order_kinds_read_as_the_int(torch, kind):
    """A 0-d tensor or NumPy n is the int n. (PyTorch's trigamma itself is ~5e-10 off the true
    value here, so glassgrad's int-n result is the reference; PyTorch is asked only to run.)"""
    x = np.abs(SQ) + 1
    torch.polygamma(KINDS[kind](torch, 1), torch.tensor(x))
    for call in (lambda n: gg.polygamma(n, gg.tensor(x)), lambda n: gg.tensor(x).polygamma(n)):
        np.testing.assert_array_equal(call(KINDS[kind](gg, 1)).numpy(), call(1).numpy())


REFUSED = {  # PyTorch refuses these; so does glassgrad (the class is compared)
    "matrix_power.one_element": lambda lib: lib.linalg.matrix_power(lib.tensor(SQ), lib.tensor([2])),
    "matrix_power.bool": lambda lib: lib.linalg.matrix_power(lib.tensor(SQ), True),
    "matrix_power.float": lambda lib: lib.linalg.matrix_power(lib.tensor(SQ), 2.0),
    "local_response_norm.float_tensor": lambda lib: _f(lib).local_response_norm(
        lib.tensor(A), lib.tensor(2.0)
    ),
    "polygamma.bool": lambda lib: lib.polygamma(True, lib.tensor(SQ)),
    "polygamma.one_element": lambda lib: lib.polygamma(lib.tensor([1]), lib.tensor(SQ)),
    "mvlgamma.one_element": lambda lib: lib.mvlgamma(lib.tensor(SQ).abs() + 2, p=lib.tensor([2])),
    "polygamma.float_tensor": lambda lib: lib.polygamma(lib.tensor(1.0), lib.tensor(SQ)),
    "mvlgamma.float": lambda lib: lib.mvlgamma(lib.tensor(SQ).abs() + 2, p=2.0),
    "tensor_split.float_sections": lambda lib: lib.tensor(A).tensor_split(sections=2.0),
    "nll_loss.float_ignore_index": lambda lib: _f(lib).nll_loss(
        lib.tensor(SQ), lib.tensor([0, 1, 2, 1]), ignore_index=lib.tensor(1.0)
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_non_int_arguments_refused_as_pytorch(torch, case):
    with pytest.raises(Exception) as theirs:
        REFUSED[case](torch)
    with pytest.raises(Exception) as ours:
        REFUSED[case](gg)
    assert isinstance(ours.value, type(theirs.value)), (theirs.value, ours.value)


@pytest.mark.parametrize("value", [2.5, True, "2", (2.0, 1)])
def test_conv_tuple_arguments_refuse_non_ints(value):
    """glassgrad's own check: a float, a bool or a str is no size (PyTorch: TypeError or RuntimeError)."""
    with pytest.raises(gg.errors.ShapeError, match="stride"):
        gg.nn.functional.conv1d(gg.tensor(A), gg.tensor(W1), stride=value)


NUMBERS = {  # number parameters PyTorch's parser reads from a 0-d tensor (its Scalar/float): name -> (v, call)
    "norm.p_float": (3.0, lambda lib, x, v: lib.norm(x, v)),
    "vector_norm.ord": (3, lambda lib, x, v: lib.linalg.vector_norm(x, ord=v, dim=2)),
    "cdist.p": (1, lambda lib, x, v: lib.cdist(x[0], x[1] + 1, p=v)),
    "pdist.p": (3, lambda lib, x, v: _f(lib).pdist(x[0], p=v)),
    "embedding.max_norm": (
        1.5,
        lambda lib, x, v: _f(lib).embedding(lib.tensor([0, 2]), x[0] * 1, max_norm=v),
    ),
}


@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_zero_dim_tensor_numbers_as_pytorch(torch, case):
    v, call = NUMBERS[case]
    got = []
    for lib in (torch, gg):
        x = lib.tensor(A, requires_grad=True)
        out = call(lib, x, lib.tensor(v))
        out.sum().backward()
        got.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-12, atol=1e-14)


def test_logspace_zero_dim_tensor_base_as_pytorch(torch):
    ours = gg.logspace(0, 1, 5, base=gg.tensor(2.0), dtype=gg.float64).numpy()
    theirs = torch.logspace(0, 1, 5, base=torch.tensor(2.0), dtype=torch.float64).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
