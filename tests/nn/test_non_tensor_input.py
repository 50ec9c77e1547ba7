"""A module called with something that is not a tensor (a NumPy array, a list, an object) raises
PyTorch's TypeError naming the module, not an AttributeError from inside an op (port round 15)."""

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    "build, value",
    [
        (lambda nn: nn.Linear(2, 2), np.ones((3, 2), np.float32)),
        (lambda nn: nn.Sequential(nn.Linear(2, 2), nn.ReLU()), [[1.0, 2.0]]),
        (lambda nn: nn.Conv2d(1, 1, 1), object()),
        (lambda nn: nn.ReLU(), np.ones(2)),
    ],
)
def test_a_module_given_a_non_tensor_raises_type_error(torch, build, value):
    with pytest.raises(TypeError):
        build(torch.nn)(value)
    # named by the module (argument 0) or, as PyTorch's, by the function it calls ('input')
    with pytest.raises(
        TypeError, match=f"expected a Tensor as argument (0|'input'), got {type(value).__name__}"
    ):
        build(gg.nn)(value)


def test_other_attribute_errors_stay_attribute_errors():
    class Broken(gg.nn.Module):
        def forward(self, x):
            return self.missing

    with pytest.raises(AttributeError, match="missing"):
        Broken()(gg.ones(1))


def test_a_typo_in_the_users_forward_on_a_non_tensor_stays_an_attribute_error(torch):
    from collections import namedtuple

    Batch = namedtuple("Batch", "inputs labels")
    for lib in (gg, torch):

        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 2)

            def forward(self, batch):
                return self.lin(batch.input)  # the field is called inputs

        class Masked(lib.nn.Module):
            def forward(self, x, mask):
                return x * mask.logical_not()  # called with mask=None

        with pytest.raises(AttributeError, match="input"):
            M()(Batch(lib.ones(1, 3), None))
        with pytest.raises(AttributeError, match="logical_not"):
            Masked()(lib.ones(2), None)
