"""Round 66 (PyTorch's test_convolution, test_Conv2d_missing_argument): a convolution layer called
with something that is not a Tensor (None, a list) raises TypeError, as PyTorch's layers do, not
an AttributeError from the layer's own shape check."""

import pytest

import glassgrad

_LAYERS = [
    ("Conv1d", {}),
    ("Conv2d", {}),
    ("Conv3d", {}),
    ("Conv2d", {"padding": 1, "padding_mode": "reflect"}),
    ("ConvTranspose1d", {}),
    ("ConvTranspose2d", {}),
    ("ConvTranspose3d", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), _LAYERS)
@pytest.mark.parametrize("bad", [None, [[1.0, 2.0, 3.0]]])
def test_non_tensor_input_is_a_type_error(name, kwargs, bad, torch):
    with pytest.raises(TypeError):
        getattr(torch.nn, name)(3, 3, 3, **kwargs)(bad)
    with pytest.raises(TypeError, match="input"):
        getattr(glassgrad.nn, name)(3, 3, 3, **kwargs)(bad)
