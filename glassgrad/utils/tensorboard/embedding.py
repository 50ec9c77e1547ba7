"""The files of TensorBoard's embedding projector, laid out as PyTorch writes them:
``<logdir>/<step:05d>/<tag>/tensors.tsv`` (+ ``metadata.tsv``, ``sprite.png``) and one
``<logdir>/projector_config.pbtxt`` listing every embedding written so far."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

from glassgrad.errors import ShapeError
from glassgrad.utils.tensorboard._convert import encode_png, grid_nchw, to_numpy

__all__ = ["encode_tag", "write_embedding"]


def encode_tag(tag: str) -> str:
    """A tag made safe as one directory name: ``%``, ``/`` and ``\\`` percent-encoded.

    >>> encode_tag("a/b%c")
    'a%2fb%25c'
    """
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _write(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _number(v: Any) -> str:
    """One coordinate of ``mat`` in ``tensors.tsv``: its value as a Python number (a float32 is
    written with the digits of its float64 value, as PyTorch writes it)."""
    return str(v.item() if isinstance(v, np.generic) else v)


def write_embedding(
    logdir: str,
    config: ProjectorConfig,
    mat: Any,
    metadata: list | None,
    label_img: Any,
    global_step: int | None,
    tag: str,
    metadata_header: list | None,
) -> None:
    """Write one embedding's files, append it to ``config`` and rewrite ``projector_config.pbtxt``."""
    m = to_numpy(mat, "add_embedding")
    if m.ndim != 2:
        raise ShapeError(f"add_embedding: expected mat of shape (N, D), got {tuple(m.shape)}")
    imgs = None if label_img is None else to_numpy(label_img, "add_embedding")
    if metadata is not None and len(metadata) != m.shape[0]:
        raise ValueError(
            f"add_embedding: expected {m.shape[0]} metadata rows (one per point), got {len(metadata)}"
        )
    if imgs is not None and (imgs.ndim != 4 or imgs.shape[0] != m.shape[0]):
        raise ShapeError(
            f"add_embedding: expected label_img of shape ({m.shape[0]}, C, H, W), got {tuple(imgs.shape)}"
        )
    step = 0 if global_step is None else int(global_step)
    subdir = f"{step:05d}/{encode_tag(tag)}"
    path = os.path.join(logdir, subdir)
    if os.path.isdir(path):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    elif os.path.exists(path):
        raise NotADirectoryError(f"add_embedding: expected {path!r} to be a directory, got a file")
    os.makedirs(path, exist_ok=True)
    info = EmbeddingInfo(tensor_name=f"{tag}:{step:05d}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        if metadata_header:
            if len(metadata_header) != len(metadata[0]):
                raise ValueError(
                    f"add_embedding: expected a header of {len(metadata[0])} columns, got {len(metadata_header)}"
                )
            rows = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
        else:
            rows = [str(x) for x in metadata]  # labels as str() writes them, as PyTorch
        _write(os.path.join(path, "metadata.tsv"), ("\n".join(rows) + "\n").encode("utf-8"))
        info.metadata_path = f"{subdir}/metadata.tsv"
    if imgs is not None:
        side = math.ceil(imgs.shape[0] ** 0.5)
        chw = grid_nchw(imgs, ncols=side, op="add_embedding")  # (N, C, H, W) -> (C, rows*H, side*W)
        # a square canvas as wide as the grid (taller when the thumbnails are taller than wide)
        square = np.zeros((max(chw.shape[1], chw.shape[2]), chw.shape[2], 3))
        square[: chw.shape[1]] = chw.transpose(1, 2, 0)[:, :, :3]  # (C, H, W) -> (H, W, C)
        png = encode_png(np.uint8(np.clip(square * 255, 0, 255)))[0]
        _write(os.path.join(path, "sprite.png"), png)
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([imgs.shape[3], imgs.shape[2]])
    lines = ["\t".join(_number(v) for v in row) + "\n" for row in m]
    _write(os.path.join(path, "tensors.tsv"), "".join(lines).encode("utf-8"))
    config.embeddings.extend([info])
    _write(
        os.path.join(logdir, "projector_config.pbtxt"), text_format.MessageToString(config).encode("utf-8")
    )
