"""Round 65, a differential fuzz of ``torch.nn.utils`` over short training loops (parametrize,
the parametrizations and the old hooks, prune, gradient clipping, fusion, functional_call).
Pinned here: ``parametrizations.spectral_norm`` of a complex weight. PyTorch's power iteration
runs ``v = normalize(W^H u)`` and takes ``sigma = vdot(u, W v)`` (conjugating ``u``); glassgrad
used ``W^T`` and ``dot``, so sigma came out complex and not the largest singular value: the
normalised weight, the outputs, the gradients and the ``_u``/``_v`` buffers all differed
silently from PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

# PyTorch warns that complex modules are experimental, at every .to(complex)
pytestmark = pytest.mark.filterwarnings("ignore:Complex modules are a new feature:UserWarning")

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
SINGLE = {"rtol": 2e-4, "atol": 2e-5}


def _state(lib, module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _complex_input(rng, shape, np_dtype):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np_dtype)


def _spectral_program(lib, make, x_shape, dtype_name, state, steps=3, **kwargs):
    """A complex layer under ``parametrizations.spectral_norm``, trained with Adam for ``steps``;
    starts from ``state`` (PyTorch's, ``_u``/``_v`` included) when given. Returns the starting
    state and, per step, the output, the loss, every gradient, parameter and buffer."""
    dtype = getattr(lib, dtype_name)
    np_dtype = np.complex128 if dtype_name == "complex128" else np.complex64
    lib.manual_seed(0)
    module = make(lib).to(dtype)
    lib.nn.utils.parametrizations.spectral_norm(module, **kwargs)
    if state is not None:
        module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    start = _state(lib, module)
    optimizer = lib.optim.Adam(module.parameters(), lr=0.05)
    rng = np.random.default_rng(3)
    record = []
    for _ in range(steps):
        optimizer.zero_grad()
        y = module(lib.tensor(_complex_input(rng, x_shape, np_dtype)))
        loss = (y * y.conj()).real.sum() + y.real.sum()
        loss.backward()
        grads = {n: p.grad for n, p in module.named_parameters()}
        optimizer.step()
        record.append((y, loss, grads, _state(lib, module)))
    return start, record


LAYERS = {
    "linear": (lambda lib: lib.nn.Linear(4, 3), (5, 4), {}),
    "linear_3_power_steps": (lambda lib: lib.nn.Linear(3, 5), (2, 3), {"n_power_iterations": 3}),
    "conv_dim1": (lambda lib: lib.nn.Conv2d(2, 3, 2), (2, 2, 4, 4), {"dim": 1}),
    "conv_transpose": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 2), (2, 2, 3, 3), {}),
}


@pytest.mark.parametrize("dtype_name", ["complex128", "complex64"])
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_complex_spectral_norm_training_matches_torch(torch, layer, dtype_name):
    make, x_shape, kwargs = LAYERS[layer]
    start, theirs = _spectral_program(torch, make, x_shape, dtype_name, None, **kwargs)
    _, ours = _spectral_program(gg, make, x_shape, dtype_name, start, **kwargs)
    assert_same(ours, theirs, **(TIGHT if dtype_name == "complex128" else SINGLE))


def test_complex_spectral_norm_divides_by_the_largest_singular_value(torch):
    """Once the power iteration has converged (it runs 15 steps at registration), the normalised
    weight's largest singular value is 1, as PyTorch's; sigma is real."""
    layer = gg.nn.Linear(5, 4).to(gg.complex128)
    with gg.no_grad():
        rng = np.random.default_rng(7)
        layer.weight.copy_(gg.tensor(_complex_input(rng, (4, 5), np.complex128)))
    gg.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=30)
    weight = layer.weight.detach().numpy()
    original = layer.parametrizations.weight.original.detach().numpy()
    assert np.linalg.svd(weight, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-10)
    ratio = original / weight  # sigma, the same real number in every entry
    np.testing.assert_allclose(ratio, np.linalg.svd(original, compute_uv=False)[0], rtol=1e-10)


def test_real_spectral_norm_unchanged_by_the_conjugates(torch):
    """For a real weight ``W^H`` is ``W^T`` and ``vdot`` is ``dot``: float64 training still
    matches PyTorch's step for step."""

    def program(lib, state):
        lib.manual_seed(0)
        module = lib.nn.Linear(4, 3).double()
        lib.nn.utils.parametrizations.spectral_norm(module, n_power_iterations=2)
        if state is not None:
            module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        start = _state(lib, module)
        optimizer = lib.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(5)
        record = []
        for _ in range(3):
            optimizer.zero_grad()
            y = module(lib.tensor(rng.standard_normal((5, 4))))
            (y**2).sum().backward()
            optimizer.step()
            record.append((y, _state(lib, module)))
        return start, record

    start, theirs = program(torch, None)
    _, ours = program(gg, start)
    assert_same(ours, theirs, **TIGHT)


# ---------------------------------------------------------------- clip_grad_norm_ of float16 grads
HALF = {"rtol": 2e-3, "atol": 1e-4}


def _half_grads(lib, scale):
    """Two float16 parameters whose gradients have a 2-norm of about ``35 * scale``."""
    params = []
    for seed, shape in ((1, (40, 30)), (2, (30,))):
        p = lib.nn.Parameter(lib.zeros(*shape, dtype=lib.float16))
        g = np.random.default_rng(seed).standard_normal(shape) * scale
        p.grad = lib.tensor(g.astype(np.float16))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 3.0, 1.0, float("inf"), 0.0, 0.5])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
