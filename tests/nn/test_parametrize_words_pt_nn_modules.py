"""Parametrization errors carry PyTorch's words (round 67, PyTorch's ``test_parametrization.py``
run on glassgrad matches them): each case raises the same exception class in both libraries,
with the phrase PyTorch's tests look for, after glassgrad's own description."""

from __future__ import annotations

import importlib

import pytest

import glassgrad


def _identity(lib, **methods):
    """An ``nn.Module`` subclass returning ``x`` from forward, with extra methods."""
    return type("Identity", (lib.nn.Module,), {"forward": lambda self, x: x, **methods})


def _cases(lib):
    P = importlib.import_module(lib.__name__ + ".nn.utils.parametrize")
    orthogonal = importlib.import_module(lib.__name__ + ".nn.utils.parametrizations").orthogonal
    returns = lambda f: type("Bad", (lib.nn.Module,), {"forward": lambda self, x: f(x)})  # noqa: E731
    inverse = lambda f: _identity(lib, right_inverse=lambda self, x: f(x))  # noqa: E731
    fresh = lambda: lib.nn.Linear(3, 4)  # noqa: E731

    def on_parametrized(p):
        m = fresh()
        P.register_parametrization(m, "weight", _identity(lib)())
        P.register_parametrization(m, "weight", p)

    def assign(value, **kw):
        m = orthogonal(fresh(), **kw)
        m.weight = value

    return [
        (ValueError, "does not have a parameter", lambda: P.register_parametrization(fresh(), "foo", _identity(lib)())),
        (ValueError, "does not have a parametrization", lambda: P.remove_parametrizations(fresh(), "bias")),
        (ValueError, "Tensor or a Sequence of", lambda: P.register_parametrization(fresh(), "weight", inverse(lambda x: None)())),
        (ValueError, "of the sequence with type", lambda: P.register_parametrization(
            fresh(), "weight", type("S", (lib.nn.Module,), {"forward": lambda self, x, y: x, "right_inverse": lambda self, z: (None, z)})())),
        (ValueError, "outputs one tensor, it may not change the dtype", lambda: P.register_parametrization(
            fresh(), "weight", type("D", (lib.nn.Module,), {"forward": lambda self, x: x.float(), "right_inverse": lambda self, w: w.bool()})())),
        (ValueError, "must return a tensor", lambda: P.register_parametrization(fresh(), "weight", returns(lambda x: 2)())),
        (ValueError, "may not change the dtype", lambda: P.register_parametrization(fresh(), "weight", returns(lambda x: x.bool())())),
        (ValueError, "Registering a parametrization may not change the shape of the tensor",
         lambda: P.register_parametrization(fresh(), "weight", returns(lambda x: x[:-1])())),
        (ValueError, "must return a tensor", lambda: on_parametrized(returns(lambda x: (x, x))())),
        (ValueError, "may not change the shape", lambda: on_parametrized(returns(lambda x: x[:-1])())),
        (ValueError, "right_inverse must return a tensor", lambda: on_parametrized(inverse(lambda x: (x, x))())),
        (ValueError, "must have the same dtype", lambda: on_parametrized(inverse(lambda x: x.bool())())),
        (ValueError, "must have the same shape", lambda: on_parametrized(inverse(lambda x: x[:-1])())),
        (ValueError, "has to be one of", lambda: orthogonal(fresh(), "weight", "foo")),
        (ValueError, "Expected a matrix", lambda: orthogonal(fresh(), "bias")),
        (ValueError, "matrices of shape", lambda: assign(lib.randn(5, 5))),
        (NotImplementedError, "assign to the matrix exponential or the Cayley parametrization",
         lambda: assign(lib.eye(4, 3), orthogonal_map="cayley", use_trivialization=False)),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(17))
def test_parametrization_errors_in_pytorch_words(torch, index):
    for lib in (glassgrad, torch):
        error, words, call = _cases(lib)[index]
        with pytest.raises(error, match=words):
            call()
