"""``Summary`` protocol buffers (tensorboard's own classes) for each kind of data TensorBoard shows.

Each function returns a ``tensorboard.compat.proto.summary_pb2.Summary`` laid out as the matching
TensorBoard plugin reads it (scalars, histograms, images, text, hparams, PR curves, custom scalars),
so TensorBoard and ``EventAccumulator`` read glassgrad's logs as they read PyTorch's.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import metadata as custom_scalar_metadata
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from glassgrad.errors import ShapeError
from glassgrad.utils.tensorboard._convert import encode_png, to_hwc, to_numpy, to_uint8
from glassgrad.utils.tensorboard.hparams import hparams  # PyTorch's path: stable-baselines3 imports it here

__all__ = [
    "audio",
    "custom_scalars",
    "default_bins",
    "histogram",
    "histogram_proto",
    "hparams",
    "image",
    "pr_curve",
    "pr_curve_data",
    "scalar",
    "text",
]


def _plugin(name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


def _one_value(x: Any, op: str) -> float:
    arr = to_numpy(x, op)
    if arr.size != 1:
        raise ShapeError(
            f"{op}: expected a single value (a number or a one-element tensor), got shape {arr.shape}"
        )
    return arr.reshape(()).item()


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    """A scalar: the legacy ``simple_value`` field, or (``new_style``) a 0-D float tensor tagged for
    the scalars plugin (float64 when ``double_precision``)."""
    v = float(_one_value(value, "add_scalar"))
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=v)])
    if double_precision:
        tensor = TensorProto(double_val=[v], dtype="DT_DOUBLE")  # no shape: a scalar
    else:
        tensor = TensorProto(float_val=[v], dtype="DT_FLOAT")
    meta = _plugin(scalar_metadata.PLUGIN_NAME)
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


def default_bins() -> list[float]:
    """TensorFlow's default histogram edges: ±1e-12 growing by 10% up to 1e20, and 0."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0.0] + pos


