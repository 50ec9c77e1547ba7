"""What the second round of ported tutorials needed (docs/porting.md, "Real scripts ported"):
``torch.Generator(device=...)`` for ``random_split``; the in-place shape methods
(``target.unsqueeze_(-1)``, ``squeeze_``, ``t_``, ``transpose_``) and the rest of PyTorch's
in-place math, as methods and as ``torch.sin_(x)``; the deprecated scalar-first overloads of
2017-era scripts (``p.data.add_(-lr, p.grad.data)``, ``addcmul_(1 - beta, g, g)``); and
``torch.svd`` / ``torch.linalg.svd`` with their gradients. Each script runs on glassgrad and on
PyTorch, written the way the tutorials write it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.ops import composite

from .helpers import assert_same

A = np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5
M = np.array([[2.0, 0.5, -1.0], [0.3, -1.5, 0.2], [1.0, 0.4, 3.0], [-0.7, 1.1, 0.6]])


def script_generator_device(torch):
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    data = torch.utils.data.TensorDataset(torch.arange(20))
    g = torch.Generator(device=device).manual_seed(1)
    train, test = torch.utils.data.random_split(data, [0.8, 0.2], generator=g)
    return [len(train), len(test), str(g.device), str(torch.Generator("cpu").device), g.initial_seed()]


def test_generator_device_port(torch):
    assert_same(script_generator_device(glassgrad), script_generator_device(torch))


def test_generator_on_another_device_is_refused():
    with pytest.raises(RuntimeError, match="Generator: glassgrad computes on the CPU only"):
        glassgrad.Generator(device="cuda")


def script_inplace_shapes_recorded(torch):
    target = torch.tensor([3, 1, 2])
    target.unsqueeze_(-1)
    x = torch.tensor(A)
    out = [target.shape, target[0], x.t_().shape, x.clone(), x.transpose_(0, 1).shape]
    out += [x.unsqueeze_(0).shape, x.squeeze_().shape, torch.ones(1, 3, 1).squeeze_(0).shape]
    w = torch.tensor(A, requires_grad=True)
    h = w * 2
    h.unsqueeze_(0)
    h.transpose_(1, 2)  # (1, 3, 2)
    (h * torch.arange(6.0).reshape(1, 3, 2)).sum().backward()
    return out + [h, h.shape, w.grad]


def test_inplace_shapes_recorded_port(torch):
    assert_same(script_inplace_shapes_recorded(glassgrad), script_inplace_shapes_recorded(torch))


def test_inplace_shape_of_a_leaf_that_requires_grad_is_refused(torch):
    for lib in (glassgrad, torch):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError):
            w.unsqueeze_(0)
        with lib.no_grad():  # allowed outside recording, as PyTorch
            w.unsqueeze_(0)
        assert tuple(w.shape) == (1, 3)


def script_inplace_math(torch):
    x = torch.tensor(A)
    out = [x.clone().sin_(), x.clone().cos_(), (x + 2).reciprocal_(), x.clone().log1p_(), x.clone().tril_(),
           x.clone().triu_(1), x.clone().cumsum_(1), x.clone().eq_(0.25), x.clone().lt_(0.0), x.clone().sign_(),
           x.clone().nan_to_num_(), x.clone().remainder_(0.3)]  # fmt: skip
    y = x.clone()
    out += [torch.sin_(y), y, torch.relu_(x.clone()), torch.zero_(x.clone()), torch.exp_(x.clone())]
    return out


def test_inplace_math_port(torch):
    assert_same(script_inplace_math(glassgrad), script_inplace_math(torch))


def script_scalar_first_overloads(torch):
    """2017-era update rules: ``p.data.add_(-lr, p.grad.data)`` and Adam written by hand."""
    p = torch.tensor(A, requires_grad=True)
    (p * p).sum().backward()
    p.data.add_(-0.1, p.grad.data)
    m, v = torch.zeros(2, 3), torch.zeros(2, 3)
    m.mul_(0.9).add_(1 - 0.9, p.grad)
    v.mul_(0.999).addcmul_(1 - 0.999, p.grad, p.grad)
    step = torch.zeros(2, 3).addcdiv_(-0.01, m, v.sqrt().add_(1e-8))
    q = torch.tensor(A)
    return [p, m, v, step, q.sub_(2, torch.ones(2, 3)), torch.add(q, 2, torch.ones(2, 3)), q.add(0.5, q),
            torch.addcmul(q, 0.5, q, q)]  # fmt: skip


def test_scalar_first_overloads_port(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # both libraries warn that the form is deprecated
        assert_same(script_scalar_first_overloads(glassgrad), script_scalar_first_overloads(torch))


def test_scalar_first_overload_warns_and_checks_the_number():
    p = glassgrad.ones(3)
    composite._number_first_warned[0] = False  # PyTorch warns once per process
    with pytest.warns(UserWarning, match="This overload of add_ is deprecated"):
        p.add_(-0.5, glassgrad.ones(3))
    with pytest.raises(TypeError, match="add_: expected a number before the tensors"):
        p.add_(glassgrad.ones(3), glassgrad.ones(3))
    with pytest.raises(TypeError, match="addcmul: expected at most 4 positional arguments"):
        glassgrad.addcmul(p, 0.5, p, p, p)


def script_svd(torch):
    """The factors are unique up to each vector's sign, so the script looks at what is not."""
    x = torch.tensor(M, requires_grad=True)
    u, s, v = torch.svd(x)
    U, S, Vh = torch.linalg.svd(x)
    _, s_none, v_none = torch.svd(x, compute_uv=False)
    loss = (u @ u.mT).sum() + s.pow(3).sum() + (v.abs() * torch.arange(3.0)).sum() + (Vh.mT @ Vh)[0, 1]
    loss.backward()
    m3 = torch.matmul(torch.tensor([[0.5, 0.2], [0.1, 0.9]]), torch.tensor([[3.0, 0.0], [0.0, 3.0]]))
    uu, ss, vv = torch.svd(m3)
    return [u.shape, s, v.shape, U.shape, Vh.shape, (U[:, :3] * S) @ Vh, u @ torch.diag(s) @ v.mT, x.grad,
            torch.linalg.svdvals(x), s_none, v_none, torch.linalg.svd(x, full_matrices=False).U.abs(),
            uu @ torch.diag(ss) @ vv.t()]  # fmt: skip


