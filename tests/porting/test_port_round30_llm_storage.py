"""Round 30, LLM group: mistral-src's ``Transformer.from_folder`` calls
``safetensors.torch.load_file``, which maps the file with ``torch.UntypedStorage.from_file``,
slices the storage per tensor, and reads each slice with ``torch.asarray(..., dtype=torch.uint8)``
before ``.view(dtype).reshape(shape)``. The same calls on glassgrad and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad

WEIGHT = (np.arange(12, dtype=np.float16) / 8).reshape(3, 4)


def _file(tmp_path, name="blob.bin"):
    path = tmp_path / name
    path.write_bytes(b"HEAD" + WEIGHT.tobytes() + b"TAIL")
    return path


def load_like_safetensors(torch, path):
    """safetensors' reading steps: map, slice the bytes of one tensor, reinterpret, reshape."""
    storage = torch.UntypedStorage.from_file(str(path), shared=False, nbytes=4 + WEIGHT.nbytes + 4)
    part = storage[4 : 4 + WEIGHT.nbytes]
    raw = torch.asarray(part, dtype=torch.uint8, device="cpu")
    w = raw.view(torch.float16).reshape(3, 4)
    w[0, 0] = 9.0  # copy on write: the file keeps its bytes, the storage sees the write
    return w, storage[4], len(storage), len(part), part.nbytes(), storage.untyped() is storage


def test_storage_from_file_slice_and_asarray_port(torch, tmp_path):
    # one file each: rewriting a mapped file would change what the first mapping shows
    ours = load_like_safetensors(glassgrad, _file(tmp_path, "ours.bin"))
    theirs = load_like_safetensors(torch, _file(tmp_path, "theirs.bin"))
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    assert ours[0].dtype == glassgrad.float16 and ours[0].shape == (3, 4)
    assert ours[1:] == theirs[1:]
    assert (tmp_path / "ours.bin").read_bytes()[4:6] == WEIGHT.tobytes()[:2]


def asarray_reads_bytes(torch):
    s = torch.UntypedStorage(10)
    s.fill_(1)
    default = torch.asarray(s)  # int64 when no dtype is given; a partial element is left out
    f32 = torch.asarray(s[0:6], dtype=torch.float32)
    s[0] = 0
    return [default.dtype == torch.int64, default.tolist(), f32.shape[0], f32.view(torch.int32).tolist()]


def test_asarray_of_an_untyped_storage_shares_its_bytes_port(torch):
    assert asarray_reads_bytes(glassgrad) == asarray_reads_bytes(torch)


def test_storage_constructors_and_shared_file_port(torch, tmp_path):
    for lib in (glassgrad, torch):
        assert lib.UntypedStorage([1, 2, 3]).tolist() == [1, 2, 3]
        assert lib.UntypedStorage(4).nbytes() == 4
        made = tmp_path / f"made_{lib.__name__}.bin"
        s = lib.UntypedStorage.from_file(str(made), shared=True, nbytes=4)
        s[1] = 7
        del s
        assert made.read_bytes() == b"\x00\x07\x00\x00"
        assert lib.UntypedStorage.from_file(str(made)).tolist() == []
    # a view of a tensor's memory still counts its writes in the tensor's version
    t = glassgrad.zeros(2)
    t.untyped_storage()[0:4][0] = 1
    assert t._version == 1


def test_storage_refusals_name_the_op(tmp_path):
    path = _file(tmp_path)
    with pytest.raises(
        RuntimeError, match=r"UntypedStorage.from_file: .* holds 32 bytes, fewer than nbytes=40"
    ):
        glassgrad.UntypedStorage.from_file(str(path), False, 40)
    with pytest.raises(RuntimeError, match="UntypedStorage.from_file: no file"):
        glassgrad.UntypedStorage.from_file(str(tmp_path / "none.bin"), False, 4)
    with pytest.raises(RuntimeError, match=r"UntypedStorage\[slice\(0, 4, 2\)\]: .* step 1, got step 2"):
        glassgrad.UntypedStorage(8)[0:4:2]


def frombuffer_reads(torch):
    """``safetensors.torch.load(data)``'s step: ``torch.frombuffer(bytearray, dtype=...)``."""
    import array

    ba = bytearray(WEIGHT.tobytes())
    w = torch.frombuffer(ba, dtype=torch.float16).reshape(3, 4)
    part = torch.frombuffer(ba, dtype=torch.int16, count=2, offset=4)
    w[1, 0] = 2.0  # shares the bytearray's memory
    ints = torch.frombuffer(array.array("i", [1, -2]), dtype=torch.int32)
    grad = torch.frombuffer(bytearray(8), dtype=torch.float32, requires_grad=True)
    return [w.numpy().copy(), part.tolist(), bytes(ba[8:10]), ints.tolist(), grad.requires_grad, grad.dtype]


def test_frombuffer_shares_the_buffer_port(torch):
    ours, theirs = frombuffer_reads(glassgrad), frombuffer_reads(torch)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1:5] == theirs[1:5] and str(ours[5]).split(".")[1] == str(theirs[5]).split(".")[1]


@pytest.mark.parametrize(
    "kw, words",
    [
        (
            dict(count=3),
            "count=3 elements of glassgrad.float32 need 12 bytes after offset 0, the buffer has 8",
        ),
        (dict(offset=9), "offset 9 bytes is outside the buffer's 8 bytes"),
        (dict(offset=2), "the 6 bytes after offset 2 are not a whole number of glassgrad.float32"),
        (dict(count=0), r"the buffer \(8 bytes\) and count \(0\) must both be non-zero"),
    ],
)
def test_frombuffer_refusals_match_pytorch_kind(torch, kw, words):
    with pytest.raises(ValueError):
        torch.frombuffer(bytearray(8), dtype=torch.float32, **kw)
    with pytest.raises(ValueError, match="frombuffer: " + words):
        glassgrad.frombuffer(bytearray(8), dtype=glassgrad.float32, **kw)


def test_frombuffer_of_read_only_bytes_warns_once_like_pytorch():
    # PyTorch warns once per process with these opening words (its flag cannot be reset here)
    with pytest.warns(UserWarning, match="The given buffer is not writable") as got:
        t = glassgrad.frombuffer(b"\x01\x00\x02\x00", dtype=glassgrad.int16)
        glassgrad.frombuffer(b"\x01\x00", dtype=glassgrad.int16)
    assert len(got) == 1 and t.tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="add_: expected a writable tensor"):
        t.add_(1)  # the bytes object stays as it is