def test_clip_grad_norm_of_float16_grads_matches_torch(torch, scale, norm_type):
    """PyTorch sums float16 norms in float32: a 2-norm above 256 (squares past 65504) stays
    finite. glassgrad summed in float16, got inf and clipped every gradient to zero."""
    results = []
    for lib in (torch, gg):
        params = _half_grads(lib, scale)
        total = lib.nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
        results.append((total, [p.grad for p in params]))
    assert_same(results[1], results[0], **HALF)


def test_get_total_norm_of_float16_tensors_matches_torch(torch):
    values = [(np.arange(400.0).reshape(20, 20) - 200.0), np.full(7, 90.0)]
    ours, theirs = (
        lib.nn.utils.get_total_norm([lib.tensor(v.astype(np.float16)) for v in values], 2.0)
        for lib in (gg, torch)
    )
    assert_same(ours, theirs, **HALF)
    assert np.isfinite(ours.item())


def test_float16_model_trains_with_clipping_like_torch(torch):
    """A float16 layer whose loss is scaled up (as before a GradScaler unscales): the clipped
    step is PyTorch's, not a step of zeros."""

    def program(lib):
        layer = lib.nn.Linear(6, 4).half()
        rng = np.random.default_rng(0)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor((rng.standard_normal((4, 6)) * 0.3).astype(np.float16)))
            layer.bias.copy_(lib.tensor((rng.standard_normal(4) * 0.3).astype(np.float16)))
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        record = []
        for _ in range(3):
            optimizer.zero_grad()
            x = lib.tensor(rng.standard_normal((8, 6)).astype(np.float16))
            (layer(x).float().pow(2).sum() * 64.0).backward()
            total = lib.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
            record.append((total, layer.weight.grad, layer.bias.grad))
            optimizer.step()
            record.append((layer.weight, layer.bias))
        return record

    ours, theirs = program(gg), program(torch)
    assert all(np.isfinite(t.item()) for t, *_ in ours[::2])
    # float16's epsilon (9.8e-4) at unit scale: the products round differently step by step; an
    # unclipped or zeroed step is off by the step itself (lr * a unit-norm gradient, ~0.05)
    assert_same(ours, theirs, rtol=1e-2, atol=1e-3)


def test_total_norm_of_complex_grads_is_real_and_matches_torch(torch):
    """The moduli of complex gradients (the float16 path must not square a complex array)."""
    results = []
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.zeros(3, dtype=lib.complex128))
        q = lib.nn.Parameter(lib.zeros(2, dtype=lib.float64))
        p.grad = lib.tensor(np.array([3 + 4j, -1j, 2.0]))
        q.grad = lib.tensor(np.array([1.5, -2.0]))
        results.append([lib.nn.utils.clip_grad_norm_([p, q], 0.5, norm_type=t) for t in (2.0, 3.0, 1.0)])
        results[-1] += [p.grad, q.grad]
    assert_same(results[1], results[0], **TIGHT)


# ---------------------------------------------------------------- the hook-based spectral_norm's dim
@pytest.mark.parametrize("dim", [2, -3, 5])
def test_hook_spectral_norm_bad_dim_is_a_runtime_error_as_torch(torch, dim):
    """PyTorch's hook-based ``spectral_norm`` refuses a dim outside the weight with RuntimeError
    (from its permute); glassgrad raised a bare IndexError, which ``except RuntimeError`` missed.
    Now both, and the module is left as it was."""
    for lib in (torch, gg):
        layer = lib.nn.Linear(3, 4)
        with pytest.raises(RuntimeError):
            lib.nn.utils.spectral_norm(layer, dim=dim)
        assert sorted(n for n, _ in layer.named_parameters()) == ["bias", "weight"]
    with pytest.raises(IndexError, match=r"spectral_norm: expected dim in \[-2, 1\]"):
        gg.nn.utils.spectral_norm(gg.nn.Linear(3, 4), dim=dim)
