"""Round 58, Tensor attributes (a differential hunt against PyTorch).

- ``T``/``mT``/``H``/``mH`` on a 0-d tensor are the identity (``H``/``mH`` the conjugate) with a
  once-per-process deprecation warning, ``T`` on other than 2 dims warns once; ``mT``/``mH`` of a
  1-d tensor raise PyTorch's message. glassgrad raised for ``mT``/``H``/``mH`` of a 0-d tensor.
- ``p.data = x`` takes a tensor only (an ndarray or number is a TypeError) and, while ``p``
  requires grad, one of a floating or complex dtype; ``del p.data`` is refused. glassgrad
  converted an ndarray or number and took an int tensor under a parameter.
- ``p.grad = g`` refuses a gradient on another device (meta); ``del p.grad`` clears it (glassgrad:
  AttributeError).
- backward adds into an existing ``.grad`` in place (AccumulateGrad's ``grad += new``): a ``.grad``
  that is a view of a flat buffer fills the buffer, views taken of ``.grad`` see the sum, and a
  ``.grad`` of other strides keeps them. glassgrad put the sum in a new array, so the buffer stayed
  zero.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _np(t) -> np.ndarray:
    return np.array(t.detach().tolist())


# ---- T, mT, H, mH ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("attr", ["T", "mT", "H", "mH"])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_transposes_of_a_0d_tensor_are_the_identity_or_the_conjugate(name, attr, dtype, torch):
    lib = _lib(name, torch)
    x = lib.tensor(1.5 + 2j if dtype == "complex128" else 1.5, dtype=getattr(lib, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warns once per process
        y = getattr(x, attr)
    conj = attr in ("H", "mH") and dtype == "complex128"
    assert y.shape == () and complex(y.item()) == (
        complex(x.item()).conjugate() if conj else complex(x.item())
    )
    if not conj and attr != "T":
        assert y is x  # PyTorch hands back the tensor itself (T: a view of it)
    if attr == "T":
        assert y._base is x and type(y.grad_fn).__name__ == "PermuteBackward0"


@pytest.mark.parametrize("attr", ["T", "mT", "H", "mH"])
def test_glassgrad_warns_once_on_a_0d_transpose(attr):
    x = gg.tensor(2.0)
    with pytest.warns(UserWarning, match=rf"Tensor\.{attr} is deprecated on 0-D tensors"):
        getattr(x, attr)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(x, attr)  # once per process, as PyTorch's TORCH_WARN_ONCE


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_T_reverses_other_than_2_dims(name, shape, torch):
    lib = _lib(name, torch)
    x = lib.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x.T
    assert tuple(y.shape) == shape[::-1]
    np.testing.assert_array_equal(_np(y), np.arange(np.prod(shape)).reshape(shape).T)
    (y * lib.arange(float(y.numel())).reshape(y.shape)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.arange(float(np.prod(shape))).reshape(shape[::-1]).T)


def test_glassgrad_T_of_3_dims_warns_once():
    with pytest.warns(UserWarning, match=r"The use of `x\.T` on tensors of dimension other than 2"):
        _ = gg.ones(2, 3, 4).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = gg.ones(3).T
        _ = gg.ones(2, 3).T  # a matrix never warns


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("attr", ["mT", "mH"])
def test_batched_transposes_refuse_a_1d_tensor(name, attr, torch):
    lib = _lib(name, torch)
    with pytest.raises(
        RuntimeError, match=rf"tensor\.{attr} is only supported on matrices or batches of matrices\. Got 1-D"
    ):
        getattr(lib.ones(3), attr)


@pytest.mark.parametrize("name", LIBS)
def test_H_of_3_dims_points_to_mH(name, torch):
    lib = _lib(name, torch)
    with pytest.raises(
        RuntimeError, match=r"Got 3-D tensor\. For batches of matrices, consider using tensor\.mH"
    ):
        _ = lib.ones(2, 3, 4).H


@pytest.mark.parametrize("name", LIBS)
def test_mH_and_adjoint_of_a_batch(name, torch):
    lib = _lib(name, torch)
    a = np.arange(12.0).reshape(2, 2, 3) + 1j * np.arange(12.0, 0.0, -1.0).reshape(2, 2, 3)
    x = lib.tensor(a)
    want = np.conj(np.swapaxes(a, -1, -2))
    for y in (x.mH, x.adjoint(), x[0].H):
        np.testing.assert_array_equal(np.array(y.resolve_conj().tolist()), want if y.ndim == 3 else want[0])


# ---- .data -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("value", [np.zeros(3), 0.5, [0.0, 0.0, 0.0]], ids=["ndarray", "float", "list"])
def test_data_takes_a_tensor_only(name, value, torch):
    lib = _lib(name, torch)
    p = lib.ones(3, requires_grad=True)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got"):
        p.data = value
    np.testing.assert_array_equal(_np(p), np.ones(3))


@pytest.mark.parametrize("name", LIBS)
def test_data_of_a_tensor_that_requires_grad_stays_floating(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="data set to a tensor that requires gradients must be floating point or complex"
    ):
        p.data = lib.zeros(3, dtype=lib.int32)
    p.data = lib.zeros(2, dtype=lib.float64)  # another shape and floating dtype: taken
    assert p.dtype == lib.float64 and tuple(p.shape) == (2,) and p.requires_grad and p.is_leaf
    q = lib.ones(3)
    q.data = lib.arange(4)  # no grad required: any dtype
    assert q.dtype == lib.int64 and q.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("name", LIBS)
def test_data_cannot_be_deleted(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(3)
    with pytest.raises(RuntimeError, match="Deleting tensor data is not allowed"):
        del p.data


def test_glassgrad_data_message_names_the_type():
    with pytest.raises(TypeError, match=r"but got numpy\.ndarray"):
        gg.ones(2).data = np.zeros(2)


# ---- .grad -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LIBS)
def test_del_grad_clears_it(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(3, requires_grad=True)
    (p * 2).sum().backward()
    del p.grad
    assert p.grad is None
    (p * 3).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("name", LIBS)
def test_grad_on_another_device_is_refused(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="attempting to assign a gradient with device type 'meta' to a tensor with device type 'cpu'",
    ):
        p.grad = lib.ones(3, device="meta")
    q = lib.ones(3, device="meta", requires_grad=True)
    with pytest.raises(RuntimeError, match="with device type 'cpu' to a tensor with device type 'meta'"):
        q.grad = lib.ones(3)
    assert p.grad is None and q.grad is None


# ---- backward adds into .grad in place ---------------------------------------------------------
def _flat_buffer_program(lib, dtype):
    """Two parameters whose grads are views of one flat buffer; two backward passes; SGD on the
    buffer as one array (the pattern of hand-written flat-gradient all-reduce and optimizers)."""
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.standard_normal((3, 4)), dtype=dtype, requires_grad=True)
    b = lib.tensor(rng.standard_normal(3), dtype=dtype, requires_grad=True)
    x = lib.tensor(rng.standard_normal((5, 4)), dtype=dtype)
    flat = lib.zeros(2 + 12 + 3, dtype=dtype)
    w.grad, b.grad = flat[2:14].view(3, 4), flat[14:]
    seen = []
    for _ in range(2):
        loss = ((x @ w.t() + b).tanh() ** 2).sum()
        loss.backward()
        seen.append(_np(flat))
    with lib.no_grad():
        flat_w = flat[2:14].view(3, 4)
        w.sub_(0.1 * flat_w)
    return seen, _np(w), _np(w.grad), w.grad._base is flat


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_backward_adds_into_a_grad_that_views_a_flat_buffer(dtype, torch):
    ours = _flat_buffer_program(gg, getattr(gg, dtype))
    theirs = _flat_buffer_program(torch, getattr(torch, dtype))
    rtol = 1e-12 if dtype == "float64" else 1e-5  # float32: sums of tanh terms, in another order
    for a, b in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
        assert not a[:2].any() and a[2:].any()
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, atol=0)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=rtol, atol=0)
    assert ours[3] and theirs[3]


@pytest.mark.parametrize("name", LIBS)
def test_views_of_grad_see_the_next_accumulation(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
    (p * 2).sum().backward()
    g = p.grad
    row, version = g[1], g._version
    (p * 3).sum().backward()
    assert p.grad is g and row.tolist() == [5.0, 5.0, 5.0]
    assert g._version == version + 1  # an in-place change of the .grad


@pytest.mark.parametrize("name", LIBS)
def test_a_grad_of_other_strides_keeps_them(name, torch):
    lib = _lib(name, torch)
    p = lib.ones(2, 3, requires_grad=True)
    g = lib.zeros(3, 2).t()
    p.grad = g
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch: "grad and param do not obey the gradient layout contract"
        (p * lib.arange(6.0).view(2, 3)).sum().backward()
    assert p.grad is g and tuple(g.stride()) == (1, 2)
    assert g.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# ---- dtype.to_complex / to_real ----------------------------------------------------------------
DTYPES = [
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex32",
    "complex64",
    "complex128",
    "int64",
    "bool",
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_to_complex_and_to_real(dtype, torch):
    ours, theirs = getattr(gg, dtype), getattr(torch, dtype)
    assert str(ours.to_real()).split(".")[-1] == str(theirs.to_real()).split(".")[-1]
    try:
        want = str(theirs.to_complex()).split(".")[-1]
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e)):
            ours.to_complex()
    else:
        assert str(ours.to_complex()).split(".")[-1] == want


# ---- storage_offset of views of views ----------------------------------------------------------
VIEWS = {
    "diagonal": lambda lib: lib.arange(9.0).view(3, 3).diagonal(1),
    "diagonal_of_slice": lambda lib: lib.arange(20.0).view(4, 5)[1:, 1:].diagonal(-1),
    "unfold": lambda lib: lib.arange(6.0)[2:].unfold(0, 2, 1),
    "unfold_row": lambda lib: lib.arange(12.0).view(3, 4)[1].unfold(0, 3, 1),
    "slice_of_slice": lambda lib: lib.arange(10.0)[2:][3:],
    "select_T": lambda lib: lib.arange(12.0).view(3, 4).t()[2],
    "as_strided": lambda lib: lib.arange(10.0).as_strided((2, 2), (3, 1), 4),
    "expand_of_slice": lambda lib: lib.arange(4.0)[1:2].expand(3),
}


@pytest.mark.parametrize("view", VIEWS)
def test_storage_offset_counts_from_the_owning_memory(view, torch):
    ours, theirs = VIEWS[view](gg), VIEWS[view](torch)
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.tolist() == theirs.tolist() and ours.stride() == theirs.stride()
