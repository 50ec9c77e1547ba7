"""Complex tensors, second look (a review of the complex-autograd commit), with PyTorch as the
oracle: the paths that gave a silently wrong value or gradient (vdot without its conjugate,
nan_to_num leaving complex NaNs, complex to bool, a complex number written into a real tensor,
NumPy's lexicographic order of complex numbers, a complex result into a real ``out=`` or seed),
the ways complex data entered without turning the complex gate on (DataLoader collation, shared
memory), and refusals that name the op the user called."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import dtypes
from glassgrad.errors import DTypeError

A = np.array([1 + 2j, -0.5 + 1j, 0.3 - 0.7j])
B = np.array([0.2 - 1j, 1 + 0.5j, -2 + 0.1j])
DTYPES = ["complex64", "complex128"]
TOL = {"complex64": dict(rtol=2e-5, atol=2e-6), "complex128": dict(rtol=1e-12, atol=1e-12)}


def _pair(lib, dtype):
    dt = getattr(lib, dtype)
    return lib.tensor(A, dtype=dt, requires_grad=True), lib.tensor(B, dtype=dt, requires_grad=True)


def _np(t):
    return t.detach().numpy().copy()


@pytest.fixture
def gate_off():
    """Clear the complex gate's flag for a test of where complex data enters; turned on again after."""
    dtypes.complex_seen[0] = False
    yield
    dtypes.complex_seen[0] = True


