"""Float32 sums over many rows round as PyTorch's cascade, not as NumPy's running row
(ops/cascade_sum.py): x.sum(0), mean(0), the bias gradients of Linear, Conv and the recurrent
layers, BatchNorm's statistics and weight and bias gradients; and the normalisations' corrected
two-pass mean in batch norm (ops/normalization.py), so BatchNorm's weight gradient is as close to
float64 as PyTorch's."""

import itertools
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops.cascade_sum import cascade_sum, drifts, partial_rows


def _error(values, exact):
    return float(np.abs(np.asarray(values, np.float64) - exact).max() / np.abs(exact).max())


@pytest.mark.parametrize(
    "shape", [(0, 3), (3, 0), (5,), (70, 3), (33, 2, 40), (2, 1000, 3), (4, 5, 6, 7), (513, 17)]
)
def test_values_shapes_and_dtypes_are_numpys(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for r in range(len(shape) + 1):
        for axes in itertools.combinations(range(len(shape)), r):
            for keepdims in (False, True):
                axis = axes if r else None
                got = cascade_sum(x, axis, keepdims)
                want = x.astype(np.float64).sum(axis, keepdims=keepdims)
                assert got.shape == want.shape and got.dtype == np.float32
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert cascade_sum(x.astype(np.float16), 0).dtype == np.float16
    np.testing.assert_array_equal(cascade_sum(x.astype(np.float64), -1), x.astype(np.float64).sum(-1))


def test_infinities_give_nan_quietly_and_a_transposed_view_sums_alike():
    x = np.array([[np.inf], [-np.inf]] * 40, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(cascade_sum(x, 0)).all()
    y = np.random.default_rng(1).standard_normal((3, 200)).astype(np.float32)
    np.testing.assert_allclose(cascade_sum(y.T, 0), y.astype(np.float64).sum(1), rtol=1e-5)


def test_partial_rows_keep_the_sum_and_drifts_names_numpys_running_rows():
    x = np.random.default_rng(2).standard_normal((5000, 3)).astype(np.float32)
    rows = partial_rows(x, 0, 256)
    assert rows.shape[0] <= 256
    np.testing.assert_allclose(rows.sum(0), x.astype(np.float64).sum(0), rtol=1e-5)
    assert drifts((200, 3), (0,)) and drifts((3, 200, 4), (0, 1))
    assert not drifts((200, 3), (1,)) and not drifts((100, 3), (0,)) and not drifts((3, 200, 4), (1, 2))
    assert not drifts((200, 3), None)


def test_sum_and_mean_over_many_rows_round_as_pytorchs(torch):
    x = (np.random.default_rng(3).standard_normal((100_000, 8)) + 0.5).astype(np.float32)
    exact = x.astype(np.float64).sum(0)
    ours, theirs = _error(gg.tensor(x).sum(0).numpy(), exact), _error(torch.tensor(x).sum(0).numpy(), exact)
    assert ours < 3 * theirs + 1e-7 and ours < 1e-6  # NumPy's running row: 1.3e-5
    ours = _error(gg.tensor(x).mean(0).numpy() * len(x), exact)
    assert ours < 3 * theirs + 1e-7


def _grad_errors(torch, build, x, shape_of_param):
    """Relative errors of a float32 parameter gradient against float64, for glassgrad and PyTorch."""
    errors = []
    for lib in (gg, torch):
        lib.manual_seed(0)
        model64 = build(lib).double()
        model32 = build(lib)
        model32.load_state_dict({k: v.float() for k, v in model64.state_dict().items()})
        grads = []
        for model, dtype in ((model64, lib.float64), (model32, lib.float32)):
            out = model(lib.tensor(x, dtype=dtype))
            out = out[0] if isinstance(out, tuple) else out
            (out * lib.tensor(np.linspace(0.5, 1.5, out.shape[-1]), dtype=dtype)).sum().backward()
            grads.append(shape_of_param(model).grad.detach().numpy().astype(np.float64))
        errors.append(_error(grads[1], grads[0]))
    return errors


@pytest.mark.parametrize(
    "case",
    [
        "linear_bias",
        "batchnorm_weight",
        "batchnorm_bias",
        "layernorm_weight",
        "lstm_bias",
        "conv_transpose_bias",
    ],
)
def test_parameter_gradients_over_many_rows_round_as_pytorchs(torch, case):
    rng = np.random.default_rng(4)
    if case == "linear_bias":
        x = rng.standard_normal((4096, 16)) + 0.5
        build, param = (lambda lib: lib.nn.Linear(16, 8)), (lambda m: m.bias)
    elif case.startswith("batchnorm"):
        x = rng.standard_normal((256, 4, 8, 8)) + 0.5
        build = lambda lib: lib.nn.Sequential(lib.nn.BatchNorm2d(4), lib.nn.Flatten(2))  # noqa: E731
        param = (lambda m: m[0].weight) if case.endswith("weight") else (lambda m: m[0].bias)
    elif case == "layernorm_weight":  # (a shifted input: the mean's rounding would shift xhat)
        x = rng.standard_normal((1024, 64)) * 2 + 3
        build, param = (lambda lib: lib.nn.LayerNorm(64)), (lambda m: m.weight)
    elif case == "lstm_bias":
        x = rng.standard_normal((64, 32, 4))
        build, param = (lambda lib: lib.nn.LSTM(4, 8)), (lambda m: m.bias_ih_l0)
    else:
        x = rng.standard_normal((512, 3, 4, 4))
        build, param = (lambda lib: lib.nn.ConvTranspose2d(3, 2, 3)), (lambda m: m.bias)
    ours, theirs = _grad_errors(torch, build, x, param)
    assert ours < 3 * theirs + 2e-7, (ours, theirs)


def test_float16_mean_over_many_rows_does_not_overflow(torch):
    x = np.full((4000, 3), 100.0, np.float16)
    for reduce in ("mean", "sum"):
        ours = getattr(gg.tensor(x), reduce)(0)
        theirs = getattr(torch.tensor(x), reduce)(0)
        assert ours.dtype == gg.float16
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # 100 and inf (over 65504)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_normalising_infinities_gives_nan_without_a_warning(torch, dtype):
    x = np.ones((2, 3, 4), dtype)
    x[0, 1, 2] = np.inf
    for lib in (gg, torch):
        F = lib.nn.functional
        t = lib.tensor(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            outs = [F.layer_norm(t, (4,)), F.group_norm(t, 3), F.batch_norm(t, None, None, training=True)]
        assert all(bool(lib.isnan(o).any()) for o in outs)
