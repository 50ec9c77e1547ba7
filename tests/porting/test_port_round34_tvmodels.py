"""torchvision's model definitions (pytorch/vision ``torchvision/models``, round 34): every
constructor calls ``torch._C._log_api_usage_once``, and DenseNet's layer declares its two
``forward`` signatures with ``@torch.jit._overload_method`` stubs before the real ``forward``."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same


def dense_layer_step(torch):
    """A distilled torchvision ``_DenseLayer``: overload stubs, ``jit.unused``, the usage hook."""
    nn = torch.nn

    class DenseLayer(nn.Module):
        def __init__(self):
            super().__init__()
            torch._C._log_api_usage_once(f"{self.__module__}.{self.__class__.__name__}")
            self.norm = nn.BatchNorm2d(4)
            self.conv = nn.Conv2d(4, 3, 3, padding=1, bias=False)

        def bn_function(self, inputs):
            return self.conv(torch.relu(self.norm(torch.cat(inputs, 1))))

        @torch.jit.unused
        def call_checkpoint_bottleneck(self, inputs):
            return self.bn_function(inputs)

        @torch.jit._overload_method
        def forward(self, input):
            pass

        @torch.jit._overload_method
        def forward(self, input):  # noqa: F811
            pass

        def forward(self, input):  # noqa: F811
            prev = [input] if isinstance(input, torch.Tensor) else input
            if torch.jit.is_scripting():
                raise RuntimeError("not scripted here")
            return self.bn_function(prev)

    layer = DenseLayer().double()
    rng = np.random.default_rng(3)
    layer.conv.weight.data = torch.tensor(rng.standard_normal((3, 4, 3, 3)) / 6)
    a = torch.tensor(rng.standard_normal((2, 1, 5, 5)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((2, 3, 5, 5)))
    out_list = layer([a, b])
    out_tensor = layer(torch.cat([a, b], 1))
    (out_list.square().sum() + out_tensor.sum()).backward()
    return [out_list, out_tensor, a.grad, layer.conv.weight.grad, torch._C._get_tracing_state() is None]


def test_torchvision_dense_layer_overloads_and_usage_hook_port(torch):
    assert_same(dense_layer_step(glassgrad), dense_layer_step(torch))


def test_overload_method_returns_the_declaration():
    def stub(self, x):
        pass

    assert glassgrad.jit._overload_method(stub) is stub
    assert glassgrad.jit._overload(stub) is stub


def test_c_module_has_only_its_hooks():
    assert glassgrad._C._log_api_usage_once("torchvision.models.resnet.ResNet") is None
    with pytest.raises(TypeError, match=r"_log_api_usage_once.*str.*int"):
        glassgrad._C._log_api_usage_once(3)
    with pytest.raises(AttributeError, match=r"glassgrad\._C.*_set_grad_enabled.*compiled extension"):
        glassgrad._C._set_grad_enabled  # noqa: B018
