"""Round 36, metrics and metric learning (Lightning-AI/torchmetrics, KevinMusgrave/pytorch-metric-learning):
distilled repros of the two defects the programs met, against PyTorch from the same values.

- pytorch-metric-learning's NCALoss masks self-similarity with ``mat.fill_diagonal_(-inf)`` on a
  matrix in the graph; glassgrad refused every in-place ``fill_diagonal_`` on a tensor that
  requires grad. It is recorded now, as PyTorch's: the filled elements get a zero gradient.
- torchmetrics composes metrics with operators (``tensor(2) + metric`` is a ``CompositionalMetric``
  through ``Metric.__radd__``). glassgrad's Tensor operators raised on an operand they cannot take
  instead of returning ``NotImplemented`` as PyTorch's do, so the reflected method never ran (and
  ``t == object()`` raised where PyTorch gives False).
- torchmetrics' ``Metric`` overrides ``Module._apply`` to convert its states, and reads the name of
  the function it is given (``"Module.type"`` in ``str(fn)``) to tell ``set_dtype`` from a move.
  glassgrad's ``to``/``type``/``double``/``half``/``cpu`` never called ``_apply`` (nor a child's),
  so ``Metric.set_dtype(torch.float64)`` and ``model.to(torch.float64)`` left the states float32.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


# ------------------------------------------------------------------ fill_diagonal_ in the graph
def _nca_like(T, x_np, wrap=False, fill=float("-inf")):
    """NCA's self-masked softmax over a similarity matrix in the graph; returns loss and grad."""
    x = T.tensor(x_np, requires_grad=True)
    mat = x @ x.t()
    mat.fill_diagonal_(fill, wrap=wrap)
    p = T.softmax(mat, dim=1)
    loss = (p * T.arange(mat.shape[1], dtype=x.dtype)).sum()
    loss.backward()
    return loss.detach().numpy(), mat.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("fill", [float("-inf"), -3.5, 0.0])
def test_fill_diagonal_on_a_recorded_matrix_matches_pytorch(torch, fill):
    x = np.random.default_rng(0).standard_normal((6, 4))
    got, want = _nca_like(gg, x, fill=fill), _nca_like(torch, x, fill=fill)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,wrap", [((7, 3), True), ((7, 3), False), ((3, 7), True), ((4, 4, 4), False)])
