"""Pictures of what a network does (matplotlib; PNG/SVG with ``save``, inline in notebooks).

Every function returns a matplotlib ``Figure``; matplotlib is imported when a function is called,
so ``import glassgrad`` does not need it.
"""

from glassgrad.viz._common import save
from glassgrad.viz.curves import (
    plot_activations,
    plot_decision_boundary,
    plot_gradient_flow,
    plot_gradient_flow_time,
    plot_training_curves,
)
from glassgrad.viz.maps import (
    plot_attention,
    plot_conv_filters,
    plot_feature_maps,
    plot_positional_encoding,
    sinusoidal_table,
)
from glassgrad.viz.tree import plot_beam_tree

__all__ = [
    "save",
    "plot_training_curves",
    "plot_decision_boundary",
    "plot_activations",
    "plot_gradient_flow",
    "plot_gradient_flow_time",
    "plot_attention",
    "plot_positional_encoding",
    "sinusoidal_table",
    "plot_conv_filters",
    "plot_feature_maps",
    "plot_beam_tree",
]
