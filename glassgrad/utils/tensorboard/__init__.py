"""``glassgrad.utils.tensorboard``: PyTorch's ``torch.utils.tensorboard`` (``SummaryWriter``), on
the ``tensorboard`` package's event writer and protocol buffers.

``tensorboard`` is an optional dependency (``pip install tensorboard``, or the ``tensorboard``
extra); without it this import fails with an ``ImportError`` saying so, as PyTorch's does.

>>> import tempfile
>>> from glassgrad.utils.tensorboard import SummaryWriter
>>> with SummaryWriter(tempfile.mkdtemp()) as writer:
...     for step in range(3):
...         writer.add_scalar("loss", 1.0 / (step + 1), step)
"""

from __future__ import annotations

try:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter as _EventFileWriter  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without tensorboard
    raise ImportError(
        "glassgrad.utils.tensorboard needs the tensorboard package: pip install tensorboard "
        "(or pip install 'glassgrad[tensorboard]')"
    ) from e

from glassgrad.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
