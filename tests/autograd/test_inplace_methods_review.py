"""Review of the in-place methods of the porting round (``sin_`` ... ``greater_equal_``,
``unsqueeze_``/``t_``/``transpose_``, ``torch.sin_(x)``) and of PyTorch's deprecated number-first
overloads (``add_(-lr, g)``, ``addcmul(x, v, a, b)``), against PyTorch: every case either gives
PyTorch's values and gradients, or raises where PyTorch raises (or where a wrong gradient could
follow), never a different answer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad import torch_more
from glassgrad.methods import _SAME_SHAPE_INPLACE
from glassgrad.ops import composite

X = np.array([[0.15, 0.4, 0.62], [0.33, 0.81, 0.27], [0.58, 0.12, 0.49]])
W = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5], [-0.75, 2.0, 1.25]])
OTHER = np.array([[0.3, 0.4, 0.2], [0.5, 0.81, 0.1], [0.6, 0.7, 0.49]])
ARGS = {"tril": (1,), "triu": (-1,), "logit": (0.05,), "cumsum": (1,)}
TENSOR_ARG = {"atan2", "arctan2", "remainder", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge", "not_equal",
              "less", "less_equal", "greater", "greater_equal"}  # fmt: skip


def _args(lib, name, scale=1.0, dtype=None):
    if name in TENSOR_ARG:
        return (lib.tensor(OTHER * scale, dtype=dtype or lib.float64),)
    return ARGS.get(name, ())


def _run(lib, fn):
    """``("ok", values)`` or ``("raised", None)``, so that the two libraries can be compared."""
    try:
        return "ok", fn(lib)
    except (RuntimeError, TypeError, ValueError, AttributeError) as e:
        if isinstance(e, AttributeError):  # a missing method is a bug, not PyTorch's refusal
            raise
        return "raised", None


def _nonleaf(name):
    def script(lib):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = x * 1.5 + 0.05
        getattr(y, f"{name}_")(*_args(lib, name))
        (y * lib.tensor(W, dtype=lib.float64)).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    return script


@pytest.mark.parametrize("name", _SAME_SHAPE_INPLACE)
def test_inplace_method_on_a_tensor_in_the_graph_gives_pytorchs_gradient_or_raises(torch, name):
    (tk, tv), (gk, gv) = _run(torch, _nonleaf(name)), _run(glassgrad, _nonleaf(name))
    if gk == "ok":  # glassgrad may refuse (eq_ leaves no gradient); a result must be PyTorch's
        assert tk == "ok", name
        for a, b in zip(gv, tv):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", _SAME_SHAPE_INPLACE)
def test_inplace_method_on_a_leaf_that_requires_grad_raises_and_runs_under_no_grad(torch, name):
    for lib in (glassgrad, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError):
            getattr(x, f"{name}_")(*_args(lib, name))
    x, t = glassgrad.tensor(X, dtype=glassgrad.float64), torch.tensor(X, dtype=torch.float64)
    with glassgrad.no_grad():
        getattr(x, f"{name}_")(*_args(glassgrad, name))
    getattr(t, f"{name}_")(*_args(torch, name))
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12, err_msg=name)
    assert x._version == t._version == 1


@pytest.mark.parametrize("name", _SAME_SHAPE_INPLACE)
def test_inplace_method_on_an_integer_tensor_keeps_its_dtype_or_raises_as_pytorch(torch, name):
    def script(lib):
        a = lib.tensor((X * 10).astype(np.int64))
        args = tuple(
            lib.tensor(OTHER * 10).long() if isinstance(v, lib.Tensor) else v for v in _args(lib, name)
        )
        return getattr(a, f"{name}_")(*args).numpy()

    (tk, tv), (gk, gv) = _run(torch, script), _run(glassgrad, script)
    assert tk == gk, name
    if gk == "ok":
        assert gv.dtype == tv.dtype == np.int64 and (gv == tv).all(), name


def test_the_numpy_spellings_exist_as_methods_in_place_and_as_inplace_functions(torch):
    """``x.arcsin_()`` ... ``x.greater_equal_(y)`` called out-of-place methods glassgrad lacked."""
    for name in ("arcsin", "arccos", "arctan", "not_equal", "less", "less_equal", "greater", "greater_equal"):
        out = []
        for lib in (glassgrad, torch):
            x = lib.tensor(X[0], dtype=lib.float64)
            args = (lib.tensor(OTHER[0], dtype=lib.float64),) if name in TENSOR_ARG else ()
            out.append([getattr(x, name)(*args), getattr(x.clone(), f"{name}_")(*args)])
        for a, b in zip(*out):
            np.testing.assert_allclose(a.numpy().astype(float), b.numpy().astype(float), err_msg=name)
    for lib in (glassgrad, torch):
        x = lib.tensor(X[0])
        assert lib.arcsin_(x) is x and lib.arctan_(x) is x


def test_every_top_level_inplace_function_exists_in_pytorch(torch):
    for name in torch_more._INPLACE:
        assert hasattr(torch, name) and hasattr(glassgrad.Tensor, name), name


# ---- the in-place shape methods -----------------------------------------------------------


def test_inplace_shape_methods_bump_the_version_shared_with_views(torch):
    out = []
    for lib in (glassgrad, torch):
        x = lib.tensor(X)
        v, d = x[1], x.detach()
        x.unsqueeze_(0).transpose_(1, 2).squeeze_(0).t_()
        out.append([x._version, v._version, d._version])
        v[0] = 50.0  # the view still sees x's memory
        out.append(x.numpy().tolist())
    assert out[0] == out[2] == [4, 4, 4] and out[1] == out[3]


def test_shape_change_of_a_tensor_saved_for_backward_raises_at_backward(torch):
    """Before the fix glassgrad computed here; PyTorch's version check raises (exp saves its output)."""
    for lib in (glassgrad, torch):
        x = lib.tensor(X, requires_grad=True)
        y = x.exp()
        y.t_()
        with pytest.raises(RuntimeError, match="modified"):
            y.sum().backward()
        x = lib.tensor(X, requires_grad=True)
        y = x * 2
        z = y * y
        y.unsqueeze_(0)
        with pytest.raises(RuntimeError, match="modified"):
            z.sum().backward()


