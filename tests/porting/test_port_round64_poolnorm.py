"""Round 64's differential fuzz of pooling edges and of the normalization layers' state (against
PyTorch 2.13): the cases where glassgrad differed, and the fuzzed patterns pinned against PyTorch.

- a pooling or convolution size that is not an integer (``kernel_size=2.0``, ``stride=1.5``, an
  adaptive ``output_size`` of 2.5 or ``(2, 2.0)``) raised a ShapeError that is no ``TypeError``;
  PyTorch's parser raises ``TypeError``;
- ``F.batch_norm`` / ``F.instance_norm`` with ``momentum=None`` ran (or raised ValueError in
  training); PyTorch's parser raises ``TypeError`` whatever the mode. One running statistic
  without the other updated that one silently in training; PyTorch raises ``ValueError``. Training
  with ``eps <= 0`` ran; PyTorch raises ``ValueError``;
- ``F.instance_norm(use_input_stats=False)`` without running statistics raised a ValueError that
  is no ``RuntimeError``, as PyTorch's is;
- under a gradient penalty through ``fractional_max_pool2d/3d`` the input's second gradient was
  None; PyTorch's pool backward reads the input, so it is zeros (as for the other max pools).

Pinned too, fuzzed and matching: the batch and instance norms' running statistics over a
train / eval / train loop (``momentum=None``, ``track_running_stats``), and pooling's ceil-mode
windows that would start in the padding, ``lp_pool`` over all-zero windows and ``max_unpool`` of
overlapping windows.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(64)
X4 = RNG.standard_normal((2, 3, 7, 6))
X3 = RNG.standard_normal((4, 3, 5)) + 0.5


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _np(t):
    return None if t is None else t.detach().numpy()


# ---- sizes that are not integers: PyTorch's TypeError ------------------------------------------

_NOT_INT_SIZES = [
    ("max_pool2d", lambda F, x: F.max_pool2d(x, 2.0)),
    ("max_pool2d_tuple", lambda F, x: F.max_pool2d(x, (2, 2.0))),
    ("max_pool2d_none_entry", lambda F, x: F.max_pool2d(x, [2, None])),
    ("max_pool2d_str", lambda F, x: F.max_pool2d(x, "2")),
    ("avg_pool2d_stride", lambda F, x: F.avg_pool2d(x, 2, stride=1.5)),
    ("avg_pool1d", lambda F, x: F.avg_pool1d(x[0], 2.0)),
    ("max_pool1d_padding", lambda F, x: F.max_pool1d(x[0], 3, 1, 1.0)),
    ("lp_pool2d", lambda F, x: F.lp_pool2d(x, 2, 2.0)),
    ("max_unpool2d", lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2.0)),
    ("adaptive_avg_pool2d", lambda F, x: F.adaptive_avg_pool2d(x, 2.5)),
    ("adaptive_max_pool2d_tuple", lambda F, x: F.adaptive_max_pool2d(x, (2, 2.0))),
    ("adaptive_avg_pool2d_str", lambda F, x: F.adaptive_avg_pool2d(x, "3")),
    ("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x[0], 2.0)),
    ("adaptive_max_pool1d_none", lambda F, x: F.adaptive_max_pool1d(x[0], (None,))),
    ("conv2d_stride", lambda F, x: F.conv2d(x, x.new_ones(2, 3, 1, 1), stride=1.5)),
]


@pytest.mark.parametrize("call", [c for _, c in _NOT_INT_SIZES], ids=[n for n, _ in _NOT_INT_SIZES])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_a_size_that_is_not_an_integer_is_a_type_error(torch, lib_name, call):
    lib = dict(_libs(torch))[lib_name]
    with pytest.raises(TypeError):
        call(lib.nn.functional, lib.tensor(X4))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_a_size_of_the_wrong_length_is_a_runtime_error(torch, lib_name):
    lib = dict(_libs(torch))[lib_name]
    F = lib.nn.functional
    with pytest.raises(RuntimeError):
        F.max_pool2d(lib.tensor(X4), (2, 2, 2))
    with pytest.raises((RuntimeError, ValueError)):
        F.adaptive_avg_pool2d(lib.tensor(X4), (2, 2, 2))


def test_glassgrad_size_type_errors_stay_shape_errors():
    # a script's (or a test's) ``except ValueError`` / ``except RuntimeError`` still catches them
    with pytest.raises(gg.errors.ShapeError, match="kernel_size"):
        gg.nn.functional.max_pool2d(gg.tensor(X4), 2.0)
    with pytest.raises(gg.errors.ShapeError, match="output_size"):
        gg.nn.functional.adaptive_avg_pool2d(gg.tensor(X4), 2.5)


def test_integer_like_sizes_still_run_as_torch(torch):
    outs = []
    for _, lib in _libs(torch):
        F, x = lib.nn.functional, lib.tensor(X4)
        outs.append(
            [
                F.max_pool2d(x, np.int64(2), [np.int64(1)]),
                F.avg_pool2d(x, x.shape[2:]),
                F.adaptive_avg_pool2d(x, [None, np.int64(2)]),
                F.adaptive_max_pool2d(x, lib.Size([3, 4])),
            ]
        )
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12, atol=1e-14)


# ---- F.batch_norm / F.instance_norm arguments ----------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_batch_norm_momentum_none_is_a_type_error(torch, lib_name, training):
    lib = dict(_libs(torch))[lib_name]
    rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
    with pytest.raises(TypeError, match="momentum"):
        lib.nn.functional.batch_norm(lib.tensor(X3), rm, rv, training=training, momentum=None)


@pytest.mark.parametrize("stats", [True, False], ids=["stats", "no_stats"])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_instance_norm_momentum_none_is_a_type_error(torch, lib_name, stats):
    lib = dict(_libs(torch))[lib_name]
    rm, rv = (lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)) if stats else (None, None)
    with pytest.raises(TypeError, match="momentum"):
        lib.nn.functional.instance_norm(lib.tensor(X3), rm, rv, momentum=None)


@pytest.mark.parametrize("which", ["mean_only", "var_only"])
@pytest.mark.parametrize("op", ["batch_norm", "instance_norm"])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_one_running_statistic_alone_is_refused_in_training(torch, lib_name, op, which):
    lib = dict(_libs(torch))[lib_name]
    rm = lib.zeros(3, dtype=lib.float64) if which == "mean_only" else None
    rv = lib.ones(3, dtype=lib.float64) if which == "var_only" else None
    kw = {"training": True} if op == "batch_norm" else {}
    with pytest.raises(ValueError, match="both be None or neither"):
        getattr(lib.nn.functional, op)(lib.tensor(X3), rm, rv, **kw)
    untouched = rm if rm is not None else rv
    np.testing.assert_array_equal(_np(untouched), np.zeros(3) if which == "mean_only" else np.ones(3))


@pytest.mark.parametrize("training, eps", [(True, 0.0), (True, -1e-5), (False, -1e-5)])
@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_batch_norm_eps_out_of_range(torch, lib_name, training, eps):
    lib = dict(_libs(torch))[lib_name]
    rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
    with pytest.raises(ValueError, match="eps"):
        lib.nn.functional.batch_norm(lib.tensor(X3), rm, rv, training=training, eps=eps)


def test_batch_norm_eval_with_zero_eps_and_int_momentum_match_torch(torch):
    outs = []
    for _, lib in _libs(torch):
        F = lib.nn.functional
        rm, rv = lib.tensor(np.linspace(-1, 1, 3)), lib.tensor(np.linspace(0.5, 2, 3))
        y0 = F.batch_norm(lib.tensor(X3), rm, rv, training=False, eps=0.0)
        y1 = F.batch_norm(lib.tensor(X3), rm, rv, training=True, momentum=1)
        outs.append([y0, y1, rm, rv])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_instance_norm_running_stats_without_input_stats_is_a_runtime_error(torch, lib_name):
    lib = dict(_libs(torch))[lib_name]
    with pytest.raises(RuntimeError):
        lib.nn.functional.instance_norm(lib.tensor(X3), None, None, use_input_stats=False)


# ---- fractional max pooling under create_graph: the input's second gradient is zeros -------------


@pytest.mark.parametrize("nd, batched", [(2, True), (2, False), (3, True), (3, False)])
def test_fractional_max_pool_second_gradient_matches_torch(torch, nd, batched):
    shape = ((2,) if batched else ()) + (3,) + (6, 5, 4)[:nd]
    x0 = RNG.standard_normal(shape)
    samples = RNG.random((2 if batched else 1, 3, nd))
    outs = []
    for _, lib in _libs(torch):
        x = lib.tensor(x0, requires_grad=True)
        pool = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
        y = pool(x, 2, output_size=(3, 2, 2)[:nd], _random_samples=lib.tensor(samples))
        w = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape), requires_grad=True)
        (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        ((g**2).sum() + (g * lib.tensor(x0)).sum()).backward()
        outs.append([y, g, x.grad, w.grad])
    for a, b in zip(*outs, strict=True):
        assert b is not None
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(_np(outs[1][2]), np.zeros(shape))


# ---- the norms' state over a short training loop -------------------------------------------------


def _state_loop(lib, make, x0):
    m = make(lib).double()
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if list(m.parameters()) else None
    rec = []
    for k, mode in enumerate(["train"] * 3 + ["eval"] * 2 + ["train"] * 2):
        m.train(mode == "train")
        x = lib.tensor(x0 * (1 + 0.3 * k) + 0.1 * k, requires_grad=True)
        y = m(x)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(y.shape))).sum().backward()
        rec += [y, x.grad] + [p.grad for p in m.parameters()] + list(m.buffers())
        rec = [t.clone() if t is not None else None for t in rec]
        if opt is not None:
            opt.step()
            opt.zero_grad()
    return rec + list(m.parameters()), sorted(m.state_dict())


_NORMS = {
    "bn1d_2d_cumulative": (lambda lib: lib.nn.BatchNorm1d(3, momentum=None), (5, 3)),
    "bn1d_3d_no_affine": (lambda lib: lib.nn.BatchNorm1d(3, affine=False), (4, 3, 5)),
    "bn2d_untracked": (lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False), (2, 3, 3, 2)),
    "bn3d_momentum": (lambda lib: lib.nn.BatchNorm3d(3, momentum=0.5), (2, 3, 2, 2, 3)),
    "in1d_tracked_affine": (
        lambda lib: lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=None),
        (2, 3, 6),
    ),
    "in2d_tracked_unbatched": (lambda lib: lib.nn.InstanceNorm2d(3, track_running_stats=True), (3, 4, 3)),
    "lazy_bn2d": (lambda lib: lib.nn.LazyBatchNorm2d(momentum=None), (3, 3, 2, 2)),
}


@pytest.mark.parametrize("make, shape", list(_NORMS.values()), ids=list(_NORMS))
def test_norm_state_over_train_eval_train_matches_torch(torch, make, shape):
    x0 = RNG.standard_normal(shape)
    (ref, ref_keys), (got, got_keys) = (_state_loop(lib, make, x0) for _, lib in _libs(torch))
    assert got_keys == ref_keys and len(got) == len(ref)
    for a, b in zip(ref, got, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert _np(b).dtype == _np(a).dtype
            np.testing.assert_allclose(_np(b), _np(a), rtol=1e-10, atol=1e-12)


# ---- pooling edges -------------------------------------------------------------------------------

_POOLS = {
    "max_ceil_last_in_padding": lambda F, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, dilation=(1, 2)),
    "avg_ceil_no_pad_count": lambda F, x: F.avg_pool2d(x, 4, 3, 2, ceil_mode=True, count_include_pad=False),
    "avg_ceil_divisor": lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, divisor_override=4),
    "lp_zero_windows": lambda F, x: F.lp_pool2d(F.relu(x - 0.8), 2.0, 2, ceil_mode=True),
    "lp_inf": lambda F, x: F.lp_pool2d(x, float("inf"), (2, 3)),
    "adaptive_none": lambda F, x: F.adaptive_avg_pool2d(x, (None, 4)) + F.adaptive_max_pool2d(x, (None, 4)),
    "adaptive_larger": lambda F, x: F.adaptive_max_pool2d(x, (9, 5)),
    "unpool_overlap": lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 3, 1, return_indices=True), 3, 1),
    "unbatched_1d": lambda F, x: F.max_pool1d(x[0, 0], 2, 2, 1, ceil_mode=True),
}


@pytest.mark.parametrize("call", list(_POOLS.values()), ids=list(_POOLS))
def test_pooling_edges_match_torch(torch, call):
    x0 = np.round(X4 * 2) / 2  # ties too
    outs = []
    for _, lib in _libs(torch):
        x = lib.tensor(x0, requires_grad=True)
        y = call(lib.nn.functional, x)
        (y * lib.tensor(np.sin(np.arange(y.numel())).reshape(y.shape))).sum().backward()
        outs.append([y, x.grad])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-12, atol=1e-14)
