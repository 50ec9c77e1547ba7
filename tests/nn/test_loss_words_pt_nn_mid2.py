"""Round 67 (PyTorch's test_nn.py, TestNNDeviceType's loss and normalization tests, which match
error messages): class-index losses, margin losses, ``ctc_loss`` and the instance norms carry
PyTorch's words after glassgrad's own, under the exception classes PyTorch raises."""

import warnings

import pytest

import glassgrad

_CASES = [
    # (call, PyTorch's class, words)
    (
        lambda L: L.nn.functional.nll_loss(L.randn(10, 3), L.zeros(3, dtype=L.int64)),
        ValueError,
        r"Expected input batch_size \(10\) to match target batch_size \(3\)\.",
    ),
    (
        lambda L: L.nn.functional.cross_entropy(L.randn(10, 3), L.zeros(3, dtype=L.int64)),
        ValueError,
        r"Expected input batch_size \(10\) to match target batch_size \(3\)\.",
    ),
    (
        lambda L: L.nn.functional.nll_loss(L.randn(10, 3), L.zeros(10, 2, dtype=L.int64)),
        RuntimeError,
        "0D or 1D target tensor expected, multi-target not supported",
    ),
    (
        lambda L: L.nn.functional.nll_loss(L.randn(2, 3, 4), L.zeros(2, dtype=L.int64)),
        RuntimeError,
        r"Expected target size \[2, 4\], got \[2\]",
    ),
    (
        lambda L: L.nn.functional.nll_loss(L.randn(10, 3), L.zeros(10, dtype=L.int64), weight=L.randn(4)),
        RuntimeError,
        r"weight tensor should be defined either for all 3 classes or no classes but got "
        r"weight tensor of shape: \[4\]",
    ),
    (
        lambda L: L.nn.functional.cross_entropy(
            L.randn(10, 3), L.zeros(10, dtype=L.int64), weight=L.randn(1, 3)
        ),
        RuntimeError,
        r"weight tensor should be defined either for all 3 classes or no classes",
    ),
    (
        lambda L: L.nn.functional.cross_entropy(L.randn(10, 3), L.rand(10, 3), weight=L.randn(2)),
        RuntimeError,
        r"weight tensor should be defined either for all 3 classes or no classes",
    ),
    (
        lambda L: L.nn.MultiMarginLoss()(L.randn(0), L.ones(10, dtype=L.int64)),
        RuntimeError,
        r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[0\]",
    ),
    (
        lambda L: L.nn.MultiLabelMarginLoss()(L.randn(10, 0), L.ones(10, 0, dtype=L.int64)),
        RuntimeError,
        r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[10, 0\]",
    ),
    (
        lambda L: L.nn.functional.ctc_loss(
            L.rand(0, 0, 4),
            L.tensor([], dtype=L.long),
            L.tensor([], dtype=L.long),
            L.tensor([], dtype=L.long),
        ),
        RuntimeError,
        "log_probs tensor must not be empty",
    ),
    (
        lambda L: L.nn.InstanceNorm1d(4, affine=True)(L.randn(3, 2, 2)),
        ValueError,
        r"expected input's size at dim=1 to match num_features \(4\), but got: 2\.",
    ),
    (
        lambda L: L.nn.InstanceNorm2d(4, affine=True)(L.randn(2, 3, 3)),
        ValueError,
        r"expected input's size at dim=0 to match num_features \(4\), but got: 2\.",
    ),
]


@pytest.mark.parametrize(("call", "error", "words"), _CASES)
def test_pytorchs_words(call, error, words, torch):
    with pytest.raises(error, match=words):
        call(torch)
    with pytest.raises(error, match=words):
        call(glassgrad)


@pytest.mark.parametrize("cls", ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
def test_instance_norm_unused_num_features_warns_in_pytorchs_words(cls, torch):
    rank = {"InstanceNorm1d": 3, "InstanceNorm2d": 4, "InstanceNorm3d": 5}[cls]
    for lib in (torch, glassgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(lib.nn, cls)(4)(lib.randn(*([3] + [2] * (rank - 1))))
        assert tuple(out.shape) == (3,) + (2,) * (rank - 1)
        assert any("which is not used because affine=False" in str(w.message) for w in caught)