def histogram_proto(values: np.ndarray, bins: Any, max_bins: int | None = None, op: str = "add_histogram"):
    """A ``HistogramProto`` of ``values`` (flattened, as float64) over ``bins`` (edges or a NumPy rule).

    Only the buckets from the first to the last non-empty one are kept, with one empty bucket in
    front (``bucket_limit`` holds right edges, so that bucket ends where the data begins).
    ``max_bins`` merges neighbouring buckets until there are at most that many.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ShapeError(f"{op}: expected at least one value, got an empty array")
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and counts.size > max_bins:
        group = counts.size // max_bins
        pad = (-counts.size) % group
        counts = np.pad(counts, (0, pad)).reshape(-1, group).sum(axis=1)  # (n,) -> (n/group,)
        edges = np.append(edges[:-1:group], edges[-1])
    nonempty = np.flatnonzero(counts)
    if nonempty.size == 0:
        raise ValueError(f"{op}: expected values inside the bins (finite, within the edges), got none")
    first, last = int(nonempty[0]), int(nonempty[-1])
    counts = np.concatenate([[0], counts[first : last + 1]])
    limits = edges[first : last + 2]
    return HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits.tolist(),
        bucket=counts.tolist(),
    )


def histogram(tag: str, values: Any, bins: Any, max_bins: int | None = None) -> Summary:
    """A histogram of every element of ``values``."""
    arr = to_numpy(values, "add_histogram").astype(np.float64)
    return Summary(value=[Summary.Value(tag=tag, histo=histogram_proto(arr, bins, max_bins))])


def image(tag: str, img: Any, dataformats: str = "CHW", rescale: float = 1, op: str = "add_image") -> Summary:
    """A PNG image: floats are taken to be in [0, 1], uint8 in [0, 255]; a batch is tiled into a grid."""
    hwc = to_uint8(to_hwc(to_numpy(img, op), dataformats, op))
    png, h, w, c = encode_png(hwc, rescale)
    proto = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=png)
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def audio(tag: str, snd: Any, sample_rate: int = 44100) -> Summary:
    """One mono clip, ``(L,)`` samples in [-1, 1] (size-1 dimensions are squeezed away, so ``(1, L)``
    does too), stored as a 16-bit PCM WAV file for the audio plugin."""
    arr = to_numpy(snd, "add_audio").squeeze()
    if arr.ndim != 1:
        raise ShapeError(
            f"add_audio: expected one channel of samples, shape (L,) or (1, L), got {tuple(arr.shape)}"
        )
    if abs(arr).max() > 1:  # printed, not warned, as PyTorch does
        print("warning: audio amplitude beyond [-1, 1]; the samples are clipped to it.")
        arr = arr.clip(-1, 1)
    # Scaled in the samples' own dtype and truncated toward zero, as PyTorch, so the bytes agree.
    pcm = (arr * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    proto = Summary.Audio(
        sample_rate=sample_rate, num_channels=1, length_frames=pcm.shape[-1],
        encoded_audio_string=buf.getvalue(), content_type="audio/wav",
    )  # fmt: skip
    return Summary(value=[Summary.Value(tag=tag, audio=proto)])


def text(tag: str, text_string: str) -> Summary:
    """A string for the text plugin, under ``<tag>/text_summary`` as PyTorch names it."""
    meta = _plugin(text_metadata.PLUGIN_NAME, TextPluginData(version=0).SerializeToString())
    tensor = TensorProto(
        dtype="DT_STRING",
        string_val=[str(text_string).encode("utf-8")],
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
    )
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor)])


def pr_curve_data(labels: np.ndarray, predictions: np.ndarray, num_thresholds: int, weights: Any = None):
    """The ``(6, num_thresholds)`` table the PR-curve plugin reads: true/false positives, true/false
    negatives, precision and recall at thresholds ``i / (num_thresholds - 1)``.

    A prediction counts as positive at every threshold up to its own (rounded down to the grid).
    """
    tiny = 1e-7
    w = 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
    bucket = np.floor(np.asarray(predictions) * (num_thresholds - 1)).astype(np.int32)
    lab = np.asarray(labels).astype(np.float64)
    rng = (0, num_thresholds - 1)
    pos, _ = np.histogram(bucket, bins=num_thresholds, range=rng, weights=lab * w)
    neg, _ = np.histogram(bucket, bins=num_thresholds, range=rng, weights=(1.0 - lab) * w)
    tp = np.cumsum(pos[::-1])[::-1]  # predicted positive at threshold i: buckets i and above
    fp = np.cumsum(neg[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(tiny, tp + fp)
    recall = tp / np.maximum(tiny, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))  # (6, num_thresholds)


def pr_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None
) -> Summary:
    """A precision-recall curve (at most 127 thresholds, as TensorBoard's plugin)."""
    num_thresholds = min(int(num_thresholds), 127)
    lab = to_numpy(labels, "add_pr_curve")
    pred = to_numpy(predictions, "add_pr_curve")
    if lab.shape != pred.shape:
        raise ShapeError(
            f"add_pr_curve: expected labels and predictions of the same shape, got {lab.shape} and {pred.shape}"
        )
    wts = None if weights is None else to_numpy(weights, "add_pr_curve")
    data = pr_curve_data(lab, pred, num_thresholds, wts)
    content = PrCurvePluginData(version=pr_metadata.PROTO_VERSION, num_thresholds=num_thresholds)
    meta = _plugin(pr_metadata.PLUGIN_NAME, content.SerializeToString())
    tensor = TensorProto(
        dtype="DT_FLOAT",
        float_val=data.reshape(-1).tolist(),
        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=s) for s in data.shape]),
    )
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def custom_scalars(layout: dict) -> Summary:
    """The custom-scalars layout: ``{category: {chart: ["Multiline", [tags]] or ["Margin", [v, lo, hi]]}}``."""
    categories = []
    for title, charts_in in layout.items():
        charts = []
        for chart_title, (kind, tags) in charts_in.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise ValueError(
                        f"add_custom_scalars: expected 3 tags (value, lower, upper) for a Margin chart, got {tags}"
                    )
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                chart = layout_pb2.Chart(
                    title=chart_title, margin=layout_pb2.MarginChartContent(series=[series])
                )
            else:
                chart = layout_pb2.Chart(
                    title=chart_title, multiline=layout_pb2.MultilineChartContent(tag=tags)
                )
            charts.append(chart)
        categories.append(layout_pb2.Category(title=title, chart=charts))
    meta = _plugin(custom_scalar_metadata.PLUGIN_NAME)
    tensor = TensorProto(
        dtype="DT_STRING",
        string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
        tensor_shape=TensorShapeProto(),
    )
    return Summary(
        value=[Summary.Value(tag=custom_scalar_metadata.CONFIG_SUMMARY_TAG, tensor=tensor, metadata=meta)]
    )
