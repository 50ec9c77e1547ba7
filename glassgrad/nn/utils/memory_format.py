"""``convert_conv2d_weight_memory_format``/``convert_conv3d_weight_memory_format``, as
``torch.nn.utils.memory_format``: re-lay the weights of every 2-D (3-D) convolution and transposed
convolution in a module tree in the given memory format (values and shapes unchanged)."""

from __future__ import annotations

from typing import Any

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module: Any, memory_format: Any, kinds: tuple[type, ...]) -> Any:
    if isinstance(module, kinds):
        weight = module.weight.detach().clone(memory_format=memory_format)
        module.weight.data = weight.resize_(weight.size(), memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """Lay the weight of every ``Conv2d``/``ConvTranspose2d`` in ``module`` (itself included) out
    in ``memory_format`` (``channels_last`` or ``contiguous_format``); returns ``module``.

    >>> import glassgrad as gg
    >>> m = convert_conv2d_weight_memory_format(gg.nn.Conv2d(2, 3, 3), gg.channels_last)
    >>> m.weight.is_contiguous(memory_format=gg.channels_last)
    True
    """
    from glassgrad.nn import Conv2d, ConvTranspose2d

    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """Lay the weight of every ``Conv3d``/``ConvTranspose3d`` in ``module`` (itself included) out
    in ``memory_format`` (``channels_last_3d`` or ``contiguous_format``); returns ``module``."""
    from glassgrad.nn import Conv3d, ConvTranspose3d

    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
