"""Round 66 (PyTorch's forward-mode autograd tests, second part): ``out=`` refuses a dual tensor
as output or input with PyTorch's ``NotImplementedError`` at the call (an out that is dual was
written and only a later read raised); ``forward_ad._current_level`` reads as PyTorch's module
global; the repr of a dual tensor ends with PyTorch's ``tangent=`` suffix."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as gg_fwad


def _fwad(lib):
    return lib.autograd.forward_ad


_OUT_CASES = {
    # (out is the dual, inputs plain) and (an input is the dual, out plain), for several ops
    "add_into_dual": lambda lib, dual, plain: lib.add(plain, plain, out=dual),
    "add_from_dual": lambda lib, dual, plain: lib.add(dual, plain, out=plain),
    "mul_from_dual": lambda lib, dual, plain: lib.mul(dual, 2, out=lib.empty(2)),
    "sin_from_dual": lambda lib, dual, plain: lib.sin(dual, out=lib.empty(2)),
    "sin_into_dual": lambda lib, dual, plain: lib.sin(plain, out=dual),
    "cat_from_dual": lambda lib, dual, plain: lib.cat([dual, plain], out=lib.empty(4)),
}


@pytest.mark.parametrize("case", sorted(_OUT_CASES))
def test_out_with_dual_tensor_raises_as_torch(torch, case):
    raised = []
    for lib in (torch, gg):
        fwad = _fwad(lib)
        with fwad.dual_level():
            dual = fwad.make_dual(lib.tensor([0.5, 1.5]), lib.tensor([1.0, -1.0]))
            plain = lib.tensor([2.0, 3.0])
            with pytest.raises(NotImplementedError) as info:
                _OUT_CASES[case](lib, dual, plain)
            raised.append(str(info.value))
            if lib is gg:  # refused before the write (PyTorch's kernel writes out, then raises)
                primal, tangent = fwad.unpack_dual(dual)
                np.testing.assert_array_equal(primal.numpy(), [0.5, 1.5])
                np.testing.assert_array_equal(tangent.numpy(), [1.0, -1.0])
    assert all("out= function" in m for m in raised)


def test_out_without_dual_inside_level_still_writes(torch):
    for lib in (torch, gg):
        fwad = _fwad(lib)
        with fwad.dual_level():
            out = lib.empty(2)
            res = lib.add(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]), out=out)
            assert res is out
            np.testing.assert_array_equal(out.numpy(), [4.0, 6.0])
            assert fwad.unpack_dual(out).tangent is None


def test_current_level_reads_as_torch(torch):
    seen = []
    for lib in (torch, gg):
        fwad = _fwad(lib)
        levels = [fwad._current_level]
        with fwad.dual_level():
            levels.append(fwad._current_level)
        levels.append(fwad._current_level)
        seen.append(levels)
    assert seen[0] == seen[1] == [-1, 0, -1]


def test_current_level_drives_a_teardown_loop():
    gg_fwad.enter_dual_level()
    while gg_fwad._current_level >= 0:
        gg_fwad.exit_dual_level()
    assert gg_fwad._current_level == -1
    with pytest.raises(AttributeError):
        gg_fwad._no_such_name  # noqa: B018


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: (lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])),
        lambda lib: (lib.tensor([1.0, 2.0], dtype=lib.float64), lib.tensor([3.0, 4.0], dtype=lib.float64)),
        lambda lib: (lib.tensor(1.5), lib.tensor(2.0)),
        lambda lib: (lib.arange(12.0).reshape(3, 4), lib.ones(3, 4)),
    ],
)
def test_repr_of_dual_tensor_as_torch(torch, make):
    texts = []
    for lib in (torch, gg):
        fwad = _fwad(lib)
        plain = make(lib)[0]
        with fwad.dual_level():
            dual = fwad.make_dual(*make(lib))
            doubled = dual * 2
            primal, tangent = fwad.unpack_dual(dual)
            texts.append([repr(dual), repr(doubled), repr(primal), repr(tangent), repr(plain)])
        texts[-1].append(repr(dual))  # after the level: no tangent
    torch_texts = [t.replace("torch.", "glassgrad.") for t in texts[0]]
    assert texts[1] == torch_texts
    assert "tangent=" in texts[1][0] and "tangent=" not in texts[1][2] + texts[1][5]
