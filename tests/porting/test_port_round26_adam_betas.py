"""Round 26 (rosinality/stylegan2-pytorch): PyTorch 2.13's ``Adam``/``AdamW`` refuse ``betas`` that
mix types (older GAN code's integer ``(0, 0.99)``, a float and a tensor, a NumPy float32); glassgrad
took them, so a script that ran here stopped under PyTorch. train.py itself passes
``(0 ** ratio, 0.99 ** ratio)``, two floats, which both accept."""

import numpy as np
import pytest

import glassgrad as gg

CASES = {
    "int_zero": lambda m: (0, 0.99),
    "two_floats": lambda m: (0.0**0.8, 0.99**0.8),
    "list": lambda m: [0.5, 0.9],
    "numpy_float64": lambda m: (np.float64(0.5), 0.9),
    "numpy_float32": lambda m: (np.float32(0.5), 0.9),
    "two_tensors": lambda m: (m.tensor(0.5), m.tensor(0.9)),
    "tensor_and_float": lambda m: (m.tensor(0.5), 0.9),
}


def outcome(lib, opt_name, betas):
    try:
        getattr(lib.optim, opt_name)([lib.zeros(2, requires_grad=True)], betas=betas)
    except ValueError as e:
        return "refused" if "betas must be either both floats or both Tensors" in str(e) else str(e)
    return "ok"


@pytest.mark.parametrize("opt_name", ["Adam", "AdamW"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_adam_betas_types_as_torch(torch, opt_name, name):
    want = outcome(torch, opt_name, CASES[name](torch))
    assert outcome(gg, opt_name, CASES[name](gg)) == want


def test_adam_betas_error_names_the_optimizer():
    with pytest.raises(ValueError, match=r"^AdamW: betas must be either both floats or both Tensors"):
        gg.optim.AdamW([gg.zeros(2, requires_grad=True)], betas=(0, 0.99))
