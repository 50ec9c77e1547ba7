"""Round 67 (PyTorch's ``test_masked.py`` / ``test_foreach.py``): a bool ``dtype=`` of cumsum and
cumprod is refused as PyTorch's CPU kernel refuses it (NumPy would give a running OR); the masked
ops that fill in an order bound refuse a complex input with PyTorch's TypeError; an integer ``pow``
of unbroadcastable tensors raises PyTorch's size mismatch, not NumPy's ValueError."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["bool", "int64"])
def test_scan_with_bool_dtype_is_refused_where_pytorch_refuses(torch, name, dtype):
    data = [True, False, True] if dtype == "bool" else [1, 0, 2]
    with pytest.raises(NotImplementedError, match=f"{name}_out_cpu"):
        getattr(torch, name)(torch.tensor(data, dtype=getattr(torch, dtype)), 0, dtype=torch.bool)
    x = gg.tensor(data, dtype=getattr(gg, dtype))
    with pytest.raises(NotImplementedError, match=f"{name}_out_cpu"):
        getattr(gg, name)(x, 0, dtype=gg.bool)
    with pytest.raises(NotImplementedError, match=f"{name}_out_cpu"):
        getattr(x, name)(0, dtype=gg.bool)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 0)])
def test_scan_with_bool_dtype_of_0d_or_empty_input_runs_as_pytorch(torch, name, shape):
    want = getattr(torch, name)(torch.ones(shape, dtype=torch.bool), -1, dtype=torch.bool)
    got = getattr(gg, name)(gg.ones(shape, dtype=gg.bool), -1, dtype=gg.bool)
    assert got.dtype == gg.bool and tuple(got.shape) == tuple(want.shape)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_masked_scan_of_bool_input_is_refused_as_pytorch(torch, name):
    data, mask = [True, False, True], [True, True, False]
    with pytest.raises(NotImplementedError):
        getattr(torch.masked, name)(torch.tensor(data), 0, mask=torch.tensor(mask))
    with pytest.raises(NotImplementedError):
        getattr(gg.masked, name)(gg.tensor(data), 0, mask=gg.tensor(mask))


@pytest.mark.parametrize("name", ["amax", "amin", "argmax", "argmin", "softmax", "log_softmax", "softmin"])
def test_masked_order_ops_refuse_complex_input_with_pytorch_type_error(torch, name):
    values, mask = [1 + 1j, 2 - 1j, 0.5j], [True, False, True]
    with pytest.raises(TypeError):
        getattr(torch.masked, name)(torch.tensor(values), 0, mask=torch.tensor(mask))
    with pytest.raises(TypeError):
        getattr(gg.masked, name)(gg.tensor(values), 0, mask=gg.tensor(mask))


def test_masked_logaddexp_refuses_complex_input_with_pytorch_type_error(torch):
    def run(lib):
        a = lib.tensor([1 + 1j, 2 - 1j])
        return lib.masked.logaddexp(
            a, a, input_mask=lib.tensor([True, False]), other_mask=lib.tensor([True, True])
        )

    with pytest.raises(TypeError):
        run(torch)
    with pytest.raises(TypeError):
        run(gg)


def test_masked_logsumexp_of_complex_input_still_runs_as_pytorch(torch):
    def run(lib):
        x = lib.tensor([1 + 1j, 2 - 1j, 0.5j], dtype=lib.complex128)
        return lib.masked.logsumexp(x, 0, mask=lib.tensor([True, False, True])).item()

    assert run(gg) == pytest.approx(run(torch), rel=1e-12)


def test_integer_pow_of_unbroadcastable_tensors_raises_size_mismatch(torch):
    with pytest.raises(RuntimeError, match="must match the size"):
        torch.pow(torch.ones(2, 3, dtype=torch.int64), torch.ones(4, 5, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="must match the size"):
        gg.pow(gg.ones(2, 3, dtype=gg.int64), gg.ones(4, 5, dtype=gg.int64))
    with pytest.raises(RuntimeError, match="must match the size"):
        gg._foreach_pow([gg.ones(2, 3, dtype=gg.int64)], [gg.ones(4, 5, dtype=gg.int64)])


def test_integer_pow_still_broadcasts(torch):
    want = torch.pow(torch.tensor([2, 3]), torch.tensor([[1], [2]])).tolist()
    assert gg.pow(gg.tensor([2, 3]), gg.tensor([[1], [2]])).tolist() == want


def test_cumprod_of_complex_with_real_dtype_has_the_real_cast_gradient():
    """Kept difference (docs/design.md): the gradient of cumprod(z, dtype=float64) is that of
    cumprod(z.real), checked by central differences; PyTorch's feeds the complex z to its rule."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    cot = rng.standard_normal(4)
    x = gg.tensor(z, requires_grad=True)
    gg.cumprod(x, 0, dtype=gg.float64).backward(gg.tensor(cot))

    def loss(v):
        return float((cot * np.cumprod(v.real)).sum())

    eps, eye = 1e-6, np.eye(4)
    fd = [(loss(z + eps * eye[i]) - loss(z - eps * eye[i])) / (2 * eps) for i in range(4)]
    np.testing.assert_allclose(x.grad.numpy().real, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x.grad.numpy().imag, 0.0)
