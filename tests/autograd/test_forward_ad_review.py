"""Review of forward-mode AD: a differential harness for silent wrong tangents.

Every op with a JVP rule, on its gradcheck cases (tests/ops/cases_*.py: broadcasting, size-1
dims), gets random tangents on a random subset of its float inputs and is checked against float64
central differences along that direction: inputs that do not require grad (the forward-only
paths), that do (the recording paths), and non-contiguous inputs and tangents. Then the paths that
compute outside ``Primitive.apply``, views and in-place writes, ``detach_``, gradcheck's forward
check, nn layers against PyTorch, and the clean-up of a level.
"""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.autograd.forward_ad as fwAD
from glassgrad.autograd import gradcheck
from glassgrad.autograd.function import observers
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.autograd.jvp_rules import RULES
from glassgrad.errors import ShapeError
from tests.ops.harness import CASES, to_inputs

for _path in sorted((pathlib.Path(__file__).parents[1] / "ops").glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_path.stem}")

EPS = 1e-6
#: Ops whose forward-only path (inputs that do not require grad) computes outside
#: Primitive.apply and drops the tangent; the fix is in glassgrad/ops (see the review notes).


def _outs(r):
    if isinstance(r, gg.Tensor):
        return [r]
    if isinstance(r, tuple | list):
        return [o for x in r for o in _outs(x)]
    return []


def _strided(a):
    """The same values in a non-contiguous layout (transposed, or every other element)."""
    if a.ndim >= 2:
        return np.swapaxes(np.swapaxes(a, -1, -2).copy(), -1, -2)
    big = np.zeros(a.shape + (2,), a.dtype)
    big[..., 0] = a
    return big[..., 0]


def _tensors(raw, shift, vs, grad=False, strided=False):
    out = []
    for i, r in enumerate(raw):
        if isinstance(r, np.ndarray):
            a = np.array(r + shift * vs[i] if i in vs else r)
            t = gg.Tensor(_strided(a) if strided else a, _wrap=True)
            if grad and a.dtype == np.float64:
                t.requires_grad_()
            out.append(t)
        else:
            out.append(r)
    return out


def _jvp_vs_differences(fn, raw, rng, grad, strided):
    """(forward-AD tangents, central differences) along a random direction on a random subset of
    the float inputs; None when the case calls an op without a rule."""
    floats = [i for i, r in enumerate(raw) if isinstance(r, np.ndarray) and r.dtype == np.float64]
    some = [i for i in floats if rng.random() < 0.6] or floats[:1]
    vs = {i: rng.standard_normal(raw[i].shape) for i in some}
    with gg.no_grad():
        plus = [o._data.astype(float) for o in _outs(fn(*_tensors(raw, EPS, vs)))]
        minus = [o._data.astype(float) for o in _outs(fn(*_tensors(raw, -EPS, vs)))]
    args = _tensors(raw, 0.0, vs, grad, strided)
    with fwAD.dual_level():
        for i in some:
            args[i] = fwAD.make_dual(args[i], gg.Tensor(_strided(vs[i]) if strided else vs[i], _wrap=True))
        try:
            outs = _outs(fn(*args))
        except NotImplementedError as err:
            if "no forward-mode rule" in str(err):
                return None
            raise
        except ShapeError as err:  # a complex case (angle's) views pairs: it needs a stride-1 last dim
            if strided and "view_as_complex" in str(err):
                return None
            raise
        got = []
        for o in outs:
            t = fwAD.unpack_dual(o).tangent
            got.append(np.zeros(o.shape) if t is None else np.asarray(t._data, float))
    return got, [(p - m) / (2 * EPS) for p, m in zip(plus, minus)]


def _params():
    for name in sorted(set(CASES) & set(RULES)):
        yield pytest.param(name)


@pytest.mark.parametrize("name", list(_params()))
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data(), seed=st.integers(0, 2**31))
def test_random_tangents_match_differences(name, data, seed):
    for strategy in CASES[name]:
        fn, raw = data.draw(strategy)
        if name == "clamp_bounds" and not all(isinstance(r, np.ndarray) for r in raw):
            continue  # a 0-d tensor bound beside a number is read as a number (PyTorch's parser)
        rng = np.random.default_rng(seed)
        for grad, strided in ((False, False), (True, False), (False, True)):
            if strided and name == "irfft":
                continue  # its cases view the real input as complex: view_as_complex needs stride 1
            pair = _jvp_vs_differences(fn, raw, rng, grad, strided)
            if pair is None:
                continue
            for got, want in zip(*pair):
                assert got.shape == want.shape, name
                if not np.allclose(got, want, atol=1e-4, rtol=1e-3):
                    # within eps of a kink, differences are wrong; reverse mode must be wrong too
                    assert not gradcheck(fn, to_inputs(raw), raise_exception=False), (name, grad, strided)


