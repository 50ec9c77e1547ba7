"""Round 60, dtypes meeting inside ``nn`` and ``optim`` (follow-ups of the dtype battery), each
against PyTorch:

- Optimizer state made before ``model.double()`` (``.float()``, ``.half()``) keeps its dtype.
  PyTorch's Adam, AdamW, Adamax, NAdam, RAdam, centered RMSprop and Adafactor then stop in
  ``lerp_`` ("expected dtype float for `end` but got dtype double"), and LBFGS stops in ``dot``.
  glassgrad stepped on and silently rounded the update to the state's old dtype. SGD, plain
  RMSprop, Adagrad, Adadelta, ASGD and Rprop run in both libraries, with the same state dtypes.
- Pools, ``interpolate``, ``grid_sample``, batch and instance norm with an integer (or bool) input
  raised a ``DTypeError``; PyTorch raises ``NotImplementedError`` (its kernel names the dtype).
  ``affine_grid`` with an integer theta: ``ValueError``. Integer masks in MultiheadAttention and
  the encoder layers: ``AssertionError``.
- ``embedding_bag`` promotes ids and offsets to their common dtype, as PyTorch does: bool ids
  beside int64 offsets, and bool offsets beside integer ids, were refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

X = np.random.default_rng(0).standard_normal((5, 3))
NP = {"f32": np.float32, "f64": np.float64, "f16": np.float16}
CAST = {"f32": "float", "f64": "double", "f16": "half"}

OPTIMIZERS = [
    "SGD(ps, lr=0.1, momentum=0.9)",
    "SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)",
    "Adam(ps, lr=0.01)",
    "AdamW(ps, lr=0.01, amsgrad=True)",
    "RMSprop(ps, lr=0.01)",
    "RMSprop(ps, lr=0.01, centered=True, momentum=0.5)",
    "Adagrad(ps, lr=0.1)",
    "Adadelta(ps)",
    "Adamax(ps)",
    "NAdam(ps)",
    "RAdam(ps)",
    "ASGD(ps)",
    "Rprop(ps)",
    "Adafactor(ps)",
    "LBFGS(ps)",
]
CHANGES = [("f32", "f64"), ("f64", "f32"), ("f32", "f16")]


def _net(lib, torch):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    m.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return m


def _train(lib, m, opt, dt, steps):
    x = lib.tensor(X.astype(NP[dt]))

    def closure():
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _tol(*dts):
    return 1e-2 if "f16" in dts else 1e-5  # the rounding of the narrowest dtype that took a step


def _run_change(lib, torch, spec, a, b):
    """Steps in dtype a, converts the model to b, steps again: (error or None, model, optimizer)."""
    m = _net(lib, torch)
    getattr(m, CAST[a])()
    opt = eval("lib.optim." + spec, {"lib": lib, "ps": m.parameters()})
    _train(lib, m, opt, a, 1)
    getattr(m, CAST[b])()
    try:
        _train(lib, m, opt, b, 2)
    except RuntimeError as e:
        return e, m, opt
    return None, m, opt


@pytest.mark.parametrize(("a", "b"), CHANGES, ids=[f"{a}-{b}" for a, b in CHANGES])
@pytest.mark.parametrize("spec", OPTIMIZERS)
def test_step_after_a_dtype_change_raises_or_runs_as_pytorch(torch, spec, a, b):
    ours, m, opt = _run_change(gg, torch, spec, a, b)
    theirs, tm, topt = _run_change(torch, torch, spec, a, b)
    assert (ours is None) == (theirs is None), (ours, theirs)
    if theirs is not None:
        assert str(ours) == str(theirs)  # PyTorch's words (lerp_'s or dot's)
        return
    for p, q in zip(m.parameters(), tm.parameters()):
        assert str(p.dtype)[10:] == str(q.dtype)[6:]
        np.testing.assert_allclose(_np(p), _np(q), rtol=_tol(a, b), atol=_tol(a, b))
    for st, tst in zip(opt.state.values(), topt.state.values()):
        for key, value in tst.items():
            if isinstance(value, torch.Tensor):  # the state keeps its dtype, as PyTorch's
                assert str(st[key].dtype)[10:] == str(value.dtype)[6:], key
                np.testing.assert_allclose(_np(st[key]), _np(value), rtol=_tol(a, b), atol=_tol(a, b))


def _loaded(lib, torch, spec, a, b):
    m = _net(lib, torch)
    getattr(m, CAST[a])()
    opt = eval("lib.optim." + spec, {"lib": lib, "ps": list(m.parameters())})
    _train(lib, m, opt, a, 2)
    sd = opt.state_dict()
    m2 = _net(lib, torch)
    getattr(m2, CAST[b])()
    opt2 = eval("lib.optim." + spec, {"lib": lib, "ps": list(m2.parameters())})
    opt2.load_state_dict(sd)
    loaded = {(i, k): v for i, st in opt2.state.items() for k, v in st.items() if isinstance(v, lib.Tensor)}
    _train(lib, m2, opt2, b, 1)
    return loaded, m2


@pytest.mark.parametrize(("a", "b"), [("f32", "f64"), ("f64", "f32")], ids=["f32-f64", "f64-f32"])
@pytest.mark.parametrize("spec", [s for s in OPTIMIZERS if "LBFGS" not in s and "Adafactor" not in s])
def test_load_state_dict_across_dtypes_casts_state_as_pytorch(torch, spec, a, b):
    ours, m = _loaded(gg, torch, spec, a, b)
    theirs, tm = _loaded(torch, torch, spec, a, b)
    assert len(ours) == len(theirs)
    for (_, key), value in theirs.items():
        mine = [v for (_, k), v in ours.items() if k == key]
        assert mine and all(str(v.dtype)[10:] == str(value.dtype)[6:] for v in mine), key
    for p, q in zip(m.parameters(), tm.parameters()):
        assert str(p.dtype)[10:] == str(q.dtype)[6:]
        np.testing.assert_allclose(_np(p), _np(q), rtol=1e-5, atol=1e-6)


def test_adam_refuses_before_rounding_into_old_state():
    # glassgrad rounded the float64 gradient into float32 moments and stepped on
    w = gg.nn.Parameter(gg.ones(3))
    opt = gg.optim.Adam([w], lr=0.1)
    w.grad = gg.ones(3)
    opt.step()
    w.data = w.data.double()
    w.grad = gg.ones(3, dtype=gg.float64)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        opt.step()
    assert opt.state[w]["exp_avg"].dtype == gg.float32


# ---- integer inputs PyTorch's kernels refuse: NotImplementedError ------------------------------

POOLS = [
    ("avg_pool1d", 1, {"kernel_size": 2}),
    ("avg_pool2d", 2, {"kernel_size": 2}),
    ("avg_pool3d", 3, {"kernel_size": 2}),
    ("max_pool1d", 1, {"kernel_size": 2}),
    ("max_pool2d", 2, {"kernel_size": 2}),
    ("adaptive_avg_pool1d", 1, {"output_size": 2}),
    ("adaptive_avg_pool2d", 2, {"output_size": 2}),
    ("adaptive_avg_pool3d", 3, {"output_size": 2}),
    ("adaptive_max_pool1d", 1, {"output_size": 2}),
    ("adaptive_max_pool2d", 2, {"output_size": 2}),
    ("adaptive_max_pool3d", 3, {"output_size": 2}),
    ("lp_pool2d", 2, {"norm_type": 2, "kernel_size": 2}),
]


def _refused_alike(torch, fn, words=True):
    """Both libraries raise, glassgrad an instance of PyTorch's class (with PyTorch's message inside)."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as ours:
        fn(gg)
    assert not words or str(theirs.value).split("\n")[0] in str(ours.value)


