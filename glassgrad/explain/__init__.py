"""Tools that explain a model: traces of forward and backward, hand-answer checks, diagnostics,
exercises (glass box), and shapes and costs layer by layer (``shapes``).

>>> from glassgrad.explain import conv_output_shape
>>> conv_output_shape(39, 3)
37
"""

# --- glass box (trace, graph, check, monitor, exercises)
from glassgrad.explain.attention import AttentionInspector
from glassgrad.explain.check import CheckItem, CheckReport, check
from glassgrad.explain.exercises import EXERCISES, Exercise, generate, worksheet
from glassgrad.explain.monitor import GradientMonitor, watch_time_steps
from glassgrad.explain.names import get_name, set_name
from glassgrad.explain.parse import ExpressionError, parse

# shapes and costs (cnn-toolbox)
from glassgrad.explain.shapes import LayerRow, Summary, conv_output_shape, summary
from glassgrad.explain.table import Table
from glassgrad.explain.trace import Row, Trace, trace

__all__ = [
    # glass box
    "trace",
    "Trace",
    "Row",
    "Table",
    "set_name",
    "get_name",
    "check",
    "CheckReport",
    "CheckItem",
    "parse",
    "ExpressionError",
    "GradientMonitor",
    "watch_time_steps",
    "Exercise",
    "EXERCISES",
    "generate",
    "worksheet",
    "AttentionInspector",
    # shapes and costs
    "conv_output_shape",
    "summary",
    "Summary",
    "LayerRow",
]
