"""Layers against PyTorch: weights copied through state_dict (both ways), then the same outputs and the
same gradients for the input and every parameter. Plus shape checks, Dropout and BatchNorm state."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import DTypeError, ShapeError

RNG = np.random.default_rng(0)


def randn(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def randomize(theirs) -> None:
    """Give a torch module non-default weights and buffers so that parity exercises them."""
    torch = pytest.importorskip("torch")
    # a generator of its own: drawn from PyTorch's global one, the weights depended on the tests run
    # before, and a rare draw left a noise-level float32 gradient above the tolerance (flaky)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(generator=gen)
        for name, b in theirs.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 2.0, generator=gen)
            elif b.is_floating_point():
                b.normal_(generator=gen)


def parity(ours, theirs, *inputs: np.ndarray, atol: float = 1e-5, rtol: float = 1e-5, copy: bool = True):
    """Copy torch's weights into ours, run both, compare outputs and all gradients; returns outputs."""
    torch = pytest.importorskip("torch")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if copy:
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    g_in = [gg.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out, tout = ours(*g_in), theirs(*t_in)
    assert out.shape == tuple(tout.shape) and out.dtype.name == str(tout.dtype).split(".")[1]
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=atol, rtol=rtol)
    upstream = RNG.standard_normal(out.shape).astype(out._data.dtype)
    out.backward(gg.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    for g, t in zip(g_in, t_in):
        if t.requires_grad:
            np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=atol, rtol=rtol)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if tparams[name].grad is None:
            assert p.grad is None or not p.grad._data.any(), name
        else:
            np.testing.assert_allclose(
                p.grad._data, tparams[name].grad.numpy(), atol=atol, rtol=rtol, err_msg=name
            )
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.get_buffer(name)._data, b.numpy(), atol=atol, rtol=rtol, err_msg=name)
    return out, tout


# ------------------------------------------------------------------ Linear, Bilinear, reshapes
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(torch, shape, bias):
    parity(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), randn(*shape))


def test_linear_float64_parity(torch):
    ours = nn.Linear(6, 2, dtype=gg.float64)
    theirs = torch.nn.Linear(6, 2, dtype=torch.float64)
    parity(ours, theirs, randn(3, 6, dtype=np.float64), atol=1e-12, rtol=1e-10)


def test_linear_checks_input_shape():
    lin = nn.Linear(4, 3)
    with pytest.raises(
        ShapeError,
        match=r"Linear\(in_features=4, out_features=3\): expected input \(\.\.\., 4\), got \(2, 5\)",
    ):
        lin(gg.zeros(2, 5))
    with pytest.raises(ShapeError, match=r"got \(\)"):
        lin(gg.tensor(1.0))
    with pytest.raises(ValueError, match="in_features to be a non-negative int"):
        nn.Linear(-1, 3)


def test_our_weights_into_torch_give_the_same_model(torch):
    def build(lib):
        return lib.Sequential(
            lib.Linear(5, 8),
            lib.LayerNorm(8),
            lib.ReLU(),
            lib.Linear(8, 6),
            lib.BatchNorm1d(6),
            lib.Tanh(),
            lib.Linear(6, 2),
        )

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    parity(ours, theirs, randn(7, 5), copy=False)  # also compares the updated running stats
    ours.eval(), theirs.eval()
    parity(ours, theirs, randn(7, 5), copy=False)


def test_bilinear_parity(torch):
    parity(nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5), randn(6, 3), randn(6, 4))
    parity(
        nn.Bilinear(2, 3, 4, bias=False),
        torch.nn.Bilinear(2, 3, 4, bias=False),
        randn(2, 5, 2),
        randn(2, 5, 3),
    )
    with pytest.raises(ShapeError, match=r"expected inputs \(\.\.\., 3\) and \(\.\.\., 4\)"):
        nn.Bilinear(3, 4, 5)(gg.zeros(2, 3), gg.zeros(2, 5))


def test_identity_flatten_unflatten_parity(torch):
    parity(nn.Identity(54, unused="x"), torch.nn.Identity(54, unused="x"), randn(2, 3))
    parity(nn.Flatten(), torch.nn.Flatten(), randn(2, 3, 4, 5))
    parity(nn.Flatten(0, 1), torch.nn.Flatten(0, 1), randn(2, 3, 4))
    parity(nn.Flatten(-2, -1), torch.nn.Flatten(-2, -1), randn(2, 3, 4))
    parity(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), randn(2, 12))
    parity(nn.Unflatten(-1, (2, -1)), torch.nn.Unflatten(-1, (2, -1)), randn(3, 8))
    assert repr(nn.Unflatten(1, (2, 5))) == repr(torch.nn.Unflatten(1, (2, 5)))
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 5)


