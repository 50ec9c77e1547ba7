"""scikit-learn's 8x8 digits as tensors."""

from __future__ import annotations

import builtins
import sys

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.data import TensorDataset
from glassgrad.datasets import digits


def test_digits_tensors():
    sk = pytest.importorskip("sklearn.datasets")
    X, y = digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == gg.float32 and y.dtype == gg.int64
    assert X.numpy().min() == 0.0 and X.numpy().max() == 1.0
    ref = sk.load_digits()
    np.testing.assert_allclose(X.numpy() * 16, ref.data, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), ref.target)


def test_digits_as_dataset_and_images():
    pytest.importorskip("sklearn")
    ds = digits(as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 1797
    X, _ = digits(flatten=False)
    assert X.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(X.numpy().reshape(1797, 64), digits()[0].numpy())


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    for mod in [m for m in sys.modules if m.startswith("sklearn")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(ImportError, match=r"pip install glassgrad\[datasets\]"):
        digits()
