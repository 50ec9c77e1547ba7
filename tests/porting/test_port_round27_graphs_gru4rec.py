"""Round 27, session recommenders: hidasib/GRU4Rec_PyTorch_Official, distilled.

GRU4Rec initialises its matrices with the private ``nn.init._no_grad_uniform_`` and, in its
compatibility mode, replaces every parameter's values under ``no_grad`` with
``p.set_(torch.tensor(numpy_array))``. Each test runs the same code on glassgrad and on PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_no_grad_init_helpers(torch):
    for lib in (torch, gg):
        w = lib.nn.Parameter(lib.empty(30, 20))
        sigma = np.sqrt(6.0 / (30 + 20))
        out = lib.nn.init._no_grad_uniform_(w, -sigma, sigma)  # GRU4Rec's init_parameter_matrix
        assert out is w and w.grad_fn is None and w.requires_grad
        assert float(w.abs().max()) <= sigma and float(w.std()) > sigma / 3
        lib.nn.init._no_grad_normal_(w, 2.0, 0.01)
        assert abs(float(w.mean()) - 2.0) < 0.01
        lib.nn.init._no_grad_trunc_normal_(w, 0.0, 1.0, -0.5, 0.5)
        assert float(w.abs().max()) <= 0.5
        lib.nn.init._no_grad_fill_(w, 3.0)
        assert float(w.min()) == float(w.max()) == 3.0
        lib.nn.init._no_grad_zero_(w)
        assert float(w.abs().max()) == 0.0


def test_compatibility_mode_reset_with_set_(torch):
    rng = np.random.default_rng(0)
    m_ih = rng.random((48, 16)).astype(np.float32)
    res = {}
    for lib in (torch, gg):
        cell = lib.nn.GRUCell(16, 16)
        with lib.no_grad():  # GRU4Rec's _reset_weights_to_compatibility_mode
            r = cell.weight_ih.set_(lib.tensor(m_ih))
            cell.bias_ih.set_(lib.zeros((48,)))
            cell.bias_hh.set_(lib.zeros((48,)))
            cell.weight_hh.set_(lib.tensor(m_ih.copy()))
        assert r is cell.weight_ih and isinstance(r, lib.nn.Parameter) and r.requires_grad and r.is_leaf
        x = lib.tensor(rng.random((3, 16)).astype(np.float32))
        h = cell(x, lib.zeros(3, 16))
        h.sum().backward()
        res[lib] = (h.detach(), cell.weight_ih.grad)
        rng = np.random.default_rng(0)
        rng.random((48, 16))
    for t, m in zip(res[torch], res[gg]):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


def test_set_semantics(torch):
    for lib in (torch, gg):
        x, y = lib.ones(3), lib.zeros(5)
        v = y._version
        assert y.set_(x) is y and tuple(y.shape) == (3,)
        assert y._version == v + 1
        y.add_(1)  # the memory is shared: x sees the write
        assert x.tolist() == [2.0, 2.0, 2.0] and x._version == 0
        e = lib.zeros(3)
        e.set_()
        assert tuple(e.shape) == (0,) and e.dtype == lib.float32
    with pytest.raises(RuntimeError, match="Could not set tensor of type"):
        gg.zeros(3).set_(gg.zeros(3, dtype=gg.float64))
    with pytest.raises(RuntimeError, match="Could not set tensor of type"):
        torch.zeros(3).set_(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="set_"):
        gg.zeros(3).set_([1, 2])
    p = gg.nn.Parameter(gg.zeros(2))
    with pytest.raises(Exception, match="requires grad"):
        p.set_(gg.ones(2))  # outside no_grad: refused, as PyTorch's leaf in-place error
    with pytest.raises(RuntimeError, match="requires grad"):
        torch.nn.Parameter(torch.zeros(2)).set_(torch.ones(2))


def test_set_from_a_source_in_the_graph_raises_at_backward_and_refuses_another_device():
    x = gg.ones(3, requires_grad=True)
    y, z = x * 2, gg.zeros(3)
    z.set_(y)  # PyTorch records a node whose backward raises: never a silently lost gradient
    assert z.requires_grad and type(z.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="set_: the derivative for set_ is not implemented"):
        ((z * 3).sum() + x.sum()).backward()
    z = gg.zeros(3)
    with gg.no_grad():
        z.set_(y)
    np.testing.assert_array_equal(z.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="set_: expected a source on the tensor's device"):
        gg.zeros(3).set_(gg.zeros(5, device="meta"))
