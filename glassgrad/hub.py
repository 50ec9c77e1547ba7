"""``torch.hub``: the cache directory and checkpoint download/loading that model libraries import.

``get_dir``/``set_dir`` follow PyTorch's rule for the cache (``set_dir`` first, then
``$TORCH_HOME/hub``, then ``$XDG_CACHE_HOME/torch/hub``, then ``~/.cache/torch/hub``).
``load_state_dict_from_url`` downloads once into ``<hub dir>/checkpoints`` (or ``model_dir``) and
reads the file with :func:`glassgrad.load`, so it takes what ``load`` takes (safetensors files,
not pickles). ``load(dir, model, source="local")`` runs the entry point of a local directory's
``hubconf.py``; ``load``, ``list`` and ``help`` of a GitHub repository's ``hubconf.py`` are not
provided: they raise ``NotImplementedError``, saying why.

>>> import glassgrad.hub
>>> glassgrad.hub.HASH_REGEX.search("resnet18-5c106cde.pth").group(1)
'5c106cde'
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from typing import Any
from urllib.parse import urlparse
from urllib.request import Request, urlopen

__all__ = [
    "download_url_to_file",
    "get_dir",
    "help",
    "list",
    "load",
    "load_state_dict_from_url",
    "set_dir",
    "tqdm",
]

try:  # torch.hub.tqdm (torchvision's downloaders import it from here): tqdm's, when installed
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm is an optional dependency

    class tqdm:  # noqa: N801 - the name programs import
        """A silent stand-in with tqdm's counting interface (``update``, ``close``, ``with``)."""

        def __init__(self, iterable: Any = None, total: Any = None, **kwargs: Any) -> None:
            self.iterable, self.total, self.n = iterable, total, 0

        def __iter__(self) -> Any:
            return iter(self.iterable or ())

        def update(self, n: int = 1) -> None:
            self.n += n

        def close(self) -> None:
            pass

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: Any) -> None:
            pass


# the first hex run after a dash in a checkpoint's file name is its SHA-256 prefix ("name-<hash>.ext")
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
_hub_dir: str | None = None


def _get_torch_home() -> str:
    xdg = os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR)
    return os.path.expanduser(os.getenv(ENV_TORCH_HOME, os.path.join(xdg, "torch")))


def get_dir() -> str:
    """The hub cache directory: ``set_dir``'s, else ``<torch home>/hub``."""
    return _hub_dir if _hub_dir is not None else os.path.join(_get_torch_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use ``d`` (``~`` expanded) as the hub cache directory from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(
    url: str, dst: str | os.PathLike, hash_prefix: str | None = None, progress: bool = True
) -> None:
    """Download ``url`` to ``dst`` through a temporary file in the same folder, so that an
    interrupted download leaves no partial ``dst``; ``hash_prefix`` checks the SHA-256."""
    dst = os.path.expanduser(os.fspath(dst))
    sha = hashlib.sha256()
    folder = os.path.dirname(os.path.abspath(dst))
    with tempfile.NamedTemporaryFile(delete=False, dir=folder) as tmp:
        try:
            with urlopen(Request(url, headers={"User-Agent": "glassgrad.hub"})) as response:
                shutil.copyfileobj(_Hashing(response, sha), tmp)
            tmp.close()
            if hash_prefix is not None and not sha.hexdigest().startswith(hash_prefix):
                raise RuntimeError(
                    f"hub.download_url_to_file({url!r}): SHA-256 {sha.hexdigest()} does not start "
                    f"with the expected prefix {hash_prefix!r}"
                )
            shutil.move(tmp.name, dst)
        finally:
            if os.path.exists(tmp.name):
                os.remove(tmp.name)


class _Hashing:
    """A readable that feeds every chunk it hands out to a hash."""

    def __init__(self, raw: Any, sha: Any) -> None:
        self.raw, self.sha = raw, sha

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.sha.update(chunk)
        return chunk


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location: Any = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = True,
) -> Any:
    """Load the checkpoint at ``url``, downloading it into the cache first unless already there."""
    from glassgrad.serialization import load

    model_dir = model_dir if model_dir is not None else os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        match = HASH_REGEX.search(name) if check_hash else None
        download_url_to_file(url, cached, match.group(1) if match else None, progress=progress)
    return load(cached, map_location=map_location, weights_only=weights_only)


def _no_hubconf(fn: str, repo: str) -> NotImplementedError:
    return NotImplementedError(
        f"hub.{fn}({repo!r}): running a repository's hubconf.py is not provided by glassgrad; "
        "build the model from its code and load weights with load_state_dict_from_url"
    )


def _load_local(hubconf_dir: str, model: str, *args: Any, **kwargs: Any) -> Any:
    """``model(*args, **kwargs)`` from ``<hubconf_dir>/hubconf.py``, imported with the directory on
    ``sys.path`` (as PyTorch's, so the file may import its neighbours)."""
    import importlib.util
    import sys

    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    path = os.path.join(hubconf_dir, "hubconf.py")
    sys.path.insert(0, hubconf_dir)
    try:
        spec = importlib.util.spec_from_file_location("hubconf", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(hubconf_dir)
    missing = [d for d in getattr(module, "dependencies", None) or [] if importlib.util.find_spec(d) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    entry = getattr(module, model, None)
    if entry is None or not callable(entry):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return entry(*args, **kwargs)


def load(repo_or_dir: str, model: str, *args: Any, source: str = "github", **kwargs: Any) -> Any:
    """``source="local"``: the entry point ``model`` of the ``hubconf.py`` in the directory
    ``repo_or_dir``, called with ``args``/``kwargs`` (PyTorch's ``trust_repo``, ``force_reload``,
    ``verbose`` and ``skip_validation`` concern downloads and are accepted and ignored there).
    A GitHub repository (the default source) is not provided (see the module's docstring)."""
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        raise _no_hubconf("load", repo_or_dir)
    for name in ("trust_repo", "force_reload", "verbose", "skip_validation"):
        kwargs.pop(name, None)
    return _load_local(repo_or_dir, model, *args, **kwargs)


def list(github: str, *args: Any, **kwargs: Any) -> Any:  # noqa: A001 - PyTorch's name
    """Not provided (see the module's docstring)."""
    raise _no_hubconf("list", github)


def help(github: str, model: str, *args: Any, **kwargs: Any) -> Any:  # noqa: A001 - PyTorch's name
    """Not provided (see the module's docstring)."""
    raise _no_hubconf("help", github)
