"""What the ninth round's scripts needed: automatic mixed precision (nanoGPT's train.py, the
performance tuning guide, the amp recipe). ``GradScaler`` is run against PyTorch's step for step
(scales, skipped steps, parameters, ``state_dict``) on a loop whose loss overflows on chosen steps;
``autocast`` against PyTorch's arguments, state and warnings. glassgrad's autocast casts nothing
(docs/design.md), so the region's *outputs* are compared with the same code outside it instead."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.amp import autocast_mode, cpu_amp

from .helpers import assert_same

_OVERFLOW_STEPS = (2, 5, 6)


def _caught(fn):
    """(result or the exception's type and words, the warnings raised as (category, message))."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except Exception as e:  # the type and words are what is compared
            result = (type(e).__name__, str(e))
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def _model_and_data(torch, seed):
    rng = np.random.default_rng(seed)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    x = torch.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    return model, x, y


def script_scaled_training(torch, opt_name, clip):
    model, x, y = _model_and_data(torch, 0)
    opt = getattr(torch.optim, opt_name)(model.parameters(), lr=0.05)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=2)
    out = [scaler.get_scale(), scaler.state_dict(), scaler.is_enabled()]
    for step in range(10):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        if step in _OVERFLOW_STEPS:
            loss = loss * 1e38  # finite; times the scale it is inf in float32
        before = [p.detach().clone() for p in model.parameters()]
        scaler.scale(loss).backward()
        norm = None
        if clip:  # the documented recipe: unscale_, clip the true gradients, step
            scaler.unscale_(opt)
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            if step not in _OVERFLOW_STEPS:
                norm = float(norm)
                grads = [p.grad.clone() for p in model.parameters()]
        ret = scaler.step(opt)
        scaler.update()
        skipped = all(bool((a == b).all()) for a, b in zip(before, model.parameters()))
        row = [step, ret, skipped, scaler.get_scale(), scaler.state_dict()]
        row += [
            [p.detach().clone() for p in model.parameters()],
            norm if step not in _OVERFLOW_STEPS else None,
        ]
        if clip and step not in _OVERFLOW_STEPS:
            row.append(grads)
        out.append(row)
    return out


@pytest.mark.parametrize("clip", [False, True], ids=["plain", "unscale-clip"])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_scaled_training_skips_backs_off_and_grows_as_pytorch(torch, opt_name, clip):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow notes on the inf steps
        ours = script_scaled_training(glassgrad, opt_name, clip)
    theirs = script_scaled_training(torch, opt_name, clip)
    assert_same(ours, theirs)
    rows = ours[3:]
    assert [r[0] for r in rows if r[2]] == list(_OVERFLOW_STEPS)  # exactly those steps skipped
    assert [r[3] for r in rows] == [
        1024.0,
        2048.0,
        1024.0,
        1024.0,
        2048.0,
        1024.0,
        512.0,
        512.0,
        1024.0,
        1024.0,
    ]


