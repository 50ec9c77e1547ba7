"""The IDX file format of MNIST (and Fashion-MNIST): a reader, a writer, and an ``MNIST`` dataset that
reads the four files from a LOCAL folder (glassgrad never downloads).

IDX layout (all integers big-endian)::

    bytes 0-1   0x00 0x00                 magic
    byte  2     dtype code                0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                          0x0D float32, 0x0E float64
    byte  3     ndim
    4*ndim      dims, uint32 each
    rest        the values, row-major, big-endian

Files may be gzip-compressed (``.gz``); that is detected from the content, not the name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from glassgrad.data.dataset import BatchedSamples, Dataset, int_positions
from glassgrad.tensor import Tensor

__all__ = ["IDXFormatError", "read_idx", "write_idx", "MNIST"]

_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODE_OF = {np.dtype(v).newbyteorder("="): k for k, v in _CODES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not a valid IDX file (bad magic, unknown dtype, truncated or too long)."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into a NumPy array of native byte order.

    Args:
        path: the file.

    Returns:
        The array, with the dtype and shape that the header gives.

    Raises:
        FileNotFoundError: no such file.
        IDXFormatError: the header or the size is wrong (the message says what and where).
    """
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IDXFormatError(f"read_idx: {path}: corrupt or truncated gzip data ({e})") from None
    if len(raw) < 4:
        raise IDXFormatError(f"read_idx: {path}: expected a 4-byte header, got a file of {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"read_idx: {path}: expected magic bytes 00 00, got {raw[0]:02x} {raw[1]:02x}")
    code, ndim = raw[2], raw[3]
    if code not in _CODES:
        known = ", ".join(f"0x{c:02X}" for c in _CODES)
        raise IDXFormatError(f"read_idx: {path}: expected a dtype code in ({known}), got 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(
            f"read_idx: {path}: expected {header} header bytes for {ndim} dims, got {len(raw)} bytes"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_CODES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        word = "truncated" if len(raw) - header < expected else "too long"
        raise IDXFormatError(
            f"read_idx: {path}: {word}: expected {expected} data bytes for shape {shape} of "
            f"{dtype.newbyteorder('=')}, got {len(raw) - header}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a native-order, writable copy


def write_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``compress``, default: name ends in .gz).

    Args:
        path: the file to write.
        array: a NumPy array or Tensor of uint8, int8, int16, int32, float32 or float64.
        compress: gzip the file; ``None`` decides by the ``.gz`` suffix.
    """
    arr = np.asarray(array._data if isinstance(array, Tensor) else array)
    native = arr.dtype.newbyteorder("=")
    if native not in _CODE_OF:
        raise TypeError(
            f"write_idx: expected dtype uint8, int8, int16, int32, float32 or float64, got {arr.dtype}"
        )
    if arr.ndim > 255:
        raise ValueError(f"write_idx: expected at most 255 dims, got {arr.ndim}")
    head = bytes([0, 0, _CODE_OF[native], arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    body = head + np.ascontiguousarray(arr, dtype=_CODES[_CODE_OF[native]]).tobytes()
    if compress or (compress is None and os.fspath(path).endswith(".gz")):
        body = gzip.compress(body)
    with open(path, "wb") as f:
        f.write(body)


class MNIST(Dataset):
    """MNIST (or any dataset in MNIST's four-file IDX layout) read from a local folder.

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``train=True``) or
    ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte``, each optionally ``.gz``, in ``root``,
    ``root/MNIST/raw`` (torchvision's layout) and ``root/raw``. Nothing is downloaded.

    Args:
        root: the folder holding the files.
        train: the 60,000 training images, else the 10,000 test images.
        transform: applied to each image tensor.
        target_transform: applied to each label.
        download: accepted for torchvision code; glassgrad never downloads (missing files raise
            ``FileNotFoundError`` saying where to put them).

    Shape:
        A sample is ``(image (1, H, W) float32 in [0, 1], label int)``; ``.data`` holds the raw
        ``(N, H, W)`` uint8 images and ``.targets`` the ``(N,)`` int64 labels.
    """

    files: ClassVar[dict[bool, tuple[str, str]]] = {
        True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    subdirs: ClassVar[Sequence[str]] = ("", os.path.join("MNIST", "raw"), "raw")

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        download: bool = False,
    ) -> None:
        # download: torchvision's argument, accepted so its code ports; nothing is fetched
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        images_name, labels_name = self.files[bool(train)]
        images = read_idx(self._find(images_name, labels_name, images_name))
        labels = read_idx(self._find(images_name, labels_name, labels_name))
        name = type(self).__name__
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise IDXFormatError(
                f"{name}: expected images (N, H, W) and labels (N,), got {images.shape} and {labels.shape}"
            )
        self.data = Tensor(images, _wrap=True)  # (N, H, W) uint8
        self.targets = Tensor(labels.astype(np.int64), _wrap=True)  # (N,)

    def _find(self, images_name: str, labels_name: str, name: str) -> str:
        dirs = [os.path.join(self.root, s) if s else self.root for s in self.subdirs]
        for d in dirs:
            for candidate in (name, name + ".gz"):
                path = os.path.join(d, candidate)
                if os.path.isfile(path):
                    return path
        raise FileNotFoundError(
            f"{type(self).__name__}: expected {images_name} and {labels_name} (optionally .gz) in one of "
            f"{dirs}; {name} not found. glassgrad does not download: fetch the files yourself and put "
            f"them there."
        )

    def _images(self, index: Any) -> np.ndarray:
        x = self.data._data[index].astype(np.float32) / np.float32(255.0)  # (..., H, W) in [0, 1]
        return x[..., None, :, :]  # (..., H, W) -> (..., 1, H, W)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img: Any = Tensor(self._images(index), _wrap=True)
        target: Any = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices: Sequence[int]) -> Any:
        idx = int_positions(indices)  # (B,); None for floats, bools or nothing: one by one
        if (
            idx is None
            or self.transform is not None
            or self.target_transform is not None
            or type(self).__getitem__ is not MNIST.__getitem__  # a subclass's own, as torchvision's is asked
        ):
            return [self[i] for i in indices]  # per-sample transforms need per-sample calls
        return BatchedSamples(
            [Tensor(self._images(idx), _wrap=True), Tensor(self.targets._data[idx], _wrap=True)]
        )

    def __len__(self) -> int:
        return self.data.shape[0]
