"""``SummaryWriter``: PyTorch's ``torch.utils.tensorboard.SummaryWriter`` for glassgrad.

Events go through the ``tensorboard`` package's own ``EventFileWriter`` (a background thread that
writes TFRecord files of ``Event`` protocol buffers from a queue of at most ``max_queue`` events, an
``add_*`` waiting while it is full, and flushes every ``flush_secs``); this module builds the events.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import sys
import threading
import time
import weakref
from datetime import datetime
from typing import Any

from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from glassgrad.utils.tensorboard import summary as S
from glassgrad.utils.tensorboard._convert import figure_to_image
from glassgrad.utils.tensorboard.embedding import write_embedding
from glassgrad.utils.tensorboard.hparams import hparams

__all__ = ["FileWriter", "SummaryWriter"]

_open_writers: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # nothing queued is lost when the program ends without close()
    for w in list(_open_writers):
        with contextlib.suppress(Exception):
            w.close()


def _step(global_step: Any) -> int | None:
    return None if global_step is None else int(global_step)


class FileWriter:
    """One event file in ``log_dir``: ``Event`` s stamped with a wall time (now unless given) and a step."""

    def __init__(
        self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""
    ) -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, global_step: Any = None, walltime: float | None = None) -> None:
        self.add_event(Event(summary=summary), _step(global_step), walltime)

    def add_graph(self, graph_def: Any, run_metadata: Any, walltime: float | None = None) -> None:
        self.add_event(Event(graph_def=graph_def.SerializeToString()), None, walltime)
        trm = TaggedRunMetadata(tag="step1", run_metadata=run_metadata.SerializeToString())
        self.add_event(Event(tagged_run_metadata=trm), None, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Write scalars, histograms, images, text, hyperparameters, embeddings, PR curves and model
    graphs to event files that TensorBoard reads (``tensorboard --logdir runs``).

    Args:
        log_dir: where to write; default ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``.
        comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: after a crash, TensorBoard hides the events at steps >= ``purge_step`` written
            before this writer started.
        max_queue: events kept in memory before a write. flush_secs: seconds between flushes.
        filename_suffix: appended to every event file's name.

    Values may be glassgrad Tensors (detached first), NumPy arrays or Python numbers. The file is
    flushed on ``flush()``, ``close()``, leaving a ``with`` block, and at interpreter exit.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._lock = threading.RLock()  # threads that log through one writer open each file once
        self._projector_config = ProjectorConfig()
        self._get_file_writer()
        self.default_bins = S.default_bins()

    def _get_file_writer(self) -> FileWriter:
        """The main event file, (re)opened on first use and after ``close()``."""
        with self._lock:  # an RLock: add_scalars calls this while holding it
            if self.file_writer is None:
                self.file_writer = FileWriter(
                    self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix
                )
                self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
                _open_writers.add(self)
                if self.purge_step is not None:
                    step = int(self.purge_step)
                    self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                    self.file_writer.add_event(
                        Event(step=step, session_log=SessionLog(status=SessionLog.START))
                    )
                    self.purge_step = None
            return self.file_writer

    def get_logdir(self) -> str:
        """The directory this writer writes to."""
        return self.log_dir

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Any = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """One point of the curve ``tag``: ``scalar_value`` (a number or one-element tensor) at ``global_step``."""
        summary = S.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(
        self, main_tag: str, tag_scalar_dict: dict, global_step: Any = None, walltime: float | None = None
    ) -> None:
        """Several curves on one chart: each ``{name: value}`` goes to its own run directory
        ``<log_dir>/<main_tag with / as _>_<name>`` under the tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        for name, value in tag_scalar_dict.items():
            summary = S.scalar(main_tag, value)
            with self._lock:
                base = self._get_file_writer().get_logdir()
                sub = base + "/" + main_tag.replace("/", "_") + "_" + name
                fw = self.all_writers.get(sub)  # type: ignore[union-attr]
                if fw is None:
                    fw = FileWriter(sub, self.max_queue, self.flush_secs, self.filename_suffix)
                    self.all_writers[sub] = fw  # type: ignore[index]
            fw.add_summary(summary, global_step, walltime)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: Any = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """A histogram of all of ``values``. ``bins``: ``'tensorflow'`` (TensorFlow's log-spaced
        default edges), a NumPy rule (``'auto'``, ``'fd'``, ...), a count, or the edges."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(S.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(
        self,
        tag: str,
        min: float,  # noqa: A002 - PyTorch's names
        max: float,  # noqa: A002
        num: int,
        sum: float,  # noqa: A002
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: Any = None,
        walltime: float | None = None,
    ) -> None:
        """A histogram already counted: ``bucket_limits`` are the right edges of ``bucket_counts``."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError(
                f"add_histogram_raw: expected as many bucket_limits as bucket_counts, "
                f"got {len(bucket_limits)} and {len(bucket_counts)}"
            )
        hist = HistogramProto(
            min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
            bucket_limit=list(bucket_limits), bucket=list(bucket_counts),
        )  # fmt: skip
        self._get_file_writer().add_summary(
            Summary(value=[Summary.Value(tag=tag, histo=hist)]), global_step, walltime
        )

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Any = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """An image: ``(3, H, W)`` by default (``dataformats`` may be ``'HWC'``, ``'HW'``, ...); floats
        in [0, 1] or uint8 in [0, 255]; one channel is shown grey."""
        summary = S.image(tag, img_tensor, dataformats=dataformats, op="add_image")
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: Any = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images ``(N, 3, H, W)``, tiled into one image of 8 columns."""
        summary = S.image(tag, img_tensor, dataformats=dataformats, op="add_images")
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: Any = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure (or a list of them, shown as a grid) rendered to an image."""
        if isinstance(figure, (list, tuple)):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats="CHW")

    def add_text(
        self, tag: str, text_string: str, global_step: Any = None, walltime: float | None = None
    ) -> None:
        """A string (Markdown) shown in the Text tab under ``<tag>/text_summary``."""
        self._get_file_writer().add_summary(S.text(tag, text_string), global_step, walltime)

    def add_hparams(
        self,
        hparam_dict: dict,
        metric_dict: dict,
        hparam_domain_discrete: dict | None = None,
        run_name: str | None = None,
        global_step: Any = None,
    ) -> None:
        """One row of the HParams tab: the hyperparameters and the metrics they gave, written to the
        run ``<log_dir>/<run_name>`` (default: the current time), the metrics as scalars there."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError(
                f"add_hparams: expected hparam_dict and metric_dict as dicts, "
                f"got {type(hparam_dict).__name__} and {type(metric_dict).__name__}"
            )
        exp, ssi, sei = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=logdir) as w:
            for s in (exp, ssi, sei):
                w.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_embedding(
        self,
        mat: Any,
        metadata: list | None = None,
        label_img: Any = None,
        global_step: Any = None,
        tag: str = "default",
        metadata_header: list | None = None,
    ) -> None:
        """Points ``mat`` ``(N, D)`` for the Projector tab, with optional labels (``metadata``: N
        values, or N rows under ``metadata_header``) and thumbnails (``label_img`` ``(N, C, H, W)``)."""
        write_embedding(
            self._get_file_writer().get_logdir(), self._projector_config, mat, metadata, label_img,
            _step(global_step), tag, metadata_header,
        )  # fmt: skip

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: Any = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """A precision-recall curve from 0/1 ``labels`` and ``predictions`` in [0, 1]."""
        summary = S.pr_curve(tag, labels, predictions, num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Charts grouping scalar tags: ``{category: {title: ['Multiline', [tags]]}}`` or
        ``['Margin', [value, lower, upper]]``. Write it once, at any time."""
        self._get_file_writer().add_summary(S.custom_scalars(layout))

    def add_custom_scalars_multilinechart(
        self, tags: list, category: str = "default", title: str = "untitled"
    ) -> None:
        """One custom chart of several scalar tags."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: list, category: str = "default", title: str = "untitled"
    ) -> None:
        """One custom chart of a value between a lower and an upper tag."""
        if len(tags) != 3:
            raise ValueError(
                f"add_custom_scalars_marginchart: expected 3 tags (value, lower, upper), got {tags}"
            )
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_graph(
        self, model: Any, input_to_model: Any = None, verbose: bool = False, use_strict_trace: bool = True
    ) -> None:
        """The graph of ops one forward pass of ``model`` on ``input_to_model`` runs (Graphs tab).
        ``use_strict_trace`` is accepted for PyTorch's signature and has no effect."""
        from glassgrad.utils.tensorboard.graph import graph

        graph_def, run_metadata = graph(model, input_to_model, verbose)
        self._get_file_writer().add_graph(graph_def, run_metadata)

    def _unsupported(self, name: str) -> None:
        raise NotImplementedError(f"SummaryWriter.{name}: not implemented in glassgrad (PyTorch has it)")

    def add_audio(
        self, tag: str, snd_tensor, global_step=None, sample_rate: int = 44100, walltime: float | None = None
    ) -> None:
        """A mono clip, ``(1, L)`` or ``(L,)`` samples in [-1, 1] (louder ones are clipped), as a WAV."""
        self._get_file_writer().add_summary(S.audio(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_video(self, *args: Any, **kwargs: Any) -> None:
        self._unsupported("add_video")

    def add_mesh(self, *args: Any, **kwargs: Any) -> None:
        self._unsupported("add_mesh")

    def add_onnx_graph(self, *args: Any, **kwargs: Any) -> None:
        self._unsupported("add_onnx_graph")

    def add_image_with_boxes(self, *args: Any, **kwargs: Any) -> None:
        self._unsupported("add_image_with_boxes")

    def flush(self) -> None:
        """Write everything queued to disk (every run directory of ``add_scalars`` too)."""
        with self._lock:
            writers = list((self.all_writers or {}).values())
        for w in writers:
            w.flush()

    def close(self) -> None:
        """Flush and close every event file; a later ``add_*`` opens a new one."""
        with self._lock:
            writers = list((self.all_writers or {}).values())
            self.file_writer = self.all_writers = None
            _open_writers.discard(self)
        errors = []
        for w in writers:  # every file closed even if one fails (the first error is raised)
            try:
                w.flush()
                w.close()
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]

    def __del__(self) -> None:  # a writer dropped without close() still writes what it queued
        # Not while the interpreter shuts down: the event writers' threads are gone by then and
        # close() would wait for them forever (the atexit hook has closed every writer before).
        if getattr(self, "file_writer", None) is not None and not sys.is_finalizing():
            with contextlib.suppress(Exception):
                self.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