def script_growth_saturates(torch):
    """Growth that would overflow float32 leaves the scale alone; backoff still halves it."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**127, growth_factor=4.0, growth_interval=1)
    out = []
    for _ in range(3):
        opt.zero_grad()
        scaler.scale((w * 1e-30).sum()).backward()
        scaler.step(opt)
        scaler.update()
        out.append([scaler.get_scale(), scaler.state_dict()["_growth_tracker"], w.detach().clone()])
    scaler.update(new_scale=3.0)
    out.append(scaler.get_scale())
    scaler.update(new_scale=torch.tensor(5.0))
    out.append(scaler.get_scale())
    out.append(_caught(lambda: scaler.update(new_scale=torch.tensor([1.0, 2.0]))))
    return out


def test_growth_stops_at_float32_and_new_scale_as_pytorch(torch):
    ours = script_growth_saturates(glassgrad)
    assert_same(ours, script_growth_saturates(torch))
    assert ours[0][0] == 2.0**127 and ours[3:5] == [3.0, 5.0]


def script_disabled(torch, make):
    model, x, y = _model_and_data(torch, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler, made = _caught(make)
    loss = ((model(x) - y) ** 2).mean()
    scaled = scaler.scale(loss)
    scaled.backward()
    scaler.unscale_(opt)
    grads = [p.grad.clone() for p in model.parameters()]
    ret = scaler.step(opt)
    scaler.update()
    scaler.load_state_dict({})
    nested = [loss, (loss,)]
    return [
        made, scaler.is_enabled(), scaled is loss, scaler.scale(nested) is nested, ret, grads,
        [p.detach().clone() for p in model.parameters()], scaler.get_scale(), scaler.state_dict(),
        type(scaler).__name__,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.amp.GradScaler(),
        lambda t: t.amp.GradScaler("cuda", init_scale=8.0, growth_factor=1.0),  # not checked when disabled
        lambda t: t.amp.GradScaler("cpu", enabled=False),
        lambda t: t.cuda.amp.GradScaler(),
        lambda t: t.cuda.amp.GradScaler(enabled=False),
    ],
    ids=["amp-cuda", "amp-cuda-bad-factor", "cpu-off", "cuda.amp", "cuda.amp-off"],
)
def test_disabled_scaler_passes_through_with_pytorchs_warnings(torch, make):
    ours = script_disabled(glassgrad, lambda: make(glassgrad))
    assert_same(ours, script_disabled(torch, lambda: make(torch)))
    assert ours[1:5] == [False, True, True, None] and ours[7:9] == [1.0, {}]


def test_cuda_amp_scaler_warns_future_then_disables(torch):
    expected = [
        (
            "FutureWarning",
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. "
            "Please use `torch.amp.GradScaler('cuda', args...)` instead.",
        ),
        ("UserWarning", "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."),
    ]
    ours = _caught(glassgrad.cuda.amp.GradScaler)[1]
    assert ours == _caught(torch.cuda.amp.GradScaler)[1] == expected
    from glassgrad.cuda.amp import GradScaler, autocast  # the import line scripts use

    assert GradScaler is glassgrad.cuda.amp.GradScaler and issubclass(autocast, glassgrad.amp.autocast)
    assert glassgrad.cuda.amp.amp_definitely_not_available() is torch.cuda.amp.amp_definitely_not_available()


def script_misuse(torch):
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=4.0)
    out = [_caught(lambda: scaler.unscale_(opt)), _caught(lambda: scaler.step(opt))]
    out.append(_caught(lambda: scaler.update()))
    out.append(_caught(lambda: scaler.scale(3)))
    out.append(_caught(lambda: torch.amp.GradScaler("cpu", growth_factor=1.0)))
    out.append(_caught(lambda: torch.amp.GradScaler("cpu", backoff_factor=1.0)))
    (scaler.scale(w.sum()) * 1).backward()
    out.append(_caught(lambda: scaler.step(opt, closure=lambda: 0.0)))
    scaler.unscale_(opt)
    out += [w.grad.clone(), _caught(lambda: scaler.unscale_(opt))]
    out.append(_caught(lambda: scaler.step(opt)))
    out += [_caught(lambda: scaler.step(opt)), _caught(lambda: scaler.unscale_(opt))]
    out.append(_caught(lambda: pickle.dumps(scaler))[0][0])  # mid-iteration: refused
    scaler.update()
    other = torch.amp.GradScaler("cpu")
    out.append(_caught(lambda: other.load_state_dict({})))
    other.load_state_dict(scaler.state_dict())
    out += [other.get_scale(), other.state_dict()]
    copy = pickle.loads(pickle.dumps(scaler))
    out += [copy.get_scale(), copy.state_dict(), w.detach().clone()]
    return out


def test_scaler_misuse_raises_as_pytorch(torch):
    ours = script_misuse(glassgrad)
    assert_same(ours, script_misuse(torch))
    assert ours[8][0][0] == "RuntimeError" and "already been called" in ours[8][0][1]


def script_scale_outputs(torch):
    scaler = torch.amp.GradScaler("cpu", init_scale=8.0)
    a, b = torch.tensor([1.0, 2.0]), torch.tensor(3.0, dtype=torch.float64)
    nested = scaler.scale([a, (b, [a])])
    lazy = scaler.scale(iter([a, b]))
    half = scaler.scale(torch.tensor([0.5], dtype=torch.float16))
    return [nested, type(lazy).__name__, list(lazy), half, _caught(lambda: scaler.scale([a, 3]))]


def test_scale_walks_lists_tuples_and_iterables_as_pytorch(torch):
    assert_same(script_scale_outputs(glassgrad), script_scale_outputs(torch))


def script_fp16_grads(torch):
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float16))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    scaler.scale(w.sum())
    w.grad = torch.ones(2, dtype=torch.float16)
    return _caught(lambda: scaler.step(opt))


def test_float16_gradients_refused_as_pytorch(torch):
    ours = script_fp16_grads(glassgrad)
    assert ours == script_fp16_grads(torch) == (("ValueError", "Attempting to unscale FP16 gradients."), [])


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


def script_autocast_state(torch, cpu_amp_mod):
    seen = []
    enabled = getattr(torch.amp, "is_autocast_enabled", None) or torch.is_autocast_enabled
    dtype = getattr(torch.amp, "get_autocast_dtype", None) or torch.get_autocast_dtype

    def probe(tag):
        seen.append([tag, enabled("cpu"), _dtype_name(dtype("cpu"))])

    probe("outside")
    with torch.amp.autocast(device_type="cpu") as ctx:
        probe("bf16")
        with torch.amp.autocast("cpu", enabled=False):
            probe("inner-off")
        with torch.amp.autocast("cpu", dtype=torch.float16):
            probe("fp16")
        probe("bf16-again")
    probe("after")

    @torch.amp.autocast("cpu", dtype=torch.float16)
    def decorated(a):
        probe("decorated")
        return a + 1

    value = decorated(2)
    probe("after-decorated")
    old, made = _caught(lambda: cpu_amp_mod.autocast())
    with old:
        probe("cpu.amp")
    return [seen, value, isinstance(ctx, torch.amp.autocast), ctx._enabled, _dtype_name(ctx.fast_dtype), made]


def test_autocast_context_and_decorator_state_as_pytorch(torch, monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned_no_cast", True)  # the once-warning has its own test
    ours = script_autocast_state(glassgrad, cpu_amp)
    assert ours == script_autocast_state(torch, torch.cpu.amp)
    assert ours[0][1] == ["bf16", True, "bfloat16"] and ours[0][3] == ["fp16", True, "float16"]


def test_autocast_casts_nothing_and_says_so_once(torch, monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned_no_cast", False)
    model, x, _ = _model_and_data(glassgrad, 2)
    plain = model(x)
    region, caught = _caught(lambda: _run_in_autocast(glassgrad, model, x, 2))
    assert [c for c, _ in caught] == ["UserWarning"]  # once, though entered twice
    assert "nothing is cast to bfloat16" in caught[0][1] and "full precision" in caught[0][1]
    assert region[0].dtype == glassgrad.float32
    np.testing.assert_array_equal(region[0].detach().numpy(), plain.detach().numpy())
    # PyTorch casts: the same region gives bfloat16, and warns nothing.
    t_model, t_x, _ = _model_and_data(torch, 2)
    t_region, t_caught = _caught(lambda: _run_in_autocast(torch, t_model, t_x, 2))
    assert t_region[0].dtype == torch.bfloat16 and t_caught == []
    # a disabled region or a float16 one after the first says nothing more
    assert _caught(lambda: _run_in_autocast(glassgrad, model, x, 1, dtype=glassgrad.float16))[1] == []


def _run_in_autocast(torch, model, x, times, dtype=None):
    outs = []
    for _ in range(times):
        with torch.amp.autocast("cpu", dtype=dtype or getattr(torch, "bfloat16", None)):
            outs.append(model(x))
    return outs


def script_autocast_checks(torch):
    out = [_caught(lambda: torch.amp.autocast("cuda")._enabled)]
    out.append(_caught(lambda: torch.amp.autocast("cuda", dtype=torch.float32)._enabled))
    out.append(_caught(lambda: torch.amp.autocast("cpu", dtype=torch.float32)._enabled))
    out.append(_caught(lambda: torch.amp.autocast("cpu", dtype=torch.float64, enabled=False)._enabled))
    out.append(_caught(lambda: torch.amp.autocast(torch.device("cpu")))[0][0])  # the message names the class
    out.append(_caught(lambda: torch.amp.autocast("foo")))
    out.append(_caught(lambda: torch.amp.autocast("meta"))[0][0])  # PyTorch: 'unsupported scalarType'
    out.append(_caught(lambda: torch.amp.autocast("cpu")(3)))
    out.append(_caught(lambda: torch.cuda.amp.autocast()._enabled))
    out.append(_caught(lambda: torch.cuda.amp.autocast(enabled=False)._enabled))
    kinds = ["cpu", "cuda", "mps", "xpu", "meta", "lazy", "hip", "xla"]
    out.append([torch.amp.is_autocast_available(k) for k in kinds])
    out.append(_caught(lambda: torch.amp.is_autocast_available("foo"))[0][0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        region = torch.amp.autocast("cuda")
    with region:
        out.append(torch.amp.is_autocast_enabled("cuda") if hasattr(torch.amp, "is_autocast_enabled") else 0)
    return out


def test_autocast_checks_and_warnings_as_pytorch(torch):
    ours = script_autocast_checks(glassgrad)
    theirs = script_autocast_checks(torch)
    theirs[-1] = torch.is_autocast_enabled("cuda")  # torch.amp has no is_autocast_enabled
    # PyTorch names its dtypes torch.bfloat16, torch.float16; glassgrad its own.
    unsupported = "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
    assert ours[2] == (False, [("UserWarning", unsupported + "CPU Autocast only supports dtypes of "
                                "bfloat16, glassgrad.float16 currently.")])  # fmt: skip
    assert theirs[2][1][0][1].startswith(unsupported)
    ours[2] = theirs[2] = None
    assert ours == theirs
    assert ours[0] == (
        False,
        [("UserWarning", "CUDA is not available or torch_xla is imported. Disabling autocast.")],
    )


def script_custom_fwd(torch, cast):
    enabled = getattr(torch.amp, "is_autocast_enabled", None) or torch.is_autocast_enabled
    seen = []

    class Square(torch.autograd.Function):
        @staticmethod
        @torch.amp.custom_fwd(device_type="cpu", cast_inputs=cast)
        def forward(ctx, a):
            ctx.save_for_backward(a)
            seen.append(["forward", enabled("cpu"), a.dtype])
            return a * a

        @staticmethod
        @torch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            seen.append(["backward", enabled("cpu")])
            return 2 * a * g

    a = torch.tensor([1.5, -2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # glassgrad's once-warning
        with torch.amp.autocast("cpu", dtype=torch.float16):
            y = Square.apply(a)
    y.sum().backward()
    return [y, seen, a.grad]


@pytest.mark.parametrize("cast", ["float32", None])
def test_custom_fwd_bwd_as_pytorch(torch, cast):
    ours = script_custom_fwd(glassgrad, cast and glassgrad.float32)
    theirs = script_custom_fwd(torch, cast and torch.float32)
    assert_same(ours, theirs)  # an elementwise multiply, which PyTorch's autocast leaves in float32
    assert ours[1] == [["forward", cast is None, glassgrad.float32], ["backward", cast is None]]


def test_top_level_aliases_are_pytorchs(torch):
    """``torch.autocast`` and ``torch.GradScaler`` are ``torch.amp``'s; glassgrad's the same."""
    assert torch.autocast is torch.amp.autocast and torch.GradScaler is torch.amp.GradScaler
    assert glassgrad.autocast is glassgrad.amp.autocast
    assert glassgrad.GradScaler is glassgrad.amp.GradScaler
    assert glassgrad.is_autocast_enabled is glassgrad.amp.is_autocast_enabled
    assert glassgrad.get_autocast_dtype is glassgrad.amp.get_autocast_dtype
