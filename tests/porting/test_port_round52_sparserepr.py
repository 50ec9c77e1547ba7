"""Round 52 (sparserepr): the repr of sparse COO tensors, to PyTorch's character.

Round 50 found the rows of ``values=tensor([...])`` and ``indices=tensor([...])`` wrapped as if
they started at column 7, and ``set_printoptions(linewidth=...)`` never reaching the suffixes (the
width was imported by value). A fuzz of 2,000 random sparse tensors against PyTorch (scratch
folder of the round) then also showed: the sum of two sparse tensors laid out otherwise (PyTorch
merges the two entry lists), PyTorch's grad_fn names of the sparse ops, ``s * x`` of a tensor with
no stored element, and ``set_printoptions(edgeitems=0)`` failing for dense tensors as well.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


@pytest.fixture(autouse=True)
def _default_printing():
    yield
    gg.set_printoptions(profile="default")
    gg.set_default_dtype(gg.float32)
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)


def _both(torch, fn):
    """repr of ``fn(lib)`` in PyTorch and here, glassgrad's names read as torch's."""
    return repr(fn(torch)), repr(fn(gg)).replace("glassgrad.", "torch.")


def _coo(lib, ix, vals, size, **kw):
    return lib.sparse_coo_tensor(lib.tensor(np.asarray(ix)), lib.tensor(np.asarray(vals)), size, **kw)


def test_seven_float64_values_wrap_at_the_width_less_their_own_indent():
    vals = np.array([-0.1321, 0.5, 2.25, -1.125, 0.75, 3.5, 1.0425])
    s = _coo(gg, [[0, 1, 2, 3, 4, 5, 6]], vals, (7,))
    want = (
        "tensor(indices=tensor([[0, 1, 2, 3, 4, 5, 6]]),\n"
        "       values=tensor([-0.1321,  0.5000,  2.2500, -1.1250,  0.7500,  3.5000,\n"
        "                       1.0425]),\n"
        "       size=(7,), nnz=7, dtype=glassgrad.float64, layout=glassgrad.sparse_coo)"
    )  # PyTorch's text (glassgrad's names), the values' rows 80 - len("       values=tensor(") wide
    assert repr(s) == want


def test_linewidth_reaches_the_suffixes(torch):
    def make(lib):
        lib.set_printoptions(linewidth=40)
        return _coo(lib, [[0, 2], [1, 0]], [1.5, -2.0], (3, 2))

    t, g = _both(torch, make)
    assert g == t
    assert "\n       layout=torch.sparse_coo)" in g  # not on the size= line at width 40


CASES = {
    "1d": ([[0, 3, 1]], np.array([1.0, -2.5, 3.25]), (5,)),
    "2d_dups": ([[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]], np.arange(5.0) - 2.5, (3, 3)),
    "3d": ([[0, 1], [1, 0], [2, 3]], np.array([1e-5, 2e3]), (2, 2, 4)),
    "dense_dims": ([[0, 2, 1]], np.arange(24.0).reshape(3, 2, 4) * 1.5, (3, 2, 4)),
    "int64": ([[0, 1, 4], [1, 1, 0]], np.array([7, -123456, 3]), (5, 2)),
    "bool": ([[0, 1, 4]], np.array([True, False, True]), (6,)),
    "complex64": ([[0, 1]], np.array([1 + 2j, -0.5 + 0.25j], np.complex64), (2,)),
    "complex128": ([[1, 0]], np.array([1e-6 + 2j, 3 - 1j]), (3,)),
    "empty": (np.zeros((2, 0), np.int64), np.zeros(0), (4, 5)),
    "empty_dense_dim": ([[1, 2]], np.zeros((2, 3, 0)), (3, 3, 0)),
    "long_2d": ([list(range(40)), [i % 7 for i in range(40)]], np.linspace(-3, 3, 40), (40, 7)),
}
OPTIONS = [
    {},
    {"linewidth": 40},
    {"linewidth": 150, "precision": 2},
    {"threshold": 5, "edgeitems": 2},
    {"threshold": 5, "edgeitems": 0},
    {"sci_mode": True, "precision": 3},
    {"profile": "short"},
    {"profile": "full", "linewidth": 60},
]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("opts", range(len(OPTIONS)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_repr_matches_pytorch(torch, case, opts, dtype):
    ix, vals, size = CASES[case]

    def make(lib):
        lib.set_default_dtype(getattr(lib, dtype))
        lib.set_printoptions(**OPTIONS[opts])
        return _coo(lib, ix, vals, size)

    t, g = _both(torch, make)
    assert g == t


@pytest.mark.parametrize(
    "op",
    ["leaf", "coalesce", "mul", "neg", "add", "sub", "to_sparse", "to_sparse_dim", "nonleaf_values"],
)
def test_requires_grad_and_grad_fn_suffixes_match_pytorch(torch, op):
    ix, vals = [[0, 1, 1, 0], [2, 0, 2, 2]], np.array([1.0, -2.0, 3.0, 4.5])

    def make(lib):
        lib.set_printoptions(linewidth=70)
        if op == "nonleaf_values":
            return lib.sparse_coo_tensor(lib.tensor(ix), lib.tensor(vals, requires_grad=True) * 1, (2, 3))
        s = _coo(lib, ix, vals, (2, 3), requires_grad=True)
        if op.startswith("to_sparse"):
            d = lib.tensor(np.arange(6.0).reshape(2, 3) - 2, requires_grad=True)
            return d.to_sparse(2) if op == "to_sparse_dim" else d.to_sparse()
        other = _coo(lib, [[1, 0]], [[5.0, 0.0, -1.0], [0.0, 2.0, 0.0]], (2, 3)).to_dense().to_sparse()
        return {
            "leaf": lambda: s,
            "coalesce": s.coalesce,
            "mul": lambda: s * 2,
            "neg": lambda: -s,
            "add": lambda: s.coalesce() + other,
            "sub": lambda: s - other,
        }[op]()

    t, g = _both(torch, make)
    assert g == t


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_dense_results_of_sparse_ops_are_named_as_pytorch(torch, dtype):
    ix, d = [[0, 1, 1], [2, 0, 2]], np.arange(6.0).reshape(3, 2)
    vals = np.array([1.0, 2.0, 3.0]).astype(dtype)
    names = []
    for lib in (torch, gg):
        s = _coo(lib, ix, vals, (2, 3), requires_grad=True)
        dense = lib.tensor(d.astype(dtype))
        outs = (s.to_dense(), s @ dense, dense.t() @ s.t())
        names.append([type(o.grad_fn).__name__ if lib is torch else o.grad_fn.name() for o in outs])
    assert names[1] == names[0] == ["ToDenseBackward0", "MmBackward0", "MmBackward0"]


ADD_CASES = [
    ([[0, 2]], [1.0, 2.0], True, [[2, 3]], [10.0, 20.0], True),  # coalesced + coalesced
    ([[2, 0]], [1.0, 2.0], False, [[2, 3]], [10.0, 20.0], True),  # walk keeps the stored order
    ([[2, 3]], [10.0, 20.0], True, [[2, 0]], [1.0, 2.0], False),
    ([[2, 0]], [1.0, 2.0], False, [[2, 0]], [1.0, 2.0], False),
    ([[2, 0]], [1.0, 2.0], False, [[3, 3]], [5.0, 6.0], False),  # an input's own duplicates stay
    ([[1, 0], [0, 2]], [-0.0, 4.0], False, [[1], [1]], [-0.0], True),  # -0.0 reads 0.0
    ([[4]], [3.0], True, np.zeros((1, 0), np.int64), np.zeros(0), True),
]


@pytest.mark.parametrize("case", range(len(ADD_CASES)))
def test_sparse_add_lays_out_entries_as_pytorch(torch, case):
    ti, tv, tc, si, sv, sc = ADD_CASES[case]
    size = (5,) * len(ti)
    res = []
    for lib in (torch, gg):
        t = _coo(lib, ti, tv, size)
        s = _coo(lib, si, sv, size)
        t, s = (t.coalesce() if tc else t), (s.coalesce() if sc else s)
        r = t + s
        res.append((r._indices().numpy().tolist(), r._values().numpy(), r.is_coalesced()))
    (ti_t, tv_t, c_t), (ti_g, tv_g, c_g) = res
    assert ti_g == ti_t and c_g == c_t
    np.testing.assert_array_equal(tv_g, tv_t)
    np.testing.assert_array_equal(np.signbit(tv_g), np.signbit(tv_t))


def test_complex_sparse_add_spreads_a_nan_part_as_pytorch(torch):
    a = np.array([complex(np.nan, 0.5), -0.0 - 0.0j, complex(1, np.inf)], np.complex64)
    b = np.array([-0.0 + 0j, complex(-0.0, -2)], np.complex64)
    out = []
    for lib in (torch, gg):
        r = _coo(lib, [[0, 1, 2]], a, (4,)) + _coo(lib, [[1, 3]], b, (4,))
        out.append(r._values().numpy())
    np.testing.assert_array_equal(out[1], out[0])
    for part in ("real", "imag"):
        np.testing.assert_array_equal(np.signbit(getattr(out[1], part)), np.signbit(getattr(out[0], part)))


def test_sparse_add_gradcheck_on_random_structures():
    rng = np.random.default_rng(5)
    for _ in range(4):
        dense = (int(rng.integers(1, 3)),) * int(rng.integers(0, 2))
        size = (4, 3) + dense
        ti, si = (rng.integers(0, 3, (2, int(rng.integers(1, 6)))) for _ in range(2))
        tv = gg.tensor(rng.standard_normal((ti.shape[1],) + dense), requires_grad=True)
        sv = gg.tensor(rng.standard_normal((si.shape[1],) + dense), requires_grad=True)
        co = bool(rng.integers(0, 2))

        def fn(tv, sv, ti=ti, si=si, size=size, co=co):
            t = gg.sparse_coo_tensor(gg.tensor(ti), tv, size)
            s = gg.sparse_coo_tensor(gg.tensor(si), sv, size)
            r = (t.coalesce() + s.coalesce()) if co else (t + s)
            return r._values()

        assert gradcheck(fn, (tv, sv))


def test_mul_of_a_sparse_tensor_with_no_stored_element_keeps_no_entry(torch):
    res = []
    for lib in (torch, gg):
        s = _coo(lib, [[1, 2, 1]], np.zeros((3, 2, 0)), (3, 2, 0), requires_grad=True)
        r = s * 2
        res.append((r._nnz(), tuple(r._indices().shape), tuple(r._values().shape), r.is_coalesced()))
    assert res[1] == res[0] == (0, (1, 0), (0, 2, 0), True)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (0, 3)])
@pytest.mark.parametrize("dtype", ["int64", "float64", "bool", "complex64"])
@pytest.mark.parametrize("threshold", [0, 3, 1000])
def test_dense_repr_with_no_edge_items_matches_pytorch(torch, shape, dtype, threshold):
    arr = (np.arange(int(np.prod(shape))).reshape(shape) * 1.25 + 0.5).astype(dtype)

    def make(lib):
        lib.set_printoptions(edgeitems=0, threshold=threshold)
        return lib.tensor(arr)

    t, g = _both(torch, make)
    assert g == t
