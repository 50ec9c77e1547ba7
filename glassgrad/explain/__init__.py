"""Tools that explain a model: shapes and costs layer by layer (``shapes``).

>>> from glassgrad.explain import conv_output_shape
>>> conv_output_shape(39, 3)
37
"""

# shapes and costs (cnn-toolbox)
from glassgrad.explain.shapes import LayerRow, Summary, conv_output_shape, summary

__all__ = [
    # shapes and costs
    "conv_output_shape",
    "summary",
    "Summary",
    "LayerRow",
]
