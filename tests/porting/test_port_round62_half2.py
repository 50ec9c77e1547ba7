"""Round 62, float16 optimizer steps bit for bit with PyTorch's single-tensor CPU steps.

PyTorch's non-foreach, non-fused step of a float16 parameter is a chain of float16 tensor ops
(``addcmul_``, ``addcdiv_``, ``lerp_``, ``mul_``, ``add(alpha=)``, ``add`` of a number), each
computed in float32 and rounded to float16 once. Glassgrad's steps wrote the same formulas as NumPy
float16 expressions, which round every product and sum and round a Python number to float16 before
using it: after a few small-gradient steps Adagrad was up to 193 ulps from PyTorch, Adamax 154,
Adadelta 80, RAdam 24, ASGD 10, and about half of the state entries differed. Each test here steps
both libraries from the same float16 values and gradients and compares parameters and every
parameter-shaped state tensor bit for bit (4,096 elements: a multiple of PyTorch's vector width,
so none falls in its scalar tail, which rounds some ops twice).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

N = 4096  # four value ranges of 1,024 elements


def _start() -> tuple[np.ndarray, list[np.ndarray]]:
    """Float16 parameters near 1, small, mixed and large, and five float16 gradients of scales
    1e-3 … 1; a few gradients are exactly 0 (with float16's eps of 0, PyTorch's 0 / 0 is NaN)."""
    rng = np.random.default_rng(62)
    q = N // 4
    p0 = np.concatenate(
        [
            1 + rng.standard_normal(q) * 0.1,
            rng.uniform(1e-4, 1e-3, q),
            rng.standard_normal(q) * 10,
            rng.uniform(1e3, 6e4, q) * rng.choice([-1, 1], q),
        ]
    ).astype(np.float16)
    grads = [(rng.standard_normal(N) * s).astype(np.float16) for s in (1e-3, 1.0, 1e-4, 1e-2, 0.3)]
    grads[0][:5] = 0
    return p0, grads


def _bits_equal(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal to the bit (signs of zeros too), NaN against NaN counting as equal."""
    assert actual.dtype == expected.dtype == np.float16, what
    same = (actual.view(np.int16) == expected.view(np.int16)) | (np.isnan(actual) & np.isnan(expected))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, (
        f"{what}: {bad.size} elements differ, first {bad[:5]}: {actual[bad[:5]]} vs {expected[bad[:5]]}"
    )


def _steps(lib, name: str, kw: dict, steps: int):
    p0, grads = _start()
    p = lib.tensor(p0, requires_grad=True)
    opt = getattr(lib.optim, name)([p], **kw)
    for s in range(steps):
        p.grad = lib.tensor(grads[s % len(grads)])
        opt.step()
    state = {k: v.numpy() for k, v in opt.state[p].items() if tuple(v.shape) == (N,)}
    return p.detach().numpy(), state


CASES = [
    ("Adagrad", {"lr": 0.01}, "default"),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
        "decay_init",
    ),
    ("Adagrad", {"lr": 0.05, "eps": 1e-3, "maximize": True}, "eps_maximize"),
    ("Adamax", {"lr": 1e-3}, "default"),
    ("Adamax", {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.01, "eps": 1e-3}, "betas_decay_eps"),
    ("Adamax", {"lr": 1e-2, "maximize": True}, "maximize"),
    ("Adadelta", {"lr": 1.0}, "default"),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01, "maximize": True}, "rho_decay_maximize"),
    ("RMSprop", {"lr": 1e-3}, "default"),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.5, "centered": True}, "centered_momentum"),
    (
        "RMSprop",
        {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.01, "alpha": 0.9, "eps": 1e-3},
        "momentum_decay",
    ),
    ("RMSprop", {"lr": 1e-2, "centered": True, "maximize": True}, "centered_maximize"),
    ("RAdam", {"lr": 1e-3}, "default"),
    ("RAdam", {"lr": 1e-2, "betas": (0.8, 0.9), "weight_decay": 0.01, "maximize": True}, "decay_maximize"),
    ("RAdam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True}, "decoupled"),
    ("ASGD", {"lr": 0.01}, "default"),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "t0": 0, "weight_decay": 0.01, "maximize": True}, "averaging"),
]


@pytest.mark.parametrize(("name", "kw"), [c[:2] for c in CASES], ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_float16_steps_bit_for_bit_with_torch(torch, name, kw):
    # RAdam takes its rectified step from t = 6 (default β₂) or 8 (β₂ = 0.9): eight steps reach it;
    # ASGD's averaging with t0 = 0 starts at step 3
    steps = 8 if name == "RAdam" else 5
    expected, expected_state = _steps(torch, name, kw, steps)
    actual, actual_state = _steps(gg, name, kw, steps)
    _bits_equal(actual, expected, f"{name} parameter")
    assert sorted(actual_state) == sorted(expected_state)
    for key, value in expected_state.items():
        _bits_equal(actual_state[key], value, f"{name} state {key}")


def test_rmsprop_float16_default_eps_is_zero_as_torch(torch):
    # eps = 1e-8 rounds to 0 in float16, so a coordinate whose square_avg underflows divides by 0:
    # PyTorch's step makes it ±inf (0 / 0: NaN); the same values, not a silently finite answer
    p0 = np.array([1.0, 1.0, 1.0], np.float16)
    g = np.array([1e-4, -1e-4, 0.0], np.float16)  # 0.01 g² = 1e-10 is 0 in float16
    out = []
    for lib in (torch, gg):
        p = lib.tensor(p0, requires_grad=True)
        opt = lib.optim.RMSprop([p], lr=1e-3)
        p.grad = lib.tensor(g)
        opt.step()
        out.append(p.detach().numpy())
    _bits_equal(out[1], out[0], "RMSprop parameter")
    assert np.isneginf(out[1][0]) and np.isposinf(out[1][1]) and np.isnan(out[1][2])


@pytest.mark.parametrize("name", ["Adagrad", "Adamax", "Adadelta", "RMSprop", "RAdam", "ASGD"])
def test_float16_foreach_step_keeps_its_own_path(name):
    # foreach=True is PyTorch's multi-tensor step (other kernels): it keeps the general path, and
    # still steps every float16 parameter in place
    p0, grads = _start()
    p = gg.tensor(p0, requires_grad=True)
    opt = getattr(gg.optim, name)([p], lr=1e-3, foreach=True)
    p.grad = gg.tensor(grads[1])
    opt.step()
    assert p.dtype == gg.float16
    assert not np.array_equal(p.detach().numpy(), p0)