# ------------------------------------------------------------------ Embedding
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_parity(torch, padding_idx):
    ids = np.array([[0, 2, 9, 2], [1, 9, 0, 0]], dtype=np.int64)  # repeated ids accumulate gradient
    ours, theirs = (
        nn.Embedding(10, 3, padding_idx=padding_idx),
        torch.nn.Embedding(10, 3, padding_idx=padding_idx),
    )
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, ids)
    if padding_idx is not None:
        assert not ours.weight.grad._data[padding_idx].any()


def test_embedding_max_norm_renormalises_like_torch(torch):
    ours, theirs = nn.Embedding(6, 4, max_norm=1.0), torch.nn.Embedding(6, 4, max_norm=1.0)
    ids = np.array([1, 3, 3, 5], dtype=np.int64)
    # renorm happens in place before the lookup: compare the weights afterwards too
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours(gg.tensor(ids))
    theirs(torch.from_numpy(ids))
    np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), atol=1e-6)
    assert repr(ours) == repr(theirs)


def test_embedding_checks_and_from_pretrained():
    emb = nn.Embedding(5, 2)
    with pytest.raises(DTypeError, match="expected integer ids"):
        emb(gg.zeros(3))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    assert nn.Embedding(5, 2, sparse=True).sparse  # (sparse gradients: optim/test_sparse_embedding.py)
    table = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight._data is table._data
    assert frozen(gg.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ShapeError):
        nn.Embedding.from_pretrained(gg.zeros(3))


# ------------------------------------------------------------------ Dropout
def test_dropout_eval_is_identity_and_validation(torch):
    d = nn.Dropout(0.5).eval()
    x = gg.tensor(randn(4, 5), requires_grad=True)
    y = d(x)
    np.testing.assert_array_equal(y._data, x._data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, np.ones((4, 5), np.float32))
    assert nn.Dropout(0.0)(x).tolist() == x.tolist()
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="expected a probability p in"):
            nn.Dropout(bad)
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_training_mask_scaling_and_expectation(p):
    d = nn.Dropout(p)
    x = gg.tensor(np.full((400, 500), 2.0, np.float32), requires_grad=True)
    y = d(x)
    kept = y._data != 0
    np.testing.assert_allclose(y._data[kept], 2.0 / (1 - p), rtol=1e-6)  # survivors scaled by 1/(1-p)
    assert abs((~kept).mean() - p) < 0.005  # drop rate ~ p (200,000 draws)
    assert abs(y._data.mean() - 2.0) < 0.03  # expected value unchanged
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, kept / (1 - p), rtol=1e-6)  # gradient uses the same mask
    assert nn.Dropout(1.0)(x)._data.sum() == 0


def test_dropout_masks_follow_manual_seed():
    x = gg.ones(50)
    gg.manual_seed(3)
    a = nn.Dropout(0.5)(x)._data.copy()
    gg.manual_seed(3)
    b = nn.Dropout(0.5)(x)._data.copy()
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ LayerNorm
@pytest.mark.parametrize(
    ("shape", "normalized", "kwargs"),
    [
        ((4, 6), 6, {}),
        ((2, 3, 6), (6,), {}),
        ((2, 3, 4, 5), (4, 5), {}),
        ((3, 6), 6, {"elementwise_affine": False}),
        ((3, 6), 6, {"bias": False}),
        ((3, 6), 6, {"eps": 1e-2}),
    ],
)
def test_layer_norm_parity(torch, shape, normalized, kwargs):
    theirs = torch.nn.LayerNorm(normalized, **kwargs)
    randomize(theirs)
    ours = nn.LayerNorm(normalized, **kwargs)
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, randn(*shape) * 3 + 1)


def test_layer_norm_checks_shape():
    with pytest.raises(ShapeError, match=r"expected input \(\*, 4, 5\), got \(2, 5, 4\)"):
        nn.LayerNorm((4, 5))(gg.zeros(2, 5, 4))
    with pytest.raises(ShapeError):
        nn.LayerNorm((4, 5))(gg.zeros(5))


