"""In-place changes and views: every path that could give a silently wrong gradient must raise at
backward (as PyTorch does) or give PyTorch's gradient. A tensor, its detach() and all its views
share one version counter; arrays an op saved (inputs or its output) are checked against it."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError, ShapeError

# ------------------------------------------------------------------ views share the version counter
VIEWS = {
    "slice": lambda t: t[1:, ::2],
    "int index": lambda t: t[1],
    "view": lambda t: t.view(-1),
    "reshape (a view)": lambda t: t.reshape(4, 3),
    "transpose": lambda t: t.transpose(0, 1),
    "permute": lambda t: t.permute(1, 0),
    "t": lambda t: t.t(),
    "expand": lambda t: t[:1].expand(5, 4),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "unbind piece": lambda t: t.unbind(0)[2],
    "split piece": lambda t: t.split(2, 1)[1],
    "chunk piece": lambda t: t.chunk(3, 0)[0],
    "diagonal": lambda t: t.diagonal(),
    "squeeze/unsqueeze": lambda t: t.unsqueeze(0).squeeze(0),
    "detach": lambda t: t.detach(),
}


def _leaf():
    return gg.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)


def test_detach_shares_the_version_counter():
    """The issue's example: w.grad came out [0, 0, 0]."""
    w = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w * w).sum()
    w.detach().mul_(0)
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("name", list(VIEWS))
def test_changing_the_base_after_a_view_was_saved_is_caught(name):
    w = _leaf()
    v = VIEWS[name](w)
    y = (v * v).sum() if v.requires_grad else (w * v).sum()  # saves v
    with gg.no_grad():
        w.add_(1.0)
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("name", [n for n in VIEWS if n != "expand"])
def test_changing_a_view_after_the_base_was_saved_is_caught(name):
    w = _leaf()
    y = (w * w).sum()  # saves w
    with gg.no_grad():
        VIEWS[name](w).mul_(0.5)
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()


def test_a_view_of_a_view_and_the_data_alias():
    w = _leaf()
    y = (w.t()[1:] * w.t()[1:]).sum()
    with gg.no_grad():
        w[0].unbind(0)[1].fill_(0.0)  # a piece of a row: still w's memory
    with pytest.raises(GraphError):
        y.backward()
    # .data is PyTorch's escape hatch: its own counter, so the change is not seen (as PyTorch)
    w2 = _leaf()
    y2 = (w2 * 2.0).sum()  # saves nothing of w2
    w2.data.mul_(0)
    y2.backward()
    np.testing.assert_allclose(w2.grad.numpy(), np.full((3, 4), 2.0))


def test_writes_through_views_reach_the_base():
    x = gg.zeros(3, 4)
    for name, fn in VIEWS.items():
        if name == "expand":
            continue
        with gg.no_grad():
            fn(x).fill_(1.0)
        assert x.numpy().sum() > 0, name
        x.zero_()


def test_no_false_alarm_for_unrelated_and_unsaved_changes():
    w = _leaf()
    y = (w * 2.0).sum() + (w + 1.0).sum()  # nothing of w saved
    with gg.no_grad():
        w.mul_(3.0)
        w.clone().zero_()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full((3, 4), 3.0))


# ------------------------------------------------------------------ saved outputs
SAVE_OUTPUT = {
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: x.sqrt(),
    "rsqrt": lambda x: x.rsqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(-1),
}


@pytest.mark.parametrize("name", list(SAVE_OUTPUT))
def test_changing_an_output_saved_for_backward_is_caught(name):
    x = gg.tensor([[0.5, 1.0, 2.0]], requires_grad=True)
    y = SAVE_OUTPUT[name](x)
    with gg.no_grad():
        y.mul_(0)
    with pytest.raises(GraphError, match="its output"):
        y.sum().backward()


@pytest.mark.parametrize("name", list(SAVE_OUTPUT))
def test_changing_a_view_of_a_saved_output_is_caught(name):
    x = gg.tensor([[0.5, 1.0, 2.0]], requires_grad=True)
    y = SAVE_OUTPUT[name](x)
    z = y.sum()
    y.detach()[0, 1:].zero_()
    with pytest.raises(GraphError):
        z.backward()


