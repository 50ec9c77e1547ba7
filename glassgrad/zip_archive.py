"""``torch.PyTorchFileReader``: the records of a PyTorch zip checkpoint (what ``torch.save`` of
PyTorch writes: ``data.pkl``, ``data/0``, ``version``, ... under one top folder), read as bytes.

glassgrad's own ``save`` writes safetensors and never unpickles, so this reader only hands out raw
records; Lightning's lazy loader names the class in an annotation and reads ``data.pkl`` with it.
"""

from __future__ import annotations

import os
import zipfile
from typing import IO, Any

__all__ = ["PyTorchFileReader"]


class PyTorchFileReader:
    """``PyTorchFileReader(path_or_binary_file)``: the records of a zip archive by their names
    below its top folder (``get_record("data.pkl")``); a file that is not a zip archive raises
    ``RuntimeError``, as PyTorch's."""

    def __init__(self, file: str | os.PathLike | IO[bytes]) -> None:
        try:
            self._zip = zipfile.ZipFile(os.fspath(file) if isinstance(file, str | os.PathLike) else file)
        except zipfile.BadZipFile as e:
            raise RuntimeError(
                f"PyTorchFileReader failed reading zip archive: {file!r} is not a zip archive "
                "(glassgrad.save writes safetensors; this reads PyTorch's zip checkpoints)"
            ) from e
        names = self._zip.namelist()
        if not names or "/" not in names[0]:
            raise RuntimeError(
                "PyTorchFileReader failed finding central directory: expected records under one top "
                f"folder, got {names[:3]!r}"
            )
        self._prefix = names[0].split("/", 1)[0] + "/"
        self._names = {n[len(self._prefix) :]: n for n in names if n.startswith(self._prefix)}

    def get_all_records(self) -> list[str]:
        return list(self._names)

    def has_record(self, name: str) -> bool:
        return name in self._names

    def _full(self, name: str) -> str:
        if name not in self._names:
            raise RuntimeError(f"PyTorchFileReader: record {name!r} not found in the archive")
        return self._names[name]

    def get_record(self, name: str) -> bytes:
        return self._zip.read(self._full(name))

    def get_record_size(self, name: str) -> int:
        return self._zip.getinfo(self._full(name)).file_size

    def serialization_id(self) -> str:
        """The id PyTorch's writer stores in ``.data/serialization_id`` ('' when there is none)."""
        key = ".data/serialization_id"
        return self.get_record(key).decode() if key in self._names else ""

    def __repr__(self) -> str:
        return f"PyTorchFileReader({len(self._names)} records under {self._prefix!r})"

    def __getstate__(self) -> Any:
        raise TypeError("cannot pickle 'PyTorchFileReader' object")
