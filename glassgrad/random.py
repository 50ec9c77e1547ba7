"""One seeded generator behind every random draw in glassgrad (``manual_seed`` makes runs repeat;
unseeded, it starts from OS entropy, as PyTorch's)."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any, Iterator

import numpy as np

from glassgrad.device import check_device
from glassgrad.device import device as _device
from glassgrad.errors import ArgumentError, DeviceError

__all__ = [
    "manual_seed",
    "seed",
    "initial_seed",
    "get_generator",
    "draws_watched",
    "drawn_states",
    "rewind_draws",
    "Generator",
    "get_rng_state",
    "set_rng_state",
    "rng_state_dict",
    "fork_rng",
    "check_state",
    "uniform_values",
    "normal_values",
]


class Generator:
    """A seedable random source, like ``torch.Generator`` (wraps ``numpy.random.Generator``).

    ``Generator(device="cpu")`` and ``Generator("cpu")`` take PyTorch's device argument (any
    device but the CPU is refused, as every device is here); ``Generator(5)`` is glassgrad's
    shorthand for ``Generator().manual_seed(5)``.
    """

    def __init__(self, seed: Any = None, device: Any = None) -> None:
        if isinstance(seed, (str, _device)):  # torch.Generator("cpu"): PyTorch's first argument
            seed, device = None, seed
        check_device(device, "Generator")
        self.device = _device("cpu")
        self._seed = DEFAULT_SEED if seed is None else _seed_value(seed)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = _seed_value(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def clone_state(self) -> Generator:
        """A new generator in this one's state (and with its seed), as ``torch.Generator.clone_state``."""
        other = Generator(self._seed)
        other.rng.bit_generator.state = self.rng.bit_generator.state
        return other

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Reseed from fresh OS entropy, as ``torch.Generator.seed``; returns the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy) % 2**63).initial_seed()

    def get_state(self) -> Any:
        """The generator's state as a uint8 tensor, as PyTorch's (a ``ByteTensor`` programs
        ``clone()``, save and hand back to :meth:`set_state`); its bytes are glassgrad's own."""
        return _as_bytes(self.rng.bit_generator.state)

    def set_state(self, state: Any) -> None:
        """Restore a :meth:`get_state` tensor (or the dict earlier glassgrad versions gave); a
        malformed one raises ``ValueError`` and changes nothing."""
        self.rng.bit_generator.state = check_state(state, "Generator.set_state")


def _seed_value(seed: Any) -> int:
    """A seed as PyTorch reads one: any integer in [-2^63, 2^64), a negative one as its 64-bit two's
    complement (``manual_seed(-1)`` seeds with 2^64 - 1; NumPy would refuse it)."""
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(
            f"manual_seed: Overflow when unpacking long long (expected a seed in [-2^63, 2^64), got {seed})"
        )
    return seed % 2**64


#: A new ``Generator()``'s seed, PyTorch's (``torch.Generator().initial_seed()``).
DEFAULT_SEED = 67280421310721

# The global generator starts from fresh OS entropy, as PyTorch's does: an unseeded program draws
# differently on every run, and processes started by spawn draw independently (a fixed start would
# give every worker the same stream). ``manual_seed`` makes runs repeat.
_default_generator = Generator()
_default_generator.seed()
#: ``torch.random.default_generator`` (also ``torch.default_generator``): the global generator
#: itself (MONAI's DataLoader seeds its workers from it; port round 38).
default_generator = _default_generator


def manual_seed(seed: int) -> Generator:
    """Seed the global generator; every later random draw in glassgrad follows from it."""
    return _default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the global generator from fresh OS entropy and return the seed (``torch.seed``)."""
    return _default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with (``torch.initial_seed``)."""
    return _default_generator.initial_seed()


