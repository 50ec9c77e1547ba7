"""torch.func over PyTorch's OpInfo database, round 66: ``as_strided`` with an explicit
``storage_offset`` inside ``vmap`` (PyTorch's batching rule counts it from the batch's first item;
glassgrad's loop read item 0 for every item), and a transform's running mark left behind when an
exception arrives while the transform starts (every later transform then refused as nested)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.func._levels as levels

# (name, function of (lib, t) or (lib, t, u), inputs of shape (4, 6) made from arange, vmap kwargs)
BASE = np.arange(24.0).reshape(4, 6)
CASES = [
    ("explicit offset", lambda lib, t: t.as_strided((2,), (2,), 1), {}),
    ("no offset", lambda lib, t: t.as_strided((2,), (2,)), {}),
    ("view of the item", lambda lib, t: t[2:].as_strided((2,), (1,), 3), {}),
    ("within the item", lambda lib, t: t.as_strided((2,), (4,), 1), {}),
    ("batch dim 1", lambda lib, t: t.as_strided((2,), (6,), 1), {"in_dims": 1}),
    ("nested", lambda lib, t: lib.func.vmap(lambda u: u.as_strided((1,), (1,), 1))(t.reshape(2, 6)), {}),
    ("as_strided_copy", lambda lib, t: lib.as_strided_copy(t, (2,), (2,), 1), {}),
    ("a fresh tensor", lambda lib, t: (t * 1).as_strided((2,), (2,), 1), {}),
    ("empty result", lambda lib, t: t.as_strided((0,), (1,), 100), {}),
]


def _lib(torch, name):
    return torch if name == "torch" else gg


@pytest.mark.parametrize("name,f,kw", CASES, ids=[c[0] for c in CASES])
def test_vmap_as_strided_offset_counts_from_the_first_item(torch, name, f, kw):
    x = BASE.reshape(2, 2, 6) if name == "nested" else BASE
    want = torch.func.vmap(lambda t: f(torch, t), **kw)(torch.tensor(x))
    got = gg.vmap(lambda t: f(gg, t), **kw)(gg.tensor(x))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_vmap_as_strided_on_an_unmapped_input_keeps_the_absolute_offset(torch):
    u = np.arange(5.0)
    f = lambda lib: lambda t, v: t + v.as_strided((2,), (1,), 1)  # noqa: E731
    want = torch.func.vmap(f(torch), in_dims=(0, None))(torch.tensor(BASE[:, :2]), torch.tensor(u))
    got = gg.vmap(f(gg), in_dims=(0, None))(gg.tensor(BASE[:, :2]), gg.tensor(u))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "f,x",
    [
        (lambda t: t[2:].as_strided((2,), (1,), 1), BASE),  # starts before the item's view
        (lambda t: t.as_strided((2,), (1,), 1), np.arange(30.0)),  # item 0 starts at offset 6
    ],
)
@pytest.mark.parametrize("lib", ["torch", "glassgrad"])
def test_vmap_as_strided_outside_the_item_raises(torch, lib, f, x):
    m = _lib(torch, lib)
    t = m.tensor(x)
    if x.ndim == 1:
        t = t[6:].reshape(4, 6)
    with pytest.raises(RuntimeError, match="outside of `tensor`"):
        m.func.vmap(f)(t)


def test_vmap_grad_through_as_strided_with_an_offset(torch):
    # per-sample gradients: each item's gradient lands on its own elements 1 and 3
    def loss(lib):
        return lambda t: (t.as_strided((2,), (2,), 1) ** 2).sum()

    x = BASE / 7.0
    want = torch.func.vmap(torch.func.grad(loss(torch)))(torch.tensor(x))
    got = gg.vmap(gg.func.grad(loss(gg)))(gg.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15, atol=0)
    loop = np.zeros_like(x)
    loop[:, [1, 3]] = 2 * x[:, [1, 3]]
    np.testing.assert_allclose(got.numpy(), loop, rtol=1e-15, atol=0)


class _InterruptError(Exception):
    pass


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "grad", "vjp"])
def test_an_exception_while_a_transform_starts_leaves_no_mark(monkeypatch, name):
    # a KeyboardInterrupt (or a timeout's signal) arriving while the transform records what its
    # function captured used to leave the transform marked as running: every later transform in
    # the thread then refused as nested inside it
    def interrupted(func, given):
        raise _InterruptError

    x = gg.tensor([0.5, 1.5], dtype=gg.float64)
    with monkeypatch.context() as m:
        m.setattr(levels, "watch_captured", interrupted)
        with pytest.raises(_InterruptError):
            if name == "vjp":
                gg.func.vjp(gg.sin, x)
            else:
                getattr(gg.func, name)(lambda t: gg.sin(t).sum())(x)
    assert levels._active.name is None
    jac = gg.func.jacrev(gg.sin)(x)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos([0.5, 1.5])), rtol=1e-15)


FFT_C2R = [
    ("irfft", {}),
    ("irfft", {"n": 7}),
    ("irfft2", {}),
    ("irfftn", {"s": (3, 6)}),
    ("hfft", {"n": 4, "norm": "ortho"}),
    ("hfft2", {}),
    ("hfftn", {"norm": "forward"}),
]


@pytest.mark.parametrize("name,kw", FFT_C2R, ids=[f"{n}{k}" for n, k in FFT_C2R])
def test_jacfwd_of_the_inverse_real_ffts(torch, name, kw):
    # forward mode had no rule for the complex-to-real FFT: jacfwd / jvp raised where PyTorch runs
    rng = np.random.default_rng(66)
    x, t = rng.standard_normal((2, 4, 5))
    want = torch.func.jacfwd(lambda a: getattr(torch.fft, name)(a, **kw))(torch.tensor(x))
    got = gg.func.jacfwd(lambda a: getattr(gg.fft, name)(a, **kw))(gg.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    _, want_t = torch.func.jvp(
        lambda a: getattr(torch.fft, name)(a, **kw), (torch.tensor(x),), (torch.tensor(t),)
    )
    _, got_t = gg.func.jvp(lambda a: getattr(gg.fft, name)(a, **kw), (gg.tensor(x),), (gg.tensor(t),))
    np.testing.assert_allclose(got_t.numpy(), want_t.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib", ["torch", "glassgrad"])
@pytest.mark.parametrize("where", [0, 1])
def test_jacrev_refuses_a_complex_output(torch, lib, where):
    # glassgrad returned the Jacobian of the real part, dropping the imaginary part without a word
    m = _lib(torch, lib)
    x = m.tensor([1.0, 2.0, 0.5], dtype=m.float64)
    f = (lambda t: m.fft.fft(t)) if where == 0 else (lambda t: (t * 2, m.fft.fft(t)))
    with pytest.raises(
        RuntimeError, match=f"outputs to be real but received complex tensor at flattened input idx: {where}"
    ):
        m.func.jacrev(f)(x)


def test_jacrev_of_the_real_view_of_a_complex_output(torch):
    # what PyTorch's message points to works: the real and imaginary parts as a real tensor
    x = np.array([1.0, 2.0, 0.5])
    want = torch.func.jacrev(lambda t: torch.view_as_real(torch.fft.fft(t)))(torch.tensor(x))
    got = gg.func.jacrev(lambda t: gg.view_as_real(gg.fft.fft(t)))(gg.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14, atol=1e-14)


BN_X = np.random.default_rng(6).standard_normal((3, 4, 2))


@pytest.mark.parametrize("how", ["captured", "in_dim None"])
@pytest.mark.parametrize("lib", ["torch", "glassgrad"])
def test_vmap_refuses_a_batch_norm_update_of_unbatched_running_stats(torch, lib, how):
    # glassgrad's loop updated the running statistics once per item (compounded), silently:
    # batch norm's write moves no version, so vmap's check of what func captured missed it
    m = _lib(torch, lib)
    rm, rv = m.zeros(2, dtype=m.float64), m.ones(2, dtype=m.float64)
    if how == "captured":
        f, args, dims = (lambda t: m.nn.functional.batch_norm(t, rm, rv, training=True)), (), 0
    else:
        f, args, dims = (
            (lambda t, a, b: m.nn.functional.batch_norm(t, a, b, training=True)),
            (rm, rv),
            (0, None, None),
        )
    with pytest.raises(RuntimeError, match="running_mean or running_var, which will be updated in place"):
        m.func.vmap(f, in_dims=dims)(m.tensor(BN_X), *args)
    np.testing.assert_array_equal(rm.numpy(), np.zeros(2))


def test_vmap_batch_norm_with_batched_running_stats_updates_each_item(torch):
    # running statistics mapped with the input: each item updates its own row, as PyTorch
    def run(m):
        rm, rv = m.zeros(3, 2, dtype=m.float64), m.ones(3, 2, dtype=m.float64)
        out = m.func.vmap(lambda t, a, b: m.nn.functional.batch_norm(t, a, b, training=True, momentum=0.3))(
            m.tensor(BN_X), rm, rv
        )
        return out.numpy(), rm.numpy(), rv.numpy()

    for got, want in zip(run(gg), run(torch), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # and against a loop over the batch, each item its own running statistics
    rm = np.zeros((3, 2))
    for i in range(3):
        rm[i] = 0.3 * BN_X[i].mean(0)
    np.testing.assert_allclose(run(gg)[1], rm, rtol=1e-12, atol=1e-15)


def test_vmap_batch_norm_module_without_running_stats_still_maps(torch):
    # the documented way out (track_running_stats=False, replace_all_batch_norm_modules_) runs
    outs = []
    for m in (torch, gg):
        m.manual_seed(0)
        bn = m.nn.BatchNorm1d(2, dtype=m.float64)
        m.func.replace_all_batch_norm_modules_(bn)
        outs.append(m.func.vmap(bn)(m.tensor(BN_X)).detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12, atol=1e-14)