def test_the_inplace_error_suggests_clone_not_detach():
    w = _leaf()
    with pytest.raises(GraphError) as err:
        w.mul_(2.0)
    assert "clone()" in str(err.value) and "detach" not in str(err.value)
    y = (w * w).sum()
    with gg.no_grad():
        w.add_(1.0)
    with pytest.raises(GraphError) as err:
        y.backward()
    assert "clone()" in str(err.value) and "detach" not in str(err.value)


# ------------------------------------------------------------------ view vs reshape
def test_view_of_a_non_contiguous_tensor_raises_and_reshape_copies():
    x = gg.arange(6.0).reshape(2, 3).t()  # (3, 2), not contiguous
    with pytest.raises(ShapeError, match="view"):
        x.view(6)
    with pytest.raises(ShapeError, match="view"):
        x.view_as(gg.zeros(6))
    r = x.reshape(6)  # may copy
    np.testing.assert_array_equal(r.numpy(), [0, 3, 1, 4, 2, 5])
    v = x.contiguous().view(6)
    np.testing.assert_array_equal(v.numpy(), [0, 3, 1, 4, 2, 5])
    base = gg.zeros(2, 3)
    base.view(3, 2)[0, 0] = 7.0  # a real view: the write reaches the base
    assert base[0, 0].item() == 7.0


def test_view_parity_with_torch(torch):
    t = torch.arange(6.0).reshape(2, 3).t()
    with pytest.raises(RuntimeError):
        t.view(6)
    assert (
        t.unsqueeze(0).view(1, 3, 2).shape
        == gg.arange(6.0).reshape(2, 3).t().unsqueeze(0).view(1, 3, 2).shape
    )


# ------------------------------------------------------------------ .grad never aliases user memory
def test_backward_gradient_is_copied_into_grad():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    up = gg.tensor([3.0, 4.0])
    x.backward(gradient=up)
    x.grad.zero_()
    np.testing.assert_array_equal(up.numpy(), [3.0, 4.0])
    y = gg.tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([5.0, 6.0], dtype=np.float32)
    (y * 1.0).backward(gradient=arr)
    gg.nn.utils.clip_grad_norm_([y], 1.0)
    np.testing.assert_array_equal(arr, [5.0, 6.0])


# ------------------------------------------------------------------ hooks
def test_a_hook_returning_another_shape_raises():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: g.sum())
    with pytest.raises(ShapeError, match=r"expected a gradient of shape \(3,\)"):
        y.sum().backward()
    leaf = gg.tensor([1.0, 2.0], requires_grad=True)
    leaf.register_hook(lambda g: gg.ones(3))
    with pytest.raises(ShapeError):
        (leaf * 2.0).sum().backward()


def test_a_hook_returning_another_shape_raises_in_torch_too(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError):
        y.sum().backward()


# ------------------------------------------------------------------ clamp ties, var/std correction
def test_clamp_with_tensor_bounds_matches_torch_at_ties(torch):
    xs, los, his = [0.0, 1.0, 2.0, 3.0, 4.0, 2.0], [1.0, 1, 1, 3, 5, 3], [3.0, 3, 3, 3, 2, 1]
    ours = [gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in (xs, los, his)]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (xs, los, his)]
    gg.clamp(*ours).sum().backward()
    torch.clamp(*theirs).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    for kw in ("min", "max"):
        o = [gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in (xs, los)]
        t = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (xs, los)]
        o[0].clamp(**{kw: o[1]}).sum().backward()
        t[0].clamp(**{kw: t[1]}).sum().backward()
        for a, b in zip(o, t):
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_clamp_tie_gives_the_whole_gradient_to_the_input():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    lo = gg.tensor([1.0, 0.0], requires_grad=True)
    hi = gg.tensor([3.0, 2.0], requires_grad=True)
    x.clamp(lo, hi).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(lo.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("fn", ["var", "std"])
@pytest.mark.parametrize("correction", [2, 3, 4, 5, 2.5])
def test_var_std_with_large_correction_match_torch(torch, fn, correction):
    data = np.array([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]])
    up = np.array([1.0, -1.0])
    x = gg.tensor(data, requires_grad=True)
    getattr(x, fn)(1, correction=correction).backward(gg.tensor(up))
    tx = torch.tensor(data, requires_grad=True)
    with pytest.warns(UserWarning) if correction >= 3 else _Nothing():
        getattr(tx, fn)(1, correction=correction).backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), equal_nan=True)
    if correction > 3:
        assert np.isfinite(x.grad.numpy()).all()


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ------------------------------------------------------------------ Cast keeps no array
def test_cast_allows_a_second_backward_and_a_later_inplace_change():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double().sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    x2 = gg.tensor([1.0, 2.0], requires_grad=True)
    z = (x2.double() * 3.0).sum()
    with gg.no_grad():
        x2.add_(1.0)
    z.backward()
    np.testing.assert_array_equal(x2.grad.numpy(), [3.0, 3.0])