def test_fill_diagonal_gradient_shapes_and_wrap_match_pytorch(torch, shape, wrap):
    rng = np.random.default_rng(1)
    base, weight = rng.standard_normal(shape), rng.standard_normal(shape)
    out = []
    for T in (gg, torch):
        w = T.tensor(base, requires_grad=True)
        y = w * 2.0
        y.fill_diagonal_(5.0, wrap=wrap)
        (y * T.tensor(weight)).sum().backward()
        out.append((y.detach().numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_fill_diagonal_of_a_view_of_a_recorded_tensor_matches_pytorch(torch):
    base = np.arange(36.0).reshape(6, 6) / 5
    out = []
    for T in (gg, torch):
        w = T.tensor(base, requires_grad=True)
        y = w * 2
        y[1:5, 1:5].fill_diagonal_(-1.0)
        (y * T.arange(36.0, dtype=y.dtype).reshape(6, 6)).sum().backward()
        out.append((y.detach().numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("seed", range(4))
def test_fill_diagonal_gradcheck(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    shape = [(n + int(rng.integers(0, 4)), n), (n, n, n), (n, n + 2)][seed % 3]
    x = gg.tensor(rng.standard_normal(shape), requires_grad=True)

    def f(t):
        return (t * 1.5).fill_diagonal_(0.25, wrap=True).sin()

    assert gradcheck(f, (x,))


def test_fill_diagonal_without_grad_and_its_refusals_as_pytorch(torch):
    for T in (gg, torch):  # an int tensor truncates; a 0-dim tensor is taken as its value
        a = T.zeros(3, 3, dtype=T.long)
        a.fill_diagonal_(2.7)
        b = T.zeros(3, 3)
        b.fill_diagonal_(T.tensor(2.5))
        assert a.tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
        assert b.diagonal().tolist() == [2.5, 2.5, 2.5]
        with pytest.raises(RuntimeError):  # a leaf that requires grad
            T.ones(3, 3, requires_grad=True).fill_diagonal_(0.0)
        for shape in [(5,), (2, 3, 3)]:
            with pytest.raises(RuntimeError):
                T.zeros(shape).fill_diagonal_(1.0)
    with pytest.raises(gg.errors.ShapeError, match=r"fill_diagonal_.*\(2, 3, 3\)"):
        gg.zeros(2, 3, 3).fill_diagonal_(1.0)
    w = gg.ones(2, 2, requires_grad=True)
    with gg.no_grad():
        w.fill_diagonal_(0.0)  # allowed outside recording, as PyTorch
    assert w.tolist() == [[0.0, 1.0], [1.0, 0.0]]


# ------------------------------------------------------------------ conversions through _apply
def _recording_module(T):
    """A module that converts a state of its own in ``_apply``, as torchmetrics' Metric: it casts
    only when the function's name says ``Module.type`` (set_dtype) or is a move/``to``."""

    class Stateful(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("b", T.zeros(2))
            self.state = T.zeros(3)
            self.calls = []

        def _apply(self, fn, exclude_state=""):  # no ``recurse``, as torchmetrics' signature
            this = super()._apply(fn)
            name = str(fn)
            self.calls.append(fn.__qualname__)
            if any(k in name for k in ("Module.half", "Module.float", "Module.double")):
                return this
            self.state = fn(self.state)
            return this

    return Stateful


def test_conversions_go_through_every_overriding_apply_as_pytorch(torch):
    got = []
    for T in (gg, torch):
        Stateful = _recording_module(T)
        model = T.nn.Sequential(T.nn.Linear(2, 2), T.nn.Sequential(Stateful()))
        inner = model[1][0]
        dtypes = []
        for convert in (
            lambda m: m.double(),
            lambda m: m.to(T.float64),
            lambda m: m.float(),
            lambda m: m.half(),
            lambda m: m.type(T.float32),
            lambda m: m.cpu(),
            lambda m: m.to("cpu"),
        ):
            assert convert(model) is model
            dtypes.append((str(inner.state.dtype).split(".")[-1], str(inner.b.dtype).split(".")[-1]))
        got.append((inner.calls, dtypes, str(model[0].weight.dtype).split(".")[-1]))
    assert got[0] == got[1]
    assert got[0][0][:3] == [
        "Module.double.<locals>.<lambda>",
        "Module.to.<locals>.convert",
        "Module.float.<locals>.<lambda>",
    ]


def test_metric_style_set_dtype_casts_states_and_defaults(torch):
    """torchmetrics' set_dtype: a guarded cast through ``super().type(dtype)``."""
    got = []
    for T in (gg, torch):

        class Metric(T.nn.Module):
            def __init__(self):
                super().__init__()
                self.total = T.tensor(0.0)
                self._defaults = {"total": T.tensor(0.0)}
                self._convert = False
                self._dtype = T.get_default_dtype()

            def _apply(self, fn, exclude_state=""):
                this = super()._apply(fn)
                if not self._convert and any(k in str(fn) for k in ("Module.type", "Module.double")):
                    return this
                self._defaults = {k: fn(v) for k, v in self._defaults.items()}
                self.total = fn(self.total)
                self._dtype = fn(T.zeros(1)).dtype
                return this

            def set_dtype(self, dtype):
                self._convert = True
                out = super().type(dtype)
                out._convert = False
                return out

        m = Metric().set_dtype(T.float64)
        plain = Metric().double()
        moved = T.nn.ModuleList([Metric()]).to(T.float64)[0]
        got.append([str(x).split(".")[-1] for x in (
            m.total.dtype, m._defaults["total"].dtype, m._dtype, plain.total.dtype, moved.total.dtype, moved._dtype,
        )])  # fmt: skip
    assert got[0] == got[1] == [["float64"] * 3 + ["float32"] + ["float64"] * 2][0]


def test_apply_keeps_parameter_objects_and_converts_gradients(torch):
    for T in (gg, torch):
        lin = T.nn.Linear(3, 2)
        w = lin.weight
        w.grad = T.ones(2, 3)
        lin.double()
        assert lin.weight is w and w.dtype == T.float64 and w.grad.dtype == T.float64
        lin.to_empty(device="cpu", recurse=False)
        assert lin.weight is w and tuple(w.shape) == (2, 3)


# ------------------------------------------------------------------ operators decline foreign operands
_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor, "lshift": operator.lshift,
    "rshift": operator.rshift,
}  # fmt: skip


class _Reflecting:
    """An operand that implements every binary operator on both sides (as torchmetrics' Metric)."""


for _n in _BINARY:
    setattr(_Reflecting, f"__{_n}__", lambda self, other, _n=_n: _n)
    setattr(_Reflecting, f"__r{_n}__", lambda self, other, _n=_n: "r" + _n)


def _outcome(fn):
    try:
        return fn()
    except TypeError as e:  # PyTorch's own message once both sides declined
        return f"TypeError: {str(e).split(':')[0]}"


def test_operators_decline_what_they_cannot_take_as_pytorch(torch):
    got = []
    for T in (gg, torch):
        t = T.tensor(2)
        row = {}
        for name, op in _BINARY.items():
            row[name] = [
                _outcome(lambda op=op: op(t, _Reflecting())),
                _outcome(lambda op=op: op(_Reflecting(), t)),
                _outcome(lambda op=op: op(t, object())),
                _outcome(lambda op=op: op(t, None)),
                _outcome(lambda op=op: op("a", t)),
            ]
        row["compare"] = [
            t == object(),
            t != object(),
            _outcome(lambda: t < object()),
            _outcome(lambda: t >= None),
        ]
        x = T.tensor(3)
        x += _Reflecting()  # __iadd__ declines: Python falls back to __add__, then __radd__
        y = T.tensor(3)
        y *= _Reflecting()
        row["inplace"] = [x, y]
        got.append(row)
    assert got[0] == got[1]
    assert got[0]["add"][:3] == ["radd", "add", "TypeError: unsupported operand type(s) for +"]


def test_operators_still_raise_their_own_errors_for_tensors_and_numbers():
    with pytest.raises(gg.errors.DTypeError, match="bitwise_and"):
        gg.tensor([1.0]) & gg.tensor([1.0])
    with pytest.raises(gg.errors.ShapeError):
        gg.ones(2, 3) + gg.ones(4)
    assert (gg.tensor([1.0, 2.0]) + np.float64(1.0)).tolist() == [2.0, 3.0]
    assert (2 ** gg.tensor([1, 2])).tolist() == [2, 4]


# ------------------------------------------------------------------ `in`
def test_contains_tests_elements_as_pytorch(torch):
    """torchmetrics' bootstrap test checks ``ns in old_samples`` for a row ``ns``: Python iterated the
    rows and ``bool`` of a 2-element comparison raised before ``Tensor.__contains__`` existed."""
    samples = np.arange(1.0, 7.0).reshape(3, 2)
    got = []
    for T in (gg, torch):
        t = T.tensor(samples)
        got.append([
            2.0 in t, 7 in t, np.float64(5.0) in t, T.tensor([1.0, 9.0]) in t, T.tensor([9.0, 8.0]) in t,
            T.tensor(6.0) in t, True in T.tensor([1, 0]), 3 in T.tensor([]),
        ])  # fmt: skip
        for bad in ("a", [1.0], None, samples[0]):
            with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
                bad in t  # noqa: B015
    assert got[0] == got[1] == [True, False, True, True, False, True, True, False]
