"""``save`` behaves like ``open(path, "wb")`` and cleans up after killed saves; ``load`` turns
every hostile file into a ``CheckpointError`` naming the file, with bounded work."""

from __future__ import annotations

import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import serialization
from glassgrad.errors import CheckpointError
from glassgrad.safe_read import MAX_DEPTH, MAX_HEADER_BYTES
from glassgrad.serialization import load, save

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _needs_safetensors():
    pytest.importorskip("safetensors")


def _file(header: dict | bytes, data: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _with_structure(structure: str) -> bytes:
    """A glassgrad file whose structure metadata is ``structure`` (and no tensors)."""
    return _file({"__metadata__": {"glassgrad.format": "1", "glassgrad.structure": structure}})


# ------------------------------------------------------------------ save: read-only targets
# Root may write a 0444 file (so open() succeeds and save must too); a process without
# CAP_DAC_OVERRIDE may not. Run the check both ways where the machine allows.
def _plain_user_prefix() -> list[str]:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return [""]  # unavailable: marked below
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


_SAVE_LIKE_OPEN = """
import sys
import glassgrad as gg
path = sys.argv[1]
try:
    open(path, "ab").close()  # what open(path, "wb") would say, without truncating
    opened = True
except PermissionError:
    opened = False
try:
    gg.save({"w": gg.ones(2)}, path)
    saved = True
except PermissionError as e:
    saved = False
    assert path in str(e), e
print(opened, saved)
"""


def test_save_refuses_a_read_only_file_as_open_would(tmp_path):
    prefix = _plain_user_prefix()
    if prefix == [""]:
        pytest.skip("running as root without setpriv: root may write any file")
    path = tmp_path / "ro.safetensors"
    path.write_bytes(b"old")
    path.chmod(0o444)
    out = subprocess.run(
        [*prefix, sys.executable, "-c", _SAVE_LIKE_OPEN, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]  # open() refuses, so does save
    assert path.read_bytes() == b"old" and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro.safetensors"]  # no temporary left


def test_save_to_a_writable_file_still_works(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"old")
    save({"w": gg.ones(2)}, path)
    assert load(path)["w"].tolist() == [1.0, 1.0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_save_writes_through_a_pipe_as_open_would_not_over_it(tmp_path):
    # A private FIFO stands for /dev/null or a pipe: never the real /dev/null, which a save that
    # renames over its target would replace for every process on the machine.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    save({"w": gg.ones(2)}, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the pipe was replaced by a file"
    assert got and got[0][8:].startswith(b"{")  # a safetensors file went through the pipe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


# ------------------------------------------------------------------ save: temporaries
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_are_named_for_their_file_and_stale_ones_are_removed(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    names = []

    def spy(f, data):  # mid-write: the temporary is the only file in the folder
        names.extend(os.listdir(tmp_path))
        f.write(data)

    monkeypatch.setattr(serialization, "_write_bytes", spy)
    save({"w": gg.ones(2)}, path)
    assert len(names) == 1 and names[0].startswith(f".ckpt.safetensors.glassgrad-tmp-{os.getpid()}-")
    monkeypatch.undo()

    stale = tmp_path / f".ckpt.safetensors.glassgrad-tmp-{_dead_pid()}-abc123"  # a killed save
    live = tmp_path / f".ckpt.safetensors.glassgrad-tmp-{os.getppid()}-def456"  # one under way
    other = tmp_path / f".other.safetensors.glassgrad-tmp-{_dead_pid()}-ghi789"  # another file's
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    save({"w": gg.ones(3)}, path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["ckpt.safetensors", live.name, other.name])
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ load: what is not a file
def test_a_folder_is_a_checkpoint_error_naming_it(tmp_path):
    with pytest.raises(CheckpointError, match=rf"load: {tmp_path}: is a folder") as e:
        load(tmp_path)
    assert isinstance(e.value, OSError)


_LOAD_DEV_ZERO = """
import resource, sys, time
# A regression would read /dev/zero until memory runs out: cap this process's heap at 1 GB.
resource.setrlimit(resource.RLIMIT_DATA, (1 << 30, 1 << 30))
import glassgrad as gg
from glassgrad.errors import CheckpointError
t0 = time.perf_counter()
try:
    gg.load("/dev/zero")
except CheckpointError as e:
    print(round(time.perf_counter() - t0, 3), e)
"""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero (POSIX)")
def test_a_device_is_refused_without_reading_it():
    pytest.importorskip("resource")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_DEV_ZERO], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seconds, message = out.stdout.strip().split(" ", 1)
    assert message.startswith("load: /dev/zero: not a regular file") and float(seconds) < 5


def test_a_stream_of_zeros_is_read_only_as_far_as_the_header(tmp_path):
    class Zeros:  # an endless stream, as /dev/zero opened by the caller
        name = "zeros"
        read_bytes = 0

        def read(self, n=-1):
            assert n >= 0, "an unbounded read"
            self.read_bytes += n
            return b"\0" * n

    z = Zeros()
    with pytest.raises(CheckpointError, match="load: zeros: corrupted header"):
        load(z)
    assert z.read_bytes == 8


def test_the_header_size_is_capped_before_it_is_read(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}")
    with pytest.raises(
        CheckpointError, match=rf"big\.safetensors: .*header says {MAX_HEADER_BYTES + 1} bytes, over"
    ):
        load(path)


# ------------------------------------------------------------------ load: nesting depth
@pytest.mark.parametrize("where", ["header", "structure"])
def test_deep_nesting_is_a_checkpoint_error_not_a_recursion_error(tmp_path, where):
    path = tmp_path / "deep.safetensors"
    deep = "[" * 100_000 + "]" * 100_000
    if where == "header":
        path.write_bytes(_file(deep.encode()))
    else:
        path.write_bytes(_with_structure(deep))
    with pytest.raises(
        CheckpointError, match=rf"deep\.safetensors: corrupted .*nested deeper than {MAX_DEPTH}"
    ):
        load(path)


def test_nesting_just_under_the_limit_loads_and_save_refuses_deeper(tmp_path):
    obj: list = []
    for _ in range(MAX_DEPTH - 1):
        obj = [obj]
    save(obj, tmp_path / "ok.safetensors")
    got = load(tmp_path / "ok.safetensors")
    for _ in range(MAX_DEPTH - 1):
        got = got[0]
    assert got == []
    with pytest.raises(ValueError, match=f"save: expected data nested at most {MAX_DEPTH} levels"):
        save([obj], tmp_path / "deep.safetensors")
    assert not (tmp_path / "deep.safetensors").exists()


# ------------------------------------------------------------------ load: __np__ scalars
@pytest.mark.parametrize(
    "node",
    [
        {"__np__": "|V300000000", "value": 0},  # 300 MB of np.void from a few bytes
        '{"__np__": "<i8", "value": 1' + "0" * 5000 + "}",  # over Python's int-parsing limit
        {"__np__": "<i8", "value": 10**30},  # OverflowError in NumPy
        {"__np__": "<f8", "value": 10**400},
        {"__np__": "<i2", "value": 70000},
        {"__np__": "<f8", "value": "nan please"},
        {"__np__": "|b1", "value": 3},
        {"__np__": "<M8[s]", "value": 0},  # datetime64: not a type save writes
        {"__np__": "O", "value": 0},
        {"__np__": ["<f8"], "value": 1.0},
        {"__np__": "<U1", "value": "too long"},
    ],
)
def test_np_scalar_metadata_is_checked_before_numpy_builds_it(tmp_path, node):
    path = tmp_path / "np.safetensors"
    node = node if isinstance(node, str) else json.dumps(node)
    path.write_bytes(_with_structure('{"x": ' + node + "}"))
    with pytest.raises(CheckpointError, match=r"np\.safetensors: corrupted structure metadata"):
        load(path)


def test_np_scalars_still_round_trip(tmp_path):
    obj = {
        "f32": np.float32(1.5),
        "i8": np.int8(-3),
        "u64": np.uint64(2**64 - 1),
        "b": np.bool_(True),
        "f16": np.float16(0.25),
        "s": np.str_("hé"),
        "inf": np.float64("inf"),
    }
    save(obj, tmp_path / "s.safetensors")
    got = load(tmp_path / "s.safetensors")
    for k, v in obj.items():
        assert type(got[k]) is type(v) and got[k] == v, k


# ------------------------------------------------------------------ load: other malformed headers
@pytest.mark.parametrize(
    "header",
    [
        {"a": ["not", "a", "dict"]},
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 10**15]}},
        {"__metadata__": {"glassgrad.format": "1", "glassgrad.structure": 5}},
        {"__metadata__": {"glassgrad.format": "1"}},
    ],
)
def test_malformed_headers_are_checkpoint_errors(tmp_path, header):
    path = tmp_path / "h.safetensors"
    path.write_bytes(_file(header))
    with pytest.raises(CheckpointError, match=r"h\.safetensors"):
        load(path)
