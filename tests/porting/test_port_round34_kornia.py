"""Round 34, group kornia: what kornia (filters, color, geometry, losses, enhance, morphology,
feature, augmentation) needed under the import change.

kornia annotates with ``torch.torch.Tensor`` (PyTorch's module holds itself as ``torch.torch``),
``kornia.enhance.normalize`` asks ``torch.onnx.is_in_onnx_export()`` after a bare ``import torch``,
and ``adjust_gamma``/``adjust_contrast`` check their factors with ``torch._assert_async``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_torch_torch_is_the_module_itself(torch):
    assert torch.torch is torch
    assert gg.torch is gg
    assert gg.torch.Tensor is gg.Tensor


def test_onnx_reachable_after_a_bare_import(torch):
    assert torch.onnx.is_in_onnx_export() is False
    assert gg.onnx.is_in_onnx_export() is False


def _normalize(lib, x, mean, std):
    """kornia.enhance.normalize's path: (x - mean) / std, broadcast on the channels."""
    if lib.onnx.is_in_onnx_export():
        raise AssertionError("not exporting")
    return (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def test_normalize_as_kornia_calls_it(torch):
    x = np.random.default_rng(0).random((2, 3, 4, 4))
    mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.3, 0.25])
    want = _normalize(torch, torch.tensor(x), torch.tensor(mean), torch.tensor(std)).numpy()
    got = _normalize(gg, gg.tensor(x), gg.tensor(mean), gg.tensor(std)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15)


def _adjust_gamma(lib, x, gamma):
    """kornia.enhance.adjust_gamma's check, then its formula."""
    g = lib.as_tensor(gamma, dtype=x.dtype)
    lib._assert_async((g >= 0).all(), "gamma must be non-negative")
    return x.pow(g)


def test_assert_async_passes_and_refuses_like_torch(torch):
    x = np.random.default_rng(1).random((1, 3, 2, 2)) + 0.1
    np.testing.assert_allclose(
        _adjust_gamma(gg, gg.tensor(x), 1.5).numpy(), _adjust_gamma(torch, torch.tensor(x), 1.5).numpy()
    )
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="gamma must be non-negative"):
            _adjust_gamma(lib, lib.tensor(x), -1.0)
        lib._assert_async(lib.tensor(2.0))  # nonzero: passes
        lib._assert_async(lib.tensor(float("nan")))  # NaN is nonzero
        with pytest.raises(RuntimeError):
            lib._assert_async(lib.tensor(0.0))  # zero without a message
        with pytest.raises(RuntimeError):
            lib._assert_async(lib.tensor([1, 1]))  # more than one element
        with pytest.raises(TypeError):
            lib._assert_async(True)  # not a tensor


def test_assert_async_message_names_the_op():
    with pytest.raises(RuntimeError, match="_assert_async"):
        gg._assert_async(gg.tensor(False))
    with pytest.raises(TypeError, match="_assert_async.*bool"):
        gg._assert_async(False)


def _threshold(lib, x):
    """otsu_threshold's shape: the masked image (differentiable) and a threshold taken through
    ``.item()`` (a constant to autograd, though finite differences see it move with the max)."""
    t = lib.tensor((x.min().item() + x.max().item()) / 2, dtype=x.dtype)
    return (x > t).to(x.dtype) * x, t


@pytest.mark.parametrize("seed", [0, 2])
def test_gradcheck_checks_only_the_outputs_that_require_grad(torch, seed):
    x = np.random.default_rng(seed).random((2, 3))
    for lib in (torch, gg):
        leaf = lib.tensor(x, requires_grad=True)
        assert lib.autograd.gradcheck(lambda v, lib=lib: _threshold(lib, v), (leaf,))
        # no output requires grad: finite differences must then be zero, as PyTorch's
        assert not lib.autograd.gradcheck(lambda v: v.detach() * 3, (leaf,), raise_exception=False)
        assert lib.autograd.gradcheck(lambda v, lib=lib: lib.ones(2, dtype=lib.float64), (leaf,))


def test_gradcheck_still_catches_a_wrong_differentiable_output():
    class Wrong(gg.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            return v * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    leaf = gg.tensor([0.3, 0.7], dtype=gg.float64, requires_grad=True)
    assert not gg.autograd.gradcheck(
        lambda v: (Wrong.apply(v), v.detach().sum()), (leaf,), raise_exception=False
    )


def _seven_point_coeffs(lib, f1, f2):
    """kornia's 7-point fundamental matrix: the cubic's middle coefficients via batched traces."""
    return lib.einsum("bii->b", f2 @ lib.linalg.inv(f1)) * lib.linalg.det(f1), lib.einsum("bii->bi", f1 @ f2)


def test_einsum_repeated_index_takes_the_diagonal(torch):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal((2, 3, 3))
    results = []
    for lib in (torch, gg):
        f1, f2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        trace, diag = _seven_point_coeffs(lib, f1, f2)
        (trace.sum() + (diag**2).sum()).backward()
        results.append([v.detach().numpy() for v in (trace, diag, f1.grad, f2.grad)])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