# --- paths outside Primitive.apply that PyTorch differentiates ---------------------------------


def _tangent(lib, fw, build):
    with fw.dual_level():
        t = fw.unpack_dual(build(lib, fw)).tangent
        return None if t is None else np.asarray(t.detach().numpy(), float)


def _dual(lib, fw, a, t, dtype=None):
    kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
    return fw.make_dual(lib.tensor(a, **kw), lib.tensor(t, **kw))


# Each of these once computed outside Primitive.apply unless an input required grad, so a dual
# input lost its tangent there (the fast paths now ask forward_ad.tracked).
GATES = {
    "remainder": lambda L, F: L.remainder(_dual(L, F, [5.5, -3.2], [1.0, 2.0]), 2.0),
    "mod_inplace": lambda L, F: _dual(L, F, [5.5, -3.2], [1.0, 2.0]).clone().__imod__(2.0),
    "promote_0d": lambda L, F: _dual(L, F, 2.0, 1.0) * L.tensor([3.0, 4.0], dtype=L.float32),
    "masked_fill_0d": lambda L, F: L.tensor([1.0, 2.0]).masked_fill(L.tensor([True, False]), _dual(L, F, 5.0, 1.0)),
    "index_fill_0d": lambda L, F: L.zeros(3).index_fill_(0, L.tensor([0, 2]), _dual(L, F, 5.0, 1.0)),
    "float_power_f32": lambda L, F: L.float_power(_dual(L, F, [1.0, 2.0], [1.0, 1.0], "float32"), 2),
    "embedding_padding_idx": lambda L, F: L.nn.functional.embedding(
        L.tensor([1, 0]), F.make_dual(L.ones(3, 2, dtype=L.float64, requires_grad=True), L.ones(3, 2, dtype=L.float64)),
        padding_idx=1),
    "fmod": lambda L, F: L.fmod(_dual(L, F, [5.5, -3.2], [1.0, 2.0]), 2.0),
    "promote_f32_f64": lambda L, F: _dual(L, F, [1.0, 2.0], [1.0, 1.0], "float32") * L.tensor([3.0, 4.0]),
    "where_scalar": lambda L, F: L.where(L.tensor([True, False]), _dual(L, F, [1.0, 2.0], [1.0, 3.0]), 0.0),
    "setitem_dual": lambda L, F: (lambda z: (z.__setitem__(0, _dual(L, F, 4.0, 7.0)), z)[1])(L.zeros(2)),
    "copy_dual": lambda L, F: L.zeros(2, dtype=L.float64).copy_(_dual(L, F, [1.0, 2.0], [3.0, 4.0])),
    "detach": lambda L, F: _dual(L, F, [1.0, 2.0], [1.0, 1.0]).detach(),
    "detach_": lambda L, F: _dual(L, F, [1.0, 2.0], [1.0, 1.0]).clone().detach_(),
    "data": lambda L, F: _dual(L, F, [1.0, 2.0], [1.0, 1.0]).data,
    "zeros_like": lambda L, F: L.zeros_like(_dual(L, F, [1.0, 2.0], [1.0, 1.0])),
    "make_dual_base_after_write": lambda L, F: (lambda x: (F.make_dual(x, L.ones(2, dtype=L.float64)).mul_(2), x)[1])(
        L.tensor([1.0, 2.0])),
}  # fmt: skip


@pytest.mark.parametrize("build", list(GATES.values()), ids=list(GATES))
def test_paths_outside_apply_match_torch(torch, build):
    import torch.autograd.forward_ad as tfw

    torch.set_default_dtype(torch.float64)
    try:
        want = _tangent(torch, tfw, build)
    finally:
        torch.set_default_dtype(torch.float32)
    gg.set_default_dtype(gg.float64)
    try:
        got = _tangent(gg, fwAD, build)
    finally:
        gg.set_default_dtype(gg.float32)
    assert (got is None) == (want is None), (got, want)
    if want is not None:
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_out_argument_does_not_drop_the_tangent():
    with fwAD.dual_level(), pytest.raises((NotImplementedError, RuntimeError)):
        gg.add(
            _dual(gg, fwAD, [1.0, 2.0], [1.0, 1.0]),
            gg.ones(2, dtype=gg.float64),
            out=gg.zeros(2, dtype=gg.float64),
        )


# --- views and in-place writes -----------------------------------------------------------------


