"""``torch.serialization``'s type aliases and constants, for code that annotates with them.

Pyro's param store, for one, does ``from torch.serialization import MAP_LOCATION``; MONAI's
``StateCacher`` does ``from torch.serialization import DEFAULT_PROTOCOL``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Union

from glassgrad.device import device

# what ``load(map_location=...)`` takes: a function of (storage, location), a device, a string, a dict
MAP_LOCATION = Union[Callable[[object, str], object], device, str, dict[str, str], None]  # noqa: UP007
# what ``save``/``load`` take as a file: a path or a binary file object
FileLike = Union[str, os.PathLike[str], IO[bytes]]  # noqa: UP007
# ``save``'s default ``pickle_protocol`` (accepted and ignored: glassgrad writes safetensors)
DEFAULT_PROTOCOL = 2