def get_generator(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else the global one."""
    gen = _default_generator if generator is None else generator
    if gen.__class__ is not Generator and not isinstance(gen, Generator):
        # PyTorch's TypeError; ``generator or default`` once drew a falsy 0 from the global stream
        raise TypeError(f"argument 'generator' must be torch.Generator, not {type(generator).__name__}")
    if _watching and _draws.log is not None and id(gen) not in _draws.log:  # (a global first: cheap)
        _draws.log[id(gen)] = (gen, gen.rng.bit_generator.state)
    return gen.rng


class _Draws(threading.local):
    log: dict | None = None  # inside draws_watched(): id -> (generator, its state before the first draw)


_draws = _Draws()
_watching = 0  # how many draws_watched() blocks are open, in any thread


@contextlib.contextmanager
def draws_watched() -> Iterator[dict]:
    """Within the block, the generators drawn from (every draw goes through :func:`get_generator`),
    as ``{id: (generator, its state before its first draw in the block)}``: vmap's randomness
    modes cover a ``generator=`` argument as PyTorch's do, not only the global generator. A block
    nested in another hands its generators on to the outer one (a draw in an inner vmap is one of
    the outer vmap's too)."""
    global _watching
    outer = _draws.log
    _draws.log = {}
    _watching += 1
    try:
        yield _draws.log
    finally:
        _watching -= 1
        inner, _draws.log = _draws.log, outer
        if outer is not None:
            for key, entry in inner.items():
                outer.setdefault(key, entry)


def drawn_states(drawn: dict) -> dict:
    """The current state of every generator in ``drawn`` (a :func:`draws_watched` log), by id."""
    return {key: gen.rng.bit_generator.state for key, (gen, _) in drawn.items()}


def rewind_draws(drawn: dict, states: dict | None = None) -> None:
    """Set every generator in ``drawn`` (a :func:`draws_watched` log) back to its state before its
    first draw in the block, or to its entry in ``states`` (from :func:`drawn_states`) where it
    has one: a transform that reruns ``func`` replays the draws of every generator it used (an
    explicit ``generator=`` too, not only the global one)."""
    for key, (gen, before) in drawn.items():
        gen.rng.bit_generator.state = before if states is None else states.get(key, before)


def check_floating(op: str, dtype: np.dtype, kinds: str = "fc") -> None:
    """Refuse to fill an integer or bool tensor from a continuous distribution, as PyTorch's kernels
    do (NotImplementedError, a RuntimeError); NumPy would truncate the draws into it silently.
    ``kinds``: the dtype kinds ``op`` fills (``"fc"``: floats and complex, as ``uniform_``)."""
    if dtype.kind not in kinds:
        what = "an integral, floating-point or boolean" if "b" in kinds else "an integral or floating-point"
        what = f"{what} tensor" if "i" in kinds else "a floating point tensor (a continuous distribution)"
        raise NotImplementedError(f"{op}: expected {what}, got {dtype}")


def uniform_values(rng: np.random.Generator, a: float, b: float, shape: tuple, dtype: np.dtype) -> Any:
    """U(a, b) samples to fill a tensor of ``shape`` and ``dtype``: for a complex one its real and
    imaginary parts each, side by side (PyTorch's ``uniform_`` fills ``view_as_real``)."""
    if dtype.kind != "c":
        return rng.uniform(a, b, shape)
    return rng.uniform(a, b, (*shape, 2)).view(np.complex128)[..., 0]  # (*shape, 2) -> (*shape)


def normal_values(rng: np.random.Generator, mean: float, std: float, shape: tuple, dtype: np.dtype) -> Any:
    """N(mean, std^2) samples to fill a tensor of ``shape`` and ``dtype``: for a complex one its
    real and imaginary parts each N(mean, std^2 / 2), as PyTorch's ``normal_`` (E|z - mean|^2 = std^2)."""
    if dtype.kind != "c":
        return rng.normal(mean, std, shape)
    return rng.normal(mean, std / 2**0.5, (*shape, 2)).view(np.complex128)[..., 0]  # (*shape, 2) -> (*shape)


def get_rng_state() -> Any:
    """The global generator's state, a uint8 tensor as PyTorch's (``torch.get_rng_state``)."""
    return _default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore a :func:`get_rng_state` tensor (or an earlier glassgrad version's dict)."""
    _default_generator.rng.bit_generator.state = check_state(new_state, "set_rng_state")


def rng_state_dict() -> dict:
    """The global generator's state as NumPy's dict: what glassgrad compares internally."""
    return _default_generator.rng.bit_generator.state


#: The length of a state tensor: PyTorch's CPU generator state (``torch.get_rng_state().numel()``),
#: so that states compare elementwise (``(get_rng_state() == saved).all()``, BoTorch's tests)
STATE_BYTES = 5056
_MAGIC = b"ggPCG64\x01"


def _as_bytes(state: dict) -> Any:
    """A PCG64 state dict as a uint8 tensor of PyTorch's length: a tag, the 128-bit ``state`` and
    ``inc`` (little-endian), ``has_uint32`` and the 32-bit ``uinteger``, then zeros."""
    from glassgrad.tensor import Tensor  # (tensor.py imports this module's users)

    inner = state["state"]
    raw = (
        _MAGIC
        + int(inner["state"]).to_bytes(16, "little")
        + int(inner["inc"]).to_bytes(16, "little")
        + bytes([int(state["has_uint32"])])
        + int(state["uinteger"]).to_bytes(4, "little")
    )
    data = np.zeros(STATE_BYTES, dtype=np.uint8)
    data[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return Tensor(data, _wrap=True)


def _as_dict(state: Any) -> Any:
    """A state tensor (or array) back to NumPy's dict; a dict or anything else as it came. Earlier
    glassgrad versions' states (their JSON text's bytes, of varying length) still read."""
    data = getattr(state, "_data", state)
    if isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1:
        raw = data.tobytes()
        if len(raw) == STATE_BYTES and raw.startswith(_MAGIC):
            at = len(_MAGIC)
            return {
                "bit_generator": "PCG64",
                "state": {
                    "state": int.from_bytes(raw[at : at + 16], "little"),
                    "inc": int.from_bytes(raw[at + 16 : at + 32], "little"),
                },
                "has_uint32": raw[at + 32],
                "uinteger": int.from_bytes(raw[at + 33 : at + 37], "little"),
            }
        try:
            return json.loads(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None  # not one of ours: refused below, by name
    return state


@contextlib.contextmanager
def fork_rng(
    devices: Any = None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str | None = None,
) -> Iterator[None]:
    """Within it, random draws leave the global generator as they found it: its state is saved on
    entry and put back on exit (also on an exception), as ``torch.random.fork_rng``. ``enabled=False``
    (or ``device_type="meta"``) forks nothing. ``devices`` lists accelerator ids to fork too: there
    are none here, so only ``None`` or an empty list is accepted."""
    if not enabled or device_type == "meta":
        yield
        return
    ids = [] if devices is None else list(devices)
    if ids:
        raise DeviceError(
            f"{_caller}({_devices_kw}={ids}, device_type={device_type!r}): glassgrad has no "
            "accelerator generator to fork, only the CPU's (always forked); expected None or []"
        )
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


class RNGStateTypeError(ValueError, TypeError):
    """A generator state that is no uint8 tensor (nor a dict): PyTorch's ``TypeError`` ("RNG state
    must be a torch.ByteTensor"), still the ``ValueError`` glassgrad raised before."""


def check_state(state: Any, where: str = "set_rng_state") -> dict:
    """NumPy's state dict for ``state`` if it is a generator state that :func:`get_rng_state` could
    have returned (a tensor of its bytes, or the dict), else an error saying so (NumPy's own message
    names its Cython internals): as PyTorch, a ``TypeError`` for what is no uint8 tensor and a
    ``RuntimeError`` for a corrupt one (both also ``ValueError``)."""
    given, state = state, _as_dict(state)
    probe = np.random.PCG64(0)  # a throwaway: the real generator is only set once the state is good
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        data = getattr(given, "_data", given)
        byte_tensor = isinstance(data, np.ndarray) and data.dtype == np.uint8
        kind = f" of {data.dtype}" if isinstance(data, np.ndarray) else ""
        keys = sorted(state) if isinstance(state, dict) else f"{type(given).__name__}{kind}"
        raise (ArgumentError if byte_tensor or isinstance(given, dict) else RNGStateTypeError)(
            f"{where}: expected a PCG64 state from get_state() (its uint8 tensor, or a dict with "
            f"'bit_generator': 'PCG64', 'state': {{'state', 'inc'}}, 'has_uint32', 'uinteger'), got "
            f"{'a corrupt one' if byte_tensor or isinstance(given, dict) else 'no uint8 tensor'} ({keys})"
        ) from None
    return probe.state
