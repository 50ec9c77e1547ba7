"""Complex autograd beyond the single ops: float64 finite-difference gradchecks of every rule
through real views (and with complex inputs, as PyTorch's gradcheck), the complex gate (what it
refuses, what it swaps, that real programs are unaffected), where complex data is first noticed,
the engine (implicit seeds, accumulation into complex leaves), in-place changes of views of another
dtype, user Functions, optimizers and state dicts."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import dtypes
from glassgrad.autograd import REGISTRY, Primitive, gradcheck
from glassgrad.autograd.complex_gate import TWINS
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.errors import DTypeError, GraphError

C, R = gg.view_as_complex, gg.view_as_real


def _x(*shape, seed=0, low=0.3):
    rng = np.random.default_rng(seed)
    v = rng.uniform(low, 1.5, shape) * rng.choice([-1, 1], shape)
    return gg.tensor(v, dtype=gg.float64, requires_grad=True)


# ------------------------------------------------------------------ gradchecks through real views
RULES = {
    "mul": lambda a, b: R(C(a) * C(b)),
    "mul_real": lambda a, b: R(C(a) * b[..., 0]),
    "div": lambda a, b: R(C(a) / C(b)),
    "div_real": lambda a, b: R(b[..., 0] / C(a)),
    "add_sub_neg": lambda a, b: R(-(C(a) + b[..., 1]) - C(b)),
    "exp": lambda a, b: R(C(a).exp() * C(b)),
    "abs_angle": lambda a, b: C(a).abs() * C(b).angle(),
    "conj": lambda a, b: R(C(a).conj() * C(b)),
    "real_imag": lambda a, b: C(a).real * C(b).imag + C(a).imag,
    "polar": lambda a, b: R(gg.polar(a.abs(), b)),
    "complex": lambda a, b: R(gg.complex(a, b) * gg.complex(b, a)),
    "sum_mean": lambda a, b: R(C(a).sum(0) * C(b).mean(0)),
    "cast": lambda a, b: R(a[..., 0].to(gg.complex128) * C(b)) + C(a).to(gg.float64)[..., None],
    "shape_ops": lambda a, b: R(gg.cat([C(a).t()[:1], C(b).flip(0).t()[1:]], 0).reshape(-1)[1:]),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_rule_passes_gradcheck_through_real_views(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a cast of complex to real (none here)
        assert gradcheck(RULES[name], (_x(3, 2, 2), _x(3, 2, 2, seed=1)))


def test_rope_gradcheck_float64():
    """(1, T, 1, D/2) times (B, T, H, D/2): llama's broadcast, through its real views."""
    b, t, h, d = 2, 3, 2, 4
    freqs = _x(t, d // 2, seed=2)

    def rope(x, f):
        table = gg.polar(gg.ones_like(f), f).view(1, t, 1, d // 2)
        return R(C(x.reshape(b, t, h, d // 2, 2)) * table).flatten(3)

    assert gradcheck(rope, (_x(b, t, h, d), freqs))


def test_gradcheck_takes_complex_inputs_and_catches_a_missing_conjugate():
    z = gg.tensor([1 + 2j, 0.5 - 1j, -0.3 + 0.2j], dtype=gg.complex128, requires_grad=True)
    w = gg.tensor([0.2 - 1j, 1 + 0.5j, 2 + 0j], dtype=gg.complex128, requires_grad=True)
    assert gradcheck(lambda z, w: (z * w.conj() / (w + 3), (z @ w).abs()), (z, w))

    class NoConj(gg.autograd.Function):  # d(z^2) written for real numbers: g * 2z, not g * conj(2z)
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 2 * z

    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(NoConj.apply, (z,))

    class WithConj(NoConj):
        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * (2 * z).conj()

    assert gradcheck(WithConj.apply, (z,))


# ------------------------------------------------------------------ the gate
@pytest.mark.parametrize(
    "call, op",
    [
        (lambda z: gg.relu(z), "relu"),
        # (pow has a twin since round 26; tanh, log, sqrt... since round 30; the inverse trig
        # functions, prod and cumprod since the twenty-first session; sinc since round 57)
        (lambda z: z.erf(), "erf"),
        (lambda z: z.lgamma(), "lgamma"),
        (lambda z: gg.maximum(z, z), "maximum"),
        (lambda z: z.digamma(), "digamma"),
        (lambda z: z.nansum(), "nansum"),
        (lambda z: z.clamp(0, 1), "clamp"),
        (lambda z: gg.nn.functional.softmax(z, -1), None),
    ],
)
def test_the_gate_refuses_ops_without_complex_rules(call, op):
    z = gg.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    with pytest.raises(
        DTypeError,
        match=rf"{op or ''}.*complex tensors are not supported \(input 0 is complex64\); supported: .*mul",
    ):
        call(z)
    with gg.no_grad(), pytest.raises(DTypeError):
        call(z.detach())  # refused whether or not a gradient is recorded: the values may be wrong too


@pytest.mark.parametrize(
    "call", [lambda t: t > 0, lambda t: t <= 1j, lambda t: t.floor(), lambda t: t.sign()]
)
def test_orderings_refuse_complex_tensors_as_pytorch(torch, call):
    with pytest.raises(DTypeError, match="expected real tensors, got complex64"):
        call(gg.tensor([1 + 1j]))
    with pytest.raises(RuntimeError):
        call(torch.tensor([1 + 1j]))
    assert (gg.tensor([1 + 1j]) == 1 + 1j).tolist() == [True]  # equality needs no order


def test_the_gate_refuses_a_complex_output_of_an_op_that_is_not_aware():
    class ToComplex(Primitive):
        register = False

        @staticmethod
        def forward(ctx, a):
            return a.astype(np.complex64)

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(
        DTypeError, match="tocomplex: complex tensors are not supported \\(its output is complex\\)"
    ):
        ToComplex.apply(gg.ones(2, requires_grad=True))


def test_every_twin_and_aware_op_is_in_the_registry_and_named_as_pytorch():
    for base, twin in TWINS.items():
        assert REGISTRY[twin.name] is twin and twin.complex_ok and not base.complex_ok
    z = gg.tensor([1 + 1j], requires_grad=True)
    assert [t.grad_fn.name() for t in (z * z, z / z, z + z, z - z, z.exp(), z.abs(), z @ z)] == [
        "MulBackward0", "DivBackward0", "AddBackward0", "SubBackward0", "ExpBackward0", "AbsBackward0",
        "DotBackward0",
    ]  # fmt: skip
    assert gg.view_as_complex(gg.zeros(1, 2, requires_grad=True)).grad_fn.name() == "ViewAsComplexBackward0"


def _mlp_step(seed):
    gg.manual_seed(seed)
    net = gg.nn.Sequential(gg.nn.Linear(4, 8), gg.nn.ReLU(), gg.nn.Linear(8, 1))
    opt = gg.optim.Adam(net.parameters(), lr=0.01)
    x, y = gg.randn(16, 4), gg.randn(16, 1)
    for _ in range(3):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return loss.item(), [p.detach().numpy().copy() for p in net.parameters()]


def test_real_programs_give_the_same_results_with_the_gate_on():
    seen = dtypes.complex_seen[0]
    try:
        dtypes.complex_seen[0] = False
        before = _mlp_step(1)
        dtypes.complex_seen[0] = True  # as after any complex tensor was made: every op goes through the gate
        after = _mlp_step(1)
    finally:
        dtypes.complex_seen[0] = seen or True
    assert before[0] == after[0]
    for a, b in zip(before[1], after[1]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "birth",
    [
        lambda: gg.tensor([1j]),
        lambda: gg.tensor(np.array([1j])),
        lambda: gg.zeros(2, dtype=gg.complex64),
        lambda: gg.randn(2, dtype=gg.cdouble),
        lambda: gg.full((2,), 1 + 1j),
        lambda: gg.ones(2).to(gg.complex64),
        lambda: gg.ones(2).to(dtype=np.complex128),
        lambda: gg.ones(2) * 1j,
        lambda: gg.from_numpy(np.ones(2, np.complex64)),
        lambda: gg.as_tensor(np.ones(2, np.complex64)),
        lambda: gg.view_as_complex(gg.ones(2)),
        lambda: gg.polar(gg.ones(2), gg.ones(2)),
        lambda: gg.complex(gg.ones(2), gg.ones(2)),
        lambda: gg.zeros(2, dtype=complex),
    ],
)
def test_every_way_complex_data_enters_turns_the_gate_on(birth):
    made = gg.tensor([1j])  # made before the flag is cleared: a pickled one must set it again
    blob = pickle.dumps(made)
    try:
        dtypes.complex_seen[0] = False
        birth()
        assert dtypes.complex_seen[0]
        dtypes.complex_seen[0] = False
        pickle.loads(blob)
        assert dtypes.complex_seen[0]
    finally:
        dtypes.complex_seen[0] = True


# ------------------------------------------------------------------ the engine
def test_backward_needs_a_gradient_for_a_complex_output(torch):
    z = gg.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (z * z).sum().backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        gg.autograd.grad((z * z).sum(), z)
    tz = torch.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (tz * tz).sum().backward()
    (z * z).sum().backward(gg.tensor(1 - 1j))
    (tz * tz).sum().backward(torch.tensor(1 - 1j))
    assert np.allclose(z.grad.numpy(), tz.grad.numpy())


def test_gradients_accumulate_into_complex_leaves_and_real_leaves_stay_real(torch):
    def run(lib):
        z = lib.tensor([1 + 2j, -0.5 + 1j], requires_grad=True)
        x = lib.tensor([0.5, 2.0], requires_grad=True)
        for k in range(2):
            ((z * x + k).abs() ** 2).sum().backward()
        return z.grad.numpy(), x.grad.numpy()

    (gz, gx), (tz, tx) = run(gg), run(torch)
    assert gz.dtype == np.complex64 and gx.dtype == np.float32
    np.testing.assert_allclose(gz, tz, rtol=1e-6)
    np.testing.assert_allclose(gx, tx, rtol=1e-6)


def test_in_place_changes_through_views_of_another_dtype(torch):
    """A float view of a complex tensor changed in place while recording (PyTorch's CopySlices),
    and such a view made before its base changed and read after: both as PyTorch
    (autograd/view_pairs.py); outside recording the change is written through."""

    def run(lib):
        z0 = lib.tensor([1 + 2j, 3 + 4j], dtype=lib.complex128, requires_grad=True)
        z = z0 * 1
        z.real.mul_(3)
        r = lib.view_as_real(z)
        z.mul_(2)  # r's memory changed: its gradient is that of the new z
        (r * r * lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
        return z0.grad.numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-15)
    zz = gg.tensor([1 + 2j, 3 + 4j])
    zz.real.mul_(2)  # outside recording: written through, as PyTorch
    assert zz.tolist() == [2 + 2j, 6 + 4j]


def test_a_user_function_gets_and_gives_complex_gradients(torch):
    def run(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, z, x):
                ctx.save_for_backward(z, x)
                return z * z * x

            @staticmethod
            def backward(ctx, g):
                z, x = ctx.saved_tensors
                gx = g * (z * z).conj()
                return g * (2 * z * x).conj(), (gx if complex_gx else gx.real)

        z = lib.tensor([1 + 2j, 0.5 - 1j], requires_grad=True)
        x = lib.tensor([0.5, -2.0], requires_grad=True)
        lib.view_as_real(Square.apply(z, x)).pow(2).sum().backward()
        return z.grad.numpy(), x.grad.numpy()

    complex_gx = False
    for a, b in zip(run(gg), run(torch)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6)
    complex_gx = True  # a complex gradient for the real argument: refused by both
    with pytest.raises(RuntimeError):
        run(torch)
    with pytest.raises(GraphError, match="expected a real gradient for the real argument 1"):
        run(gg)


# ------------------------------------------------------------------ optimizers and state
def test_sgd_steps_complex_parameters_as_pytorch_and_adafactor_refuses(torch):
    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1 + 2j, -1 + 0.5j]))
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
        for _ in range(3):
            opt.zero_grad()
            ((p * (1 - 1j) - 2j).abs() ** 2).sum().backward()
            opt.step()
        return p.detach().numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-6)
    # (LBFGS takes them, as PyTorch's; Adafactor refuses them, as PyTorch's)
    with pytest.raises(DTypeError, match="Adafactor: complex parameters are not supported .*view_as_complex"):
        gg.optim.Adafactor([gg.nn.Parameter(gg.tensor([1j]))])


class Rope(gg.nn.Module):
    def __init__(self, persistent):
        super().__init__()
        self.lin = gg.nn.Linear(2, 2)
        self.register_buffer("freqs_cis", gg.polar(gg.ones(3), gg.arange(3.0)), persistent=persistent)


def test_complex_buffers_in_state_dicts_and_files(tmp_path, torch):
    kept = Rope(False)
    assert list(kept.state_dict()) == ["lin.weight", "lin.bias"]
    gg.save(kept.state_dict(), tmp_path / "ok.safetensors")  # a non-persistent complex buffer is not saved
    saved = Rope(True)
    gg.save(saved.state_dict(), tmp_path / "rope.safetensors")  # (round 30: stored as its real view)
    assert gg.load(tmp_path / "rope.safetensors")["freqs_cis"].dtype == gg.complex64
    other = Rope(True)
    other.freqs_cis = gg.zeros(
        3, dtype=gg.complex64
    )  # assigning a tensor to a buffer's name keeps it a buffer
    other.load_state_dict(saved.state_dict())
    assert np.array_equal(other.freqs_cis.numpy(), saved.freqs_cis.numpy())
    t = torch.polar(torch.ones(3), torch.arange(3.0))
    other.load_state_dict({**saved.state_dict(), "freqs_cis": t})  # from PyTorch's state dict
    np.testing.assert_allclose(other.freqs_cis.numpy(), t.numpy())
    assert other.to("cpu").double().freqs_cis.dtype == gg.complex64  # double() casts floating tensors only
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        other.to(gg.float64)  # to(dtype) casts complex ones too, as PyTorch
    assert other.freqs_cis.dtype == gg.float64
    assert pickle.loads(pickle.dumps(saved)).freqs_cis.dtype == gg.complex64