def test_a_node_that_saved_no_array_can_run_twice():
    """A product with a Python number keeps no array, so nothing is freed (PyTorch keeps the
    number as a tensor and refuses a second backward; running it again is harmless here)."""
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


# ------------------------------------------------------------------ topk ties
def test_topk_is_stable_at_boundary_ties():
    t = gg.tensor([1.0, 0, 1, 0, 1, 1, 0, 1])
    assert t.topk(3).indices.tolist() == [0, 2, 4]
    assert t.topk(3, largest=False).indices.tolist() == [1, 3, 6]
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (50, 40)).astype(np.float32)
    for k in (1, 7, 20, 40):
        for largest in (True, False):
            idx = gg.tensor(x).topk(k, dim=1, largest=largest).indices.numpy()
            ref = np.argsort(-x if largest else x, axis=1, kind="stable")[:, :k]
            np.testing.assert_array_equal(idx, ref)


# ------------------------------------------------------------------ in-place ops recorded on non-leaves
def _residual(lib):
    """torchvision's BasicBlock writes ``out += identity``; activations use ``relu_()``."""
    x = lib.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[0.5, 1.0], [2.0, -1.0]], dtype=lib.float64, requires_grad=True)
    out = x @ w
    out += x
    out.mul_(3.0)
    out.add_(w, alpha=2.0)
    out.relu_()
    (out * out).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()


def test_inplace_ops_on_non_leaves_are_recorded_as_pytorch(torch):
    for ours, theirs in zip(_residual(gg), _residual(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_recorded_inplace_gives_the_out_of_place_gradient_where_torch_refuses(torch):
    """PyTorch raises here (mul_ overwrote what mul saved); glassgrad keeps the old array, so its
    gradient is the one of the same computation written out of place."""

    def run(lib, inplace):
        x = lib.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[0.5, 1.0], [2.0, -1.0]], dtype=lib.float64, requires_grad=True)
        out = x * 2.0
        if inplace:
            out.mul_(w)
            out.sigmoid_()
        else:
            out = (out * w).sigmoid()
        out.sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    for ours, ref in zip(run(gg, True), run(torch, False)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_out_with_an_input_that_requires_grad_raises_as_torch(torch):
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="out= does not support automatic differentiation"):
        gg.exp(x, out=gg.empty(2))
    with pytest.raises(RuntimeError):
        torch.exp(torch.tensor([1.0, 2.0], requires_grad=True), out=torch.empty(2))
    with gg.no_grad():
        out = gg.empty(2)
        assert gg.exp(x, out=out) is out


def test_memory_held_outside_is_written_by_a_recorded_inplace_op():
    """numpy(), .data, from_numpy and as_tensor hand the memory to someone else: a recorded
    in-place op on such a tensor writes into it (as PyTorch) instead of leaving that holder with
    stale values."""
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    held = gg.zeros(2)
    h = held.numpy()
    a, b = np.zeros(2, dtype=np.float32), np.zeros(2, dtype=np.float32)  # held by the caller
    for t, seen in ((held, h), (gg.from_numpy(a), a), (gg.as_tensor(b), b)):
        t += w
        assert seen.tolist() == [1.0, 2.0] and t.grad_fn is not None
    y = w * 2.0
    data = y.data
    y.add_(1.0)
    assert data.tolist() == [3.0, 5.0]
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


def test_a_user_function_returning_its_input_leaves_the_input_a_leaf():
    class Identity(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert x.is_leaf and y is not x
    (y * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