def test_svd_port(torch):
    assert_same(script_svd(glassgrad), script_svd(torch), rtol=1e-6, atol=1e-8)


def script_char_rnn_generation_step(torch):
    """One training step of char_rnn_generation, from fixed weights: per-step losses summed into
    ``loss = 0``, ``target.unsqueeze_(-1)``, the manual ``p.data.add_(-lr, p.grad.data)`` update."""
    rng = np.random.default_rng(0)
    w_ih, w_ho = (
        torch.tensor(rng.normal(0, 0.3, s).astype(np.float32), requires_grad=True) for s in ((7, 5), (5, 4))
    )
    inputs = torch.tensor(rng.normal(0, 1, (3, 1, 7)).astype(np.float32))
    target = torch.LongTensor([2, 0, 3])
    target.unsqueeze_(-1)
    criterion = torch.nn.NLLLoss()
    loss, hidden = 0, torch.zeros(1, 5)
    for i in range(inputs.size(0)):
        hidden = torch.tanh(inputs[i] @ w_ih + hidden)
        output = torch.nn.functional.log_softmax(hidden @ w_ho, dim=1)
        loss += criterion(output, target[i])
    loss.backward()
    for p in (w_ih, w_ho):
        p.data.add_(-0.05, p.grad.data)
    return [loss.item() / inputs.size(0), w_ih, w_ho]


def test_char_rnn_generation_step_port(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(script_char_rnn_generation_step(glassgrad), script_char_rnn_generation_step(torch))