def test_write_through_a_view_into_a_base_without_tangent_raises():
    """PyTorch gives the base the written tangent; glassgrad cannot follow it, so it raises
    rather than reading the base as a constant (it silently gave None before)."""
    with fwAD.dual_level():
        z = gg.zeros(2, 2, dtype=gg.float64)
        z[0].copy_(_dual(gg, fwAD, [1.0, 2.0], [3.0, 4.0]))
        with pytest.raises(RuntimeError, match="cannot follow"):
            fwAD.unpack_dual(z)
        with pytest.raises(RuntimeError, match="cannot follow"):
            z * 2  # as an op's input too
        w = gg.zeros(2, 2, dtype=gg.float64)
        row = w[1]  # a view made before its base takes a tangent
        w[1] = _dual(gg, fwAD, [1.0, 2.0], [3.0, 4.0])
        np.testing.assert_array_equal(fwAD.unpack_dual(w).tangent.numpy(), [[0, 0], [3, 4]])
        with pytest.raises(RuntimeError, match="cannot follow"):
            row + 1
    assert fwAD._written == {} and fwAD._tangents == {}


def test_view_tangents_and_writes_into_the_tensor_itself():
    with fwAD.dual_level():
        d = _dual(gg, fwAD, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        v = d.t()[1:]  # a view: its tangent is the same view of d's tangent
        np.testing.assert_array_equal(fwAD.unpack_dual(v).tangent.numpy(), [[2.0, 5.0], [3.0, 6.0]])
        y = d.clone()
        y[:, 0] = _dual(gg, fwAD, [9.0, 9.0], [7.0, 8.0])
        y.mul_(2)
        np.testing.assert_array_equal(
            fwAD.unpack_dual(y).tangent.numpy(), [[14.0, 4.0, 6.0], [16.0, 10.0, 12.0]]
        )
        v.mul_(2)  # through a view of d: d's tangent would be stale, so reading it raises
        with pytest.raises(RuntimeError, match="stale"):
            fwAD.unpack_dual(d)


# --- gradcheck's forward check must be able to fail --------------------------------------------


def test_gradcheck_forward_check_runs_without_requires_grad():
    """A function whose forward-only path drops the tangent passed before: gradcheck's forward
    check ran only on inputs that require grad."""

    def fast_path(x):
        return x * 2 if x.requires_grad else gg.Tensor(x._data * 2, _wrap=True)

    x = gg.randn(3, dtype=gg.float64, requires_grad=True)
    assert gradcheck(fast_path, (x,))  # backward alone is right
    with pytest.raises(GradcheckError, match="forward AD"):
        gradcheck(fast_path, (x,), check_forward_ad=True, check_backward_ad=False)


def test_gradcheck_forward_check_covers_tangents_on_several_inputs():
    """A jvp right for each input alone but wrong with tangents on both at once (t_a t_b term)."""

    class Mul(gg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            ctx.save_for_forward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

        @staticmethod
        def jvp(ctx, ta, tb):
            a, b = ctx.saved_tensors
            return ta * b + a * tb + ta * tb

    a, b = (gg.randn(3, dtype=gg.float64, requires_grad=True) for _ in range(2))
    with pytest.raises(GradcheckError, match="random-direction"):
        gradcheck(Mul.apply, (a, b), check_forward_ad=True, check_backward_ad=False)


# --- nn layers against PyTorch, with and without requires_grad, under no_grad -----------------

LAYERS = {
    "linear": (lambda m: m.Linear(4, 3), (2, 5, 4)),
    "conv2d": (lambda m: m.Conv2d(3, 2, 3, padding=1, stride=2), (2, 3, 6, 6)),
    "batchnorm_train": (lambda m: m.BatchNorm2d(3), (2, 3, 4, 4)),
    "groupnorm": (lambda m: m.GroupNorm(1, 3), (2, 3, 4, 4)),
    "layernorm": (lambda m: m.LayerNorm(4), (2, 5, 4)),
}
FUNCTIONS = {
    "sdpa_causal": lambda F, x: F.scaled_dot_product_attention(x, x * 2, x.flip(1), is_causal=True),
    "ce_label_smoothing": lambda F, x: F.cross_entropy(x.flatten(0, 1), _labels(x), label_smoothing=0.2),
    "ce_ignore_index": lambda F, x: F.cross_entropy(
        x.flatten(0, 1), _labels(x), ignore_index=1, reduction="none"
    ),
    "interpolate_bilinear": lambda F, x: F.interpolate(x[None], size=(3, 7), mode="bilinear"),
    "interpolate_nearest": lambda F, x: F.interpolate(x, scale_factor=2, mode="nearest"),
    "pad_reflect": lambda F, x: F.pad(x, (1, 2), mode="reflect"),
    "pad_constant": lambda F, x: F.pad(x, (1, 2, 0, 1), value=3.0),
    "embedding_weight": lambda F, x: F.embedding(_labels(x)[:3], x[0]),
}


def _labels(x):
    lib = gg if isinstance(x, gg.Tensor) else __import__("torch")
    return lib.tensor([0, 1, 2, 3, 1, 0, 2, 3, 1, 1])[: x.shape[0] * x.shape[1]]


def _both(torch, fn, shape, grad, no_grad):
    import torch.autograd.forward_ad as tfw

    rng = np.random.default_rng(1)
    a, t = rng.standard_normal(shape), rng.standard_normal(shape)
    out = []
    for lib, fw in ((gg, fwAD), (torch, tfw)):
        with fw.dual_level(), lib.no_grad() if no_grad else lib.enable_grad():
            x = fw.make_dual(lib.tensor(a, requires_grad=grad), lib.tensor(t))
            tangent = fw.unpack_dual(fn(lib, x)).tangent
            out.append(tangent.detach().numpy())
    return out


@pytest.mark.parametrize("grad, no_grad", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("name", list(LAYERS) + list(FUNCTIONS))
def test_layers_match_torch(torch, name, grad, no_grad):
    if name in LAYERS:
        build, shape = LAYERS[name]
        tm = build(torch.nn).double()
        gm = build(gg.nn).double()
        gm.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        mods = {gg: gm, torch: tm}
        got, want = _both(torch, lambda lib, x: mods[lib](x), shape, grad, no_grad)
    else:
        got, want = _both(
            torch, lambda lib, x: FUNCTIONS[name](lib.nn.functional, x), (2, 5, 4), grad, no_grad
        )
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_recurrent_layers_follow_the_tangent():
    """The fused layers' rule transposes their recorded VJP (round 59; against PyTorch in
    test_forward_ad_round59.py): the central difference along the tangent."""
    lstm = gg.nn.LSTM(4, 3, batch_first=True).double()
    x, v = np.random.default_rng(0).standard_normal((2, 2, 3, 4))
    with fwAD.dual_level():
        got = fwAD.unpack_dual(lstm(_dual(gg, fwAD, x, v))[0]).tangent.detach().numpy()
    with gg.no_grad():
        plus, minus = (lstm(gg.tensor(x + s * 1e-6 * v))[0].numpy() for s in (1, -1))
    np.testing.assert_allclose(got, (plus - minus) / 2e-6, rtol=1e-6, atol=1e-8)


# --- a level leaves nothing behind ------------------------------------------------------------


def test_level_is_undone_even_when_its_body_raises():
    before = list(observers.forward)
    funnels = {k: gg.Tensor.__dict__[k] for k in ("_update", "_set", "__setitem__", "detach_")}
    with pytest.raises(ZeroDivisionError), fwAD.dual_level():
        z = gg.zeros(2, 2, dtype=gg.float64)
        z[0].copy_(_dual(gg, fwAD, [1.0, 2.0], [3.0, 4.0]))
        assert gg.Tensor.__dict__["detach_"] is not funnels["detach_"]
        raise ZeroDivisionError
    assert observers.forward == before
    assert {k: gg.Tensor.__dict__[k] for k in funnels} == funnels
    assert fwAD._tangents == {} and fwAD._written == {} and fwAD._state.level is None
    with fwAD.dual_level():  # usable again, and a tensor that raised before is plain now
        assert fwAD.unpack_dual(z).tangent is None


def test_multihead_attention_refuses_a_dual_float_mask():
    """MHA merges its masks as constants: a mask's tangent would be dropped, so it is refused."""
    mha = gg.nn.MultiheadAttention(4, 2, dtype=gg.float64)
    x = gg.randn(3, 1, 4, dtype=gg.float64)
    with fwAD.dual_level():
        mask = fwAD.make_dual(gg.zeros(3, 3, dtype=gg.float64), gg.ones(3, 3, dtype=gg.float64))
        with pytest.raises(ValueError, match="carry a tangent"):
            mha(x, x, x, attn_mask=mask)


def test_make_dual_refuses_complex_rather_than_give_a_wrong_tangent():
    """abs of 1+2j along 1j is +0.894; the real-valued rules gave -0.894: complex is refused."""
    with fwAD.dual_level():
        with pytest.raises(ValueError, match=r"primal to be floating point \(real\)"):
            fwAD.make_dual(gg.from_numpy(np.array([1 + 2j])), gg.from_numpy(np.array([1j])))
        with pytest.raises(ValueError, match=r"tangent to be floating point \(real\)"):
            fwAD.make_dual(gg.tensor([1.0], dtype=gg.float64), gg.from_numpy(np.array([1j])))