# ------------------------------------------------------------------ BatchNorm
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 7)])
@pytest.mark.parametrize(
    "kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False}, {"bias": False}]
)
def test_batch_norm_1d_running_stats_over_steps_then_eval(torch, shape, kwargs):
    theirs = torch.nn.BatchNorm1d(4, **kwargs)
    randomize(theirs)
    with torch.no_grad():  # start from the defaults: the running stats must evolve identically
        theirs.running_mean.zero_()
        theirs.running_var.fill_(1)
    ours = nn.BatchNorm1d(4, **kwargs)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    for step in range(4):
        x = randn(*shape) * (step + 1) + step
        parity(ours, theirs, x, copy=False)
        assert int(ours.num_batches_tracked.item()) == step + 1 == int(theirs.num_batches_tracked)
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval(), theirs.eval()
    parity(ours, theirs, randn(*shape), copy=False)
    assert int(ours.num_batches_tracked.item()) == 4  # eval does not count


def test_batch_norm_without_running_stats_uses_batch_stats_in_eval(torch):
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False)
    ours = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert ours.running_mean is None and ours.num_batches_tracked is None
    parity(ours, theirs, randn(6, 3))
    ours.eval(), theirs.eval()
    parity(ours, theirs, randn(6, 3))


def test_batch_norm_2d_parity(torch):
    theirs = torch.nn.BatchNorm2d(3)
    randomize(theirs)
    ours = nn.BatchNorm2d(3)
    for _ in range(2):
        parity(ours, theirs, randn(4, 3, 5, 6))
    ours.eval(), theirs.eval()
    parity(ours, theirs, randn(2, 3, 5, 6))
    assert repr(ours) == repr(theirs)


def test_batch_norm_checks_input():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ShapeError, match=r"expected input \(N, 4\) or \(N, 4, L\), got \(2, 5\)"):
        bn(gg.zeros(2, 5))
    with pytest.raises(ShapeError, match=r"got \(2, 4, 3, 3\)"):
        bn(gg.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(gg.zeros(1, 4))
    bn.eval()
    assert bn(gg.zeros(1, 4)).shape == (1, 4)  # fine in eval mode
    with pytest.raises(ShapeError, match=r"\(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(gg.zeros(2, 3, 4))


def test_batch_norm_loads_checkpoints_without_num_batches_tracked():
    bn = nn.BatchNorm1d(2)
    sd = {k: v.numpy().copy() for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    result = bn.load_state_dict(sd)
    assert result.missing_keys == [] and int(bn.num_batches_tracked.item()) == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda m, n: m.Linear(n(3), n(2)),
        lambda m, n: m.Bilinear(n(3), n(2), n(4)),
        lambda m, n: m.Embedding(n(5), n(2)),
        lambda m, n: m.BatchNorm1d(n(3)),
        lambda m, n: m.BatchNorm2d(n(3)),
        lambda m, n: m.LayerNorm(n(3)),
    ],
)
def test_numpy_integer_sizes_are_accepted_like_torch(torch, build):
    # e.g. nn.Linear(hidden, y.max() + 1) with y a NumPy array: PyTorch takes NumPy integers.
    ours, theirs = build(nn, np.int64), build(torch.nn, np.int64)
    assert repr(ours) == repr(build(torch.nn, int))  # torch's LayerNorm would print np.int64(3)
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()
    ]
    assert all(
        type(v) is int for k, v in vars(ours).items() if k.endswith(("features", "_dim", "embeddings"))
    )
    with pytest.raises((TypeError, ValueError)):  # a float size is still refused, as in torch
        build(nn, lambda v: float(v))
    nn.Dropout(np.float32(0.25))  # any real p in [0, 1], as torch


def test_layer_sizes_refused_with_pytorchs_error_classes(torch):
    """A float size is a TypeError (PyTorch's empty() refuses it), a negative one a RuntimeError."""
    for make in (
        lambda lib: lib.nn.Linear(4, 2.0),
        lambda lib: lib.nn.Conv2d(8, 2.0, 1),
        lambda lib: lib.nn.Embedding(3.0, 2),
        lambda lib: lib.nn.PReLU(2.5),
    ):
        with pytest.raises(TypeError):
            make(torch)
        with pytest.raises(TypeError, match="to be a non-negative int"):
            make(gg)
    with pytest.raises(RuntimeError):
        torch.nn.Linear(-1, 3)
    with pytest.raises(RuntimeError, match="in_features to be a non-negative int"):
        gg.nn.Linear(-1, 3)
