"""Refusals met beside round 46's programs (docs/porting.md, round 45's "Not fixed"): the error
classes PyTorch 2.13 raises, so that a program's ``except`` clause catches the same thing."""

from __future__ import annotations

import pytest

import glassgrad as gg

CASES = {
    # PyTorch: NotImplementedError "addcmul_cpu_out" not implemented for 'Bool'
    "addcmul of three bool tensors": (
        lambda lib: lib.addcmul(*(lib.tensor([True, False]),) * 3),
        (TypeError, RuntimeError, NotImplementedError),
    ),
    "addcmul_ of bool tensors": (
        lambda lib: lib.tensor([True, False]).addcmul_(lib.tensor([True, True]), lib.tensor([False, True])),
        (TypeError, RuntimeError, NotImplementedError),
    ),
    "clamp with neither bound": (lambda lib: lib.clamp(lib.ones(2), None, None), RuntimeError),
    "clamp_ with neither bound": (lambda lib: lib.ones(2).clamp_(), RuntimeError),
    "scatter with a None value": (lambda lib: lib.zeros(3).scatter(0, lib.tensor([0]), None), TypeError),
    "a None in tensor()": (lambda lib: lib.tensor([1.0, None]), RuntimeError),
    # a silent wrong answer before: the exponent was wrapped into uint8 (-3 as 253), [1, 0, 19]
    "uint8 ** -3": (lambda lib: lib.tensor([1, 2, 3], dtype=lib.uint8) ** -3, RuntimeError),
    "uint8 pow_(-3)": (lambda lib: lib.tensor([1, 2, 3], dtype=lib.uint8).pow_(-3), RuntimeError),
    "uint8 **= -2": (lambda lib: lib.tensor([1, 2, 3], dtype=lib.uint8).__ipow__(-2), RuntimeError),
    "int64 pow(-1)": (lambda lib: lib.pow(lib.tensor([1, 2]), -1), RuntimeError),
    "bool pow(-1)": (lambda lib: lib.tensor([True]).pow(-1), RuntimeError),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_with_torchs_class(torch, name):
    make, cls = CASES[name]
    with pytest.raises(cls):
        make(torch)
    with pytest.raises(cls):
        make(gg)


def test_addcmul_of_bool_with_a_float_input_still_computes(torch):
    def run(lib):
        b = lib.tensor([True, False])
        return lib.addcmul(lib.tensor([0.5, 1.5]), b, b, value=2.0).tolist()

    assert run(gg) == run(torch) == [2.5, 1.5]


def test_renorm_of_a_permuted_tensor_is_row_major_as_torchs(torch):
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
        y = x.renorm(2, 0, 10.0)
        return y.stride(), y.view(-1).tolist()

    assert run(gg) == run(torch)


def test_a_glassgrad_tensor_in_a_pytorch_call_is_a_clear_error(torch):
    # PyTorch hands its own function to glassgrad's __torch_function__, which ran it again: a
    # RecursionError before
    a = gg.ones(2)
    for call in (lambda: torch.add(a, 1), lambda: torch.stack((a, a)), lambda: torch.nn.functional.relu(a)):
        with pytest.raises(TypeError, match="tensors do not mix"):
            call()