# ------------------------------------------------------------------ silently wrong values
@pytest.mark.parametrize("dtype", DTYPES)
def test_vdot_conjugates_its_first_argument_as_pytorch(torch, dtype):
    """vdot(a, b) = sum(conj(a) b): it was a @ b, a wrong value and wrong gradients."""
    out = []
    for lib in (gg, torch):
        a, b = _pair(lib, dtype)
        y = lib.vdot(a, b)
        (y.real * 0.7 + y.imag * 1.3).backward()
        out.append([_np(y), _np(a.grad), _np(b.grad)])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, **TOL[dtype])
    assert gg.vdot(gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0])).item() == 11.0  # real: no change


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_to_num_replaces_in_both_parts_of_a_complex_tensor(torch, dtype):
    inf, nan = float("inf"), float("nan")
    data = [complex(nan, 1), complex(2, inf), complex(-inf, nan), 1 - 2j]
    for kw in ({}, {"nan": 1.5, "posinf": 9.0, "neginf": -9.0}):
        ours = gg.nan_to_num(gg.tensor(data, dtype=getattr(gg, dtype)), **kw)
        theirs = torch.nan_to_num(torch.tensor(data, dtype=getattr(torch, dtype)), **kw)
        assert ours.dtype == getattr(gg, dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    z = gg.tensor(data, dtype=getattr(gg, dtype), requires_grad=True)
    y = gg.nan_to_num(z, posinf=9.0, neginf=-9.0)
    (y.real * 2 + y.imag * 3).sum().backward()  # each part passes its gradient where it was finite
    np.testing.assert_array_equal(z.grad.numpy(), [3j, 2, 0, 2 + 3j])


def test_complex_to_bool_is_nonzero_as_pytorch(torch):
    data = [1j, 0j, 2 + 0j, complex(0, -0.0)]
    expected = torch.tensor(data).bool().tolist()
    assert expected == [True, False, True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "discards the imaginary part" warning: nothing is lost
        assert gg.tensor(data).bool().tolist() == expected
        assert gg.tensor(data).to(gg.bool).tolist() == expected
    assert gg.zeros(4, dtype=gg.bool).copy_(gg.tensor(data)).tolist() == expected


REFUSED_SCALARS = {
    "fill_": lambda lib, v: lib.zeros(2).fill_(v),
    "full": lambda lib, v: lib.full((2,), v, dtype=lib.float32),
    "full_like": lambda lib, v: lib.full_like(lib.zeros(2), v),
    "new_full": lambda lib, v: lib.zeros(2).new_full((2,), v),
    "masked_fill": lambda lib, v: lib.zeros(2).masked_fill(lib.tensor([True, False]), v),
    "masked_fill_": lambda lib, v: lib.zeros(2).masked_fill_(lib.tensor([True, False]), v),
    "clamp": lambda lib, v: lib.zeros(2).clamp(v),
    "setitem": lambda lib, v: lib.zeros(2).__setitem__(0, v),
    "pad": lambda lib, v: lib.nn.functional.pad(lib.zeros(2), (1, 1), value=v),
    "int fill_": lambda lib, v: lib.zeros(2, dtype=lib.int64).fill_(v),
}


@pytest.mark.parametrize("name", sorted(REFUSED_SCALARS))
def test_a_complex_number_into_a_real_tensor_is_refused_unless_its_imaginary_part_is_zero(torch, name):
    """NumPy kept the real part of 1j (0) silently; PyTorch refuses a non-zero imaginary part and
    writes the real part of 2+0j."""
    call = REFUSED_SCALARS[name]
    with pytest.raises((RuntimeError, TypeError)):  # (PyTorch's pad takes a float value alone)
        call(torch, 1j)
    with pytest.raises(DTypeError, match="1j cannot be converted to type glassgrad.(float32|int64)"):
        call(gg, 1j)
    if name not in ("setitem", "pad"):
        assert call(gg, 2 + 0j).tolist() == call(torch, 2 + 0j).tolist()
    for lib in (gg, torch):  # into a bool tensor a complex number is its truth
        assert lib.zeros(2, dtype=lib.bool).fill_(1j).tolist() == [True, True]


def test_complex_python_data_for_a_real_dtype_is_refused_as_pytorch(torch):
    for data in ([1j, 2.0], [[2 + 0j]]):
        with pytest.raises(TypeError, match="must be real number, not complex"):
            torch.tensor(data, dtype=torch.float32)
        with pytest.raises(TypeError, match="must be real number, not complex"):
            gg.tensor(data, dtype=gg.float32)
        with pytest.raises(TypeError, match="must be real number, not complex"):
            gg.zeros(1).new_tensor(data)
    assert gg.tensor([1j, 0j], dtype=gg.bool).tolist() == torch.tensor([1j, 0j], dtype=torch.bool).tolist()
    with warnings.catch_warnings():  # a complex array or tensor is cast (real part, with a warning)
        warnings.simplefilter("ignore")
        ours = gg.tensor(np.array([1 + 1j, 2j]), dtype=gg.float32).tolist()
        assert ours == torch.tensor(np.array([1 + 1j, 2j]), dtype=torch.float32).tolist() == [1.0, 0.0]


ORDERED = {
    "argmax": lambda lib, z: z.argmax(),
    "argmin": lambda lib, z: lib.argmin(z, 0),
    "max": lambda lib, z: z.max(0),
    "min": lambda lib, z: lib.min(z, 0),
    "sort": lambda lib, z: z.sort(),
    "topk": lambda lib, z: z.topk(1),
    "msort": lambda lib, z: lib.msort(z),
    "cummax": lambda lib, z: z.cummax(0),
    "cummin": lambda lib, z: lib.cummin(z, 0),
    "unique": lambda lib, z: lib.unique(z),
    "trunc": lambda lib, z: lib.trunc(z),
    "fix": lambda lib, z: z.fix(),  # (trunc's other name: PyTorch's error names trunc too)
    "sign": lambda lib, z: z.sign(),  # (sgn takes complex tensors: z / |z|, as PyTorch)
    "signbit": lambda lib, z: lib.signbit(z),
    "floor_divide": lambda lib, z: z // 2,
    "remainder": lambda lib, z: z % 2,
    "fmod": lambda lib, z: lib.fmod(z, 2),
    "trunc_divide": lambda lib, z: lib.div(z, 2, rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_ops_that_need_an_order_refuse_complex_tensors_naming_themselves(torch, name):
    """NumPy orders complex numbers lexicographically (argmax, argmin gave an index, trunc and fix
    gave the input back), or fails with a TypeError of its own; PyTorch refuses."""
    call = ORDERED[name]
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch, torch.tensor([1 + 1j, 1 - 1j]))
    named = "trunc" if name == "fix" else name
    with pytest.raises(DTypeError, match=rf"^{named}: expected real tensors, got complex64"):
        call(gg, gg.tensor([1 + 1j, 1 - 1j]))


def test_clip_grad_value_refuses_complex_gradients(torch):
    """np.clip of complex values clipped the real part and dropped the imaginary one."""
    for lib in (gg, torch):
        p = lib.nn.Parameter(lib.tensor(A))
        (p * lib.tensor(B)).real.sum().backward()
        with pytest.raises((DTypeError, NotImplementedError), match="clip_grad_value_|clamp"):
            lib.nn.utils.clip_grad_value_([p], 0.5)


OUTS = {
    "mul": lambda lib, z: lib.mul(z, 2, out=lib.zeros(2)),
    "add": lambda lib, z: lib.add(z, 2, out=lib.zeros(2)),
    "exp": lambda lib, z: lib.exp(z, out=lib.zeros(2)),
    "cat": lambda lib, z: lib.cat([z], out=lib.zeros(2)),
    "mm": lambda lib, z: lib.mm(z[None], z[:, None], out=lib.zeros(1, 1)),
    "vdot": lambda lib, z: lib.vdot(z, z, out=lib.zeros(())),
}


@pytest.mark.parametrize("name", sorted(OUTS))
def test_a_complex_result_into_a_real_out_is_refused(torch, name):
    with pytest.raises((RuntimeError, TypeError)):
        OUTS[name](torch, torch.tensor([1j, 1.0]))
    with pytest.raises(
        DTypeError, match="complex64 can't be cast to the desired output type glassgrad.float32"
    ):
        OUTS[name](gg, gg.tensor([1j, 1.0]))
    assert gg.mul(gg.tensor([1.0, 2.0]), 2, out=gg.zeros(2, dtype=gg.complex64)).tolist() == [2, 4]


def test_a_complex_seed_for_a_real_output_is_refused(torch):
    """The seed was cast to the output's dtype: its imaginary part vanished from every gradient."""
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError if lib is torch else DTypeError, match="same dtype"):
            (x * 2).backward(lib.tensor([1j, 1.0]))
        with pytest.raises(RuntimeError if lib is torch else DTypeError, match="same dtype"):
            lib.autograd.grad(x * 2, x, grad_outputs=lib.tensor([1j, 1.0]))


def test_float_power_with_a_complex_operand_computes_in_complex128_as_torch(torch):
    """float_power once cast its inputs to float64 (a complex input lost its imaginary part), then
    refused them; PyTorch computes in complex128 when either operand is complex, with pow's
    gradients (cast back to each input's dtype)."""
    r = np.array([1.5, -2.0, 0.25])

    def run(lib):
        a = lib.tensor(A.astype(np.complex64), requires_grad=True)
        b = lib.tensor(B, requires_grad=True)
        x = lib.tensor(r, dtype=lib.float32, requires_grad=True)
        outs = [
            lib.float_power(a, b), lib.float_power(a, 2), lib.float_power(x, b), lib.float_power(x, 1j),
            lib.float_power(2 + 1j, x), lib.float_power(a, x), lib.float_power(a, np.complex128(0.5 - 1j)),
        ]  # fmt: skip
        sum(o.abs().sum() for o in outs).backward()
        return [o.detach().numpy() for o in outs] + [a.grad.numpy(), b.grad.numpy(), x.grad.numpy()]

    for got, want in zip(run(gg), run(torch), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype.itemsize <= 8 else 1e-13)


@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian_of_a_complex_input_keeps_its_imaginary_parts(torch, dtype):
    """Its rows were stored in the (real) output's dtype: the imaginary parts were dropped."""
    out = []
    for lib in (gg, torch):
        z = lib.tensor(A, dtype=getattr(lib, dtype))
        out.append(lib.autograd.functional.jacobian(lambda t: (t * t * 1.5).real, z))
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
            lib.autograd.functional.jacobian(lambda t: t * 2j, z)  # real one-hot seeds: conj(dy/dz)
    assert out[0].dtype == getattr(gg, dtype)
    np.testing.assert_allclose(out[0].numpy(), out[1].numpy(), **TOL[dtype])


HOOKS = {
    "non-leaf, complex for real": (
        lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
        lambda t: t * 2,
        1 + 1j,
    ),
    "leaf, complex for real": (lambda lib: lib.tensor([1.0, 2.0], requires_grad=True), lambda t: t, 1 + 1j),
    "non-leaf, real for complex": (
        lambda lib: lib.tensor([1j, 2.0], requires_grad=True),
        lambda t: t * 2,
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_a_tensor_hook_that_changes_real_to_complex_is_refused(torch, name):
    """A hook's complex gradient for a real tensor was cast back: its imaginary part vanished."""
    make, use, factor = HOOKS[name]
    for lib in (gg, torch):
        x = make(lib)
        y = use(x)
        y.register_hook(lambda g: g * factor if factor is not None else g.real)
        with pytest.raises(
            RuntimeError if lib is torch else DTypeError, match="has changed the type of value"
        ):
            (y * 2).real.sum().backward() if y.is_complex() else (y * 2).sum().backward()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diag_of_a_complex_vector_matches_torch(torch, dtype, offset):
    """diag's scatter has no complex rule: it was refused, naming scatter."""
    out = []
    w = np.random.default_rng(0).normal(size=(3 + abs(offset), 3 + abs(offset), 2))
    for lib in (gg, torch):
        z, _ = _pair(lib, dtype)
        d = lib.diag(z, offset)
        (lib.view_as_real(d) * lib.tensor(w, dtype=d.real.dtype)).sum().backward()
        out.append([_np(d), _np(z.grad)])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, **TOL[dtype])


def test_a_numpy_complex_scalar_is_weak_as_a_python_one(torch):
    for lib in (gg, torch):
        assert str(lib.mul(lib.tensor([1, 2]), np.complex128(1j)).dtype).endswith("complex64")
        assert str(lib.mul(lib.tensor([1.0]), np.complex128(1j)).dtype).endswith("complex64")
    # (PyTorch keeps the real part of a NumPy complex scalar beside a complex tensor: not compared)
    assert gg.mul(gg.tensor([1j], dtype=gg.complex128), np.complex64(1)).dtype == gg.complex128


FILLS = {
    "normal_": lambda lib, t: t.normal_(1.0, 2.0),
    "uniform_": lambda lib, t: t.uniform_(-1.0, 3.0),
    "init.normal_": lambda lib, t: lib.nn.init.normal_(t, 1.0, 2.0),
    "init.uniform_": lambda lib, t: lib.nn.init.uniform_(t, -1.0, 3.0),
}


@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_fills_draw_both_parts_of_a_complex_tensor_as_pytorch(torch, name, dtype):
    """They drew the real part alone (the imaginary part stayed 0), so ``nn.Linear(...,
    dtype=complex64)`` started from real weights; PyTorch fills ``view_as_real(t)``: each part
    U(a, b), or N(mean, std^2 / 2)."""
    stats = []
    for lib in (gg, torch):
        lib.manual_seed(0)
        t = FILLS[name](lib, lib.empty(40000, dtype=getattr(lib, dtype)))
        assert t.dtype == getattr(lib, dtype)
        parts = np.stack([t.real.numpy(), t.imag.numpy()])
        stats.append(np.concatenate([parts.mean(1), parts.std(1), parts.min(1), parts.max(1)]))
    np.testing.assert_allclose(stats[0][:4], stats[1][:4], atol=0.03)  # means and standard deviations
    if "uniform" in name:
        np.testing.assert_allclose(stats[0][4:], stats[1][4:], atol=0.01)  # the bounds
    gg.manual_seed(0)
    w = gg.nn.Linear(4, 3, dtype=getattr(gg, dtype)).weight
    assert (w.imag != 0).all() and (w.real.abs() <= 0.5).all() and (w.imag.abs() <= 0.5).all()


# ------------------------------------------------------------------ where complex data enters
def test_dataloader_collation_turns_the_gate_on(gate_off):
    """A batch of complex NumPy samples made complex tensors the gate did not know of: a supported
    op (mul) was then refused ("its output is complex"), an op without a rule judged by its output."""
    from glassgrad.utils.data import DataLoader, default_collate, default_convert

    for make in (
        lambda: default_collate([A, B]),
        lambda: default_collate([np.complex64(1j), np.complex64(2)]),
        lambda: default_convert(A),
        lambda: next(iter(DataLoader([A, B], batch_size=2))),
    ):
        dtypes.complex_seen[0] = False
        z = make().requires_grad_()
        assert dtypes.complex_seen[0]
        (z * z).real.sum().backward()  # mul's complex twin, not a refusal
        with pytest.raises(DTypeError, match="erf: complex tensors are not supported"):
            z.erf()  # (sigmoid has a complex twin since round 30, asinh since the twenty-first session)


def test_a_shared_complex_tensor_received_from_another_process_turns_the_gate_on(gate_off):
    import glassgrad.multiprocessing as gmp

    t = gg.tensor(A).share_memory_()
    rebuild, args = gmp._reduce_tensor(t)  # what a child process runs on receiving t
    dtypes.complex_seen[0] = False
    assert rebuild(*args).is_complex() and dtypes.complex_seen[0]