# the pairs PyTorch takes (max_pool2d: signed ints and uint8; avg_pool: int64; lp_pool2d, whose
# power makes a float) run in both libraries: compared in test_pooling.py, test_pool_integer.py and
# test_mixed_dtypes_round60.py
TAKEN = {("max_pool2d", "int64"), ("max_pool2d", "int32"), ("max_pool2d", "uint8"), ("lp_pool2d", "int64")}
TAKEN |= {(f"avg_pool{nd}d", "int64") for nd in (1, 2, 3)} | {("lp_pool2d", "bool")}
REFUSED = [(p, dt) for p in POOLS for dt in ("int64", "int32", "uint8", "bool") if (p[0], dt) not in TAKEN]


@pytest.mark.parametrize(("pool", "dtype"), REFUSED, ids=[f"{p[0]}-{dt}" for p, dt in REFUSED])
def test_pools_refuse_integer_inputs_as_pytorch(torch, pool, dtype):
    name, nd, kw = pool
    x = (np.arange(2 * 4**nd).reshape((1, 2) + (4,) * nd) % 3).astype(dtype)
    _refused_alike(torch, lambda lib: getattr(lib.nn.functional, name)(lib.tensor(x), **kw))


MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2), ("linear", 1), ("bilinear", 2)]
MODES += [("bicubic", 2), ("trilinear", 3), ("area", 1), ("area", 2), ("area", 3)]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
@pytest.mark.parametrize(("mode", "nd"), MODES, ids=[f"{m}-{n}d" for m, n in MODES])
def test_interpolate_refuses_integer_inputs_as_pytorch(torch, mode, nd, dtype):
    x = np.ones((1, 2) + (4,) * nd, dtype)
    _refused_alike(torch, lambda lib: lib.nn.functional.interpolate(lib.tensor(x), scale_factor=2, mode=mode))


NORMS = {
    "batch_norm_eval": lambda lib, x: lib.nn.functional.batch_norm(x, lib.zeros(2), lib.ones(2)),
    "batch_norm_train": lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
    "BatchNorm2d": lambda lib, x: lib.nn.BatchNorm2d(2)(x),
    "instance_norm": lambda lib, x: lib.nn.functional.instance_norm(x),
    "InstanceNorm2d": lambda lib, x: lib.nn.InstanceNorm2d(2, track_running_stats=True)(x),
    "grid_sample": lambda lib, x: lib.nn.functional.grid_sample(
        x, lib.zeros(1, 2, 2, 2), align_corners=False
    ),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "complex64"])