def script_shapes_in_the_graph(torch):
    x = torch.tensor(X, requires_grad=True)
    y = x * 2
    v = y[:, 1:]  # a view of a non-leaf: PyTorch rebases nothing for a shape change
    v.t_()
    v.unsqueeze_(0)
    y.swapaxes_(0, 1)
    loss = (v * torch.tensor(X[:, 1:].T[None])).sum() + (y * torch.tensor(W)).sum()
    loss.backward()
    return [y, v, x.grad, y.shape, v.shape, y.is_leaf, y.requires_grad]


def test_shape_methods_on_views_and_bases_in_the_graph_give_pytorchs_gradient(torch):
    out_g, out_t = script_shapes_in_the_graph(glassgrad), script_shapes_in_the_graph(torch)
    for a, b in zip(out_g, out_t):
        if hasattr(a, "numpy"):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
        else:
            assert tuple(a) == tuple(b) if isinstance(a, tuple) else a == b


def test_retain_grad_stays_with_the_version_before_a_shape_change(torch):
    """PyTorch's ``y.grad`` after ``y.retain_grad(); y.t_()`` is the gradient of y before ``t_``."""
    grads = []
    for lib in (glassgrad, torch):
        x = lib.tensor(X[:2], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.t_()
        (y * lib.tensor(W[:, :2])).sum().backward()
        grads.append(y.grad.numpy())
    assert grads[0].shape == grads[1].shape == (2, 3)
    np.testing.assert_allclose(grads[0], grads[1])


def test_swapaxes_and_swapdims_take_pytorchs_keywords(torch):
    for lib in (glassgrad, torch):
        x = lib.tensor(X[:2])
        assert tuple(x.swapdims(dim0=0, dim1=1).shape) == (3, 2)
        assert tuple(x.swapaxes_(axis0=0, axis1=1).shape) == (3, 2)
        assert tuple(x.swapdims_(dim0=1, dim1=0).shape) == (2, 3)


def test_shape_change_on_a_leaf_and_its_views_under_no_grad(torch):
    out = []
    for lib in (glassgrad, torch):
        w = lib.tensor(X, requires_grad=True)
        v = w[0]
        with pytest.raises(RuntimeError):
            w.t_()
        with lib.no_grad():
            w.t_()
        (w * lib.tensor(W)).sum().backward()
        out.append(
            [w.is_leaf, w.grad_fn is None, w._version, w.grad.numpy().tolist(), v.detach().numpy().tolist()]
        )
    assert out[0] == out[1]


# ---- PyTorch's deprecated number-first overloads ------------------------------------------


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn()


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x, a, b: L.add(x, 2, a, alpha=3),  # the number twice: first and as alpha=
        lambda L, x, a, b: L.sub(x, 2, a, alpha=3),
        lambda L, x, a, b: L.addcmul(x, 2, a, b, value=3),
        lambda L, x, a, b: x.addcmul_(2, a, b, value=3),
        lambda L, x, a, b: x.add(2, alpha=a),  # a tensor for alpha
        lambda L, x, a, b: x.add_(2, alpha=a),
        lambda L, x, a, b: x.sub(2, alpha=a),
        lambda L, x, a, b: x.add(a, 2),  # alpha is keyword-only in PyTorch
        lambda L, x, a, b: x.add_(a, 2),
        lambda L, x, a, b: x.subtract(2, a),  # subtract has no deprecated form
        lambda L, x, a, b: x.add(a, alpha=L.tensor(2.0, requires_grad=True)),
    ],
)
def test_misplaced_numbers_raise_as_in_pytorch(torch, call):
    """Before the fix glassgrad computed each of these (an ignored alpha=, a swapped tensor alpha)."""
    for lib in (glassgrad, torch):
        x, a, b = (lib.tensor([1.0, 2.0, 3.0]) for _ in range(3))
        with pytest.raises(TypeError):
            _quiet(lambda: call(lib, x, a, b))


def script_number_first(torch):
    x, a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 3.0, 4.0]), torch.tensor([5.0, 6.0, 7.0])
    two = torch.tensor(2.0)  # a 0-d tensor without grad passes for a number, as PyTorch's parser
    return [x.clone().add_(two, a), torch.add(x, two, a), x.add(a, alpha=two), x.addcmul(a, b, value=two),
            x.clone().add_(-0.5, a), x.clone().sub_(2, a), x.add(2, 3), torch.add(x, 2, 3), x.add_(a, alpha=2),
            torch.addcdiv(x, 0.5, a, b), x.clone().addcmul_(2, a, b), torch.add(x, a, alpha=2)]  # fmt: skip


def test_number_first_values_match_pytorch(torch):
    for a, b in zip(
        _quiet(lambda: script_number_first(glassgrad)), _quiet(lambda: script_number_first(torch))
    ):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_number_first_warns_with_pytorchs_category():
    x = glassgrad.ones(3)
    for call in (lambda: x.add_(-0.5, x.clone()), lambda: glassgrad.addcmul(x, 0.5, x, x)):
        composite._number_first_warned[0] = False  # PyTorch warns once per process
        with pytest.warns(UserWarning, match="This overload of add.* is deprecated"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.add_(x.clone(), alpha=2)  # the current form does not warn
        glassgrad.addcmul(x, x, x, value=0.5)


@pytest.mark.parametrize(
    "name",
    ["arcsin", "arccos", "arctan", "not_equal", "less", "less_equal", "greater", "greater_equal"],
)
def test_top_level_spellings_of_the_aliases_match_torch(torch, name):
    args = (X,) if name.startswith("arc") else (X, OTHER)
    ours = getattr(glassgrad, name)(*(glassgrad.tensor(a) for a in args))
    theirs = getattr(torch, name)(*(torch.tensor(a) for a in args))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_a_leaf_reshaped_after_recording_raises_at_backward_instead_of_broadcasting():
    # was: the gradient of the old shape was added into .grad by broadcasting, silently
    x = glassgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * 3).sum()
    with glassgrad.no_grad():
        x.unsqueeze_(0)
    with pytest.raises(glassgrad.errors.GraphError, match=r"leaf's shape \(1, 3\), got \(3,\)"):
        y.backward()
    z = glassgrad.tensor([1.0, 2.0], requires_grad=True)
    w = (z * 2).sum()
    z.data = glassgrad.ones(2, 2)
    with pytest.raises(glassgrad.errors.GraphError, match="shape changed after the graph was recorded"):
        w.backward()