@pytest.mark.parametrize("name", list(NORMS))
def test_batch_norm_and_grid_sample_refuse_non_float_inputs_as_pytorch(torch, name, dtype):
    x = (np.arange(32).reshape(1, 2, 4, 4) % 3).astype(dtype)
    _refused_alike(torch, lambda lib: NORMS[name](lib, lib.tensor(x)))


def test_grid_sample_3d_names_pytorchs_kernel(torch):
    x, grid = np.ones((1, 1, 3, 3, 3), np.int32), np.zeros((1, 2, 2, 2, 3), np.int32)
    _refused_alike(
        torch, lambda lib: lib.nn.functional.grid_sample(lib.tensor(x), lib.tensor(grid), align_corners=False)
    )


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_affine_grid_refuses_an_integer_theta_with_a_value_error(torch, dtype):
    theta = np.zeros((1, 2, 3), dtype)
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="Expected theta to have floating point type"):
            lib.nn.functional.affine_grid(lib.tensor(theta), (1, 1, 2, 2), align_corners=False)


# ---- integer attention masks: PyTorch's F._canonical_mask asserts -------------------------------

MASKS = ["attn_mask", "key_padding_mask", "both"]


@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32"])
@pytest.mark.parametrize("which", MASKS)
def test_multihead_attention_refuses_integer_masks_as_pytorch(torch, which, dtype):
    q = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    am, kpm = np.eye(3, dtype=dtype), np.array([[0, 0, 1], [0, 1, 0]], dtype)

    def run(lib):
        mha = lib.nn.MultiheadAttention(4, 2, batch_first=True)
        kw = {}
        if which != "key_padding_mask":
            kw["attn_mask"] = lib.tensor(am)
        if which != "attn_mask":
            kw["key_padding_mask"] = lib.tensor(kpm)
        return mha(lib.tensor(q), lib.tensor(q), lib.tensor(q), **kw)

    _refused_alike(torch, run)


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
@pytest.mark.parametrize("which", ["src_mask", "src_key_padding_mask", "encoder"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_encoder_layers_refuse_integer_masks_as_pytorch(torch, which, dtype, train):
    q = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    masks = {
        "src_mask": np.eye(3, dtype=dtype),
        "src_key_padding_mask": np.array([[0, 0, 1], [0, 1, 0]], dtype),
    }

    def run(lib):
        layer = lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
        if which == "encoder":
            enc = lib.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False).train(train)
            return enc(lib.tensor(q), mask=lib.tensor(masks["src_mask"]))
        return layer.train(train)(lib.tensor(q), **{which: lib.tensor(masks[which])})

    _refused_alike(torch, run)


# ---- embedding_bag: ids and offsets promoted together ------------------------------------------

ID_DTYPES = ["bool", "uint8", "int16", "int32", "int64"]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets", ID_DTYPES + ["float32", "none-2d"])
@pytest.mark.parametrize("ids", ID_DTYPES)
def test_embedding_bag_promotes_ids_and_offsets_as_pytorch(torch, ids, offsets, mode):
    def run(lib):
        w = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        idx = lib.tensor(np.array([1, 0, 1, 1]).astype(ids))
        off = None if offsets == "none-2d" else lib.tensor(np.array([0, 1]).astype(offsets))
        out = lib.nn.functional.embedding_bag(idx.reshape(2, 2) if off is None else idx, w, off, mode=mode)
        out.sum().backward()
        return out, w.grad

    try:
        theirs = run(torch)
    except (RuntimeError, NotImplementedError):
        _refused_alike(torch, run, words=False)  # ("but got CPUBoolType instead": not copied)
        return
    ours = run(gg)
    for a, b in zip(ours, theirs):
        assert str(a.dtype)[10:] == str(b.dtype)[6:]
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_steps_a_double_param_with_a_float_buffer_in_double_as_pytorch(torch, nesterov):
    # PyTorch's param.add_(buf, alpha=-lr) and grad.add(buf, alpha=momentum) compute in float64;
    # glassgrad rounded lr * buf to float32 first (1e-8 off in a float64 parameter)
    rng = np.random.default_rng(3)
    w0, buf, grads = rng.standard_normal(50), rng.standard_normal(50), rng.standard_normal((3, 50))
    out = []
    for lib in (gg, torch):
        w = lib.nn.Parameter(lib.tensor(w0.astype(np.float32)))
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=nesterov)
        w.grad = lib.tensor(grads[0].astype(np.float32))
        opt.step()
        with lib.no_grad():  # the same float32 buffer and float64 weights in both
            opt.state[w]["momentum_buffer"].copy_(lib.tensor(buf))
            w.data = lib.tensor(w0)
        for g in grads[1:]:
            w.grad = lib.tensor(g)
            opt.step()
        out.append((_np(w), opt.state[w]["momentum_buffer"]))
    assert str(out[0][1].dtype) == "glassgrad.float32" and out[1][1].dtype == torch.float32
    np.testing.assert_array_equal(_np(out[0][1]), _np(out[1][1]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-14, atol=1e-15)
