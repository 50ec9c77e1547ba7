"""Round 38, group kge: what pykeen (TransE/DistMult/ComplEx/RotatE/ConvE/ERMLP with its sLCWA and
LCWA training loops, ``RankBasedEvaluator``, its interaction/loss/regularizer/initializer tests)
and sbi (NPE/NLE/NRE) needed.

pykeen imports ``torch.optim.adamw``; its complex embeddings pick their real dtype with
``getattr(torch, torch.finfo(dtype).dtype)``, which needs ``finfo.dtype`` to be a name (NumPy's
``np.finfo`` gave a NumPy dtype). ``TriplesFactory.to_path_binary`` saves ``{"path": PosixPath}``
with ``torch.save``. ``get_candidate_set_size`` calls ``triples[:, [0, 2]].view(-1)``: PyTorch's
advanced-indexing result is contiguous, NumPy's was transposed. The Weisfeiler-Lehman and random-walk
initializers (and ``torch_ppr``) multiply two sparse adjacency matrices and ask ``is_sparse_csr``.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import CheckpointError


def _np(t):
    return t.detach().numpy()


# ---- torch.optim.adamw -----------------------------------------------------------------------


def test_optim_adamw_submodule_names_adamw():
    from glassgrad.optim.adamw import AdamW

    assert AdamW is gg.optim.AdamW


# ---- finfo / iinfo ---------------------------------------------------------------------------

_FLOATS = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")
_INTS = ("uint8", "int8", "int16", "int32", "int64")


@pytest.mark.parametrize("name", _FLOATS)
def test_finfo_attributes_and_types_as_pytorch(torch, name):
    ours, theirs = gg.finfo(getattr(gg, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)


def test_finfo_dtype_names_the_real_dtype_of_a_complex_one():
    # pykeen's Embedding: getattr(torch, torch.finfo(torch.cfloat).dtype) is float32
    assert getattr(gg, gg.finfo(gg.cfloat).dtype) is gg.float32
    assert getattr(gg, gg.finfo(gg.complex128).dtype) is gg.float64


def test_finfo_without_argument_follows_the_default_dtype(torch):
    assert gg.finfo() == gg.finfo(gg.float32)
    assert gg.finfo(float).dtype == torch.finfo(float).dtype == "float64"
    old = gg.get_default_dtype()
    try:
        gg.set_default_dtype(gg.float64)
        assert gg.finfo().dtype == "float64"
    finally:
        gg.set_default_dtype(old)


def test_finfo_numbers_are_python_floats_so_arithmetic_stays_python():
    eps = gg.finfo(gg.float32).eps
    assert type(1.0 - eps) is float and 1.0 - eps == 1.0 - 2.0**-23


@pytest.mark.parametrize("name", _INTS)
def test_iinfo_attributes_and_types_as_pytorch(torch, name):
    ours, theirs = gg.iinfo(getattr(gg, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)


def test_finfo_iinfo_refuse_the_wrong_kind_with_typeerror_as_pytorch():
    with pytest.raises(TypeError, match="finfo.*floating point.*int32"):
        gg.finfo(gg.int32)
    with pytest.raises(TypeError, match="iinfo.*integer.*float32"):
        gg.iinfo(gg.float32)
    with pytest.raises(TypeError, match="iinfo.*bool"):
        gg.iinfo(gg.bool)
    with pytest.raises(TypeError, match="finfo.*not str 'float32'"):
        gg.finfo("float32")


def test_finfo_iinfo_are_types_with_equality():
    assert isinstance(gg.finfo(gg.float32), gg.finfo) and isinstance(gg.iinfo(gg.int8), gg.iinfo)
    assert gg.finfo(gg.float32) == gg.finfo(gg.complex64) != gg.finfo(gg.float64)
    assert len({gg.iinfo(gg.int8), gg.iinfo(gg.int8), gg.iinfo(gg.int16)}) == 2


# ---- save / load: paths, sets, complex numbers, dtypes ---------------------------------------


def test_save_load_paths_sets_complex_and_dtypes(tmp_path):
    here = pathlib.Path("/data/nations") if os.name != "nt" else pathlib.Path("C:/data")
    obj = {
        "metadata": {"path": here, "pure": pathlib.PurePosixPath("a/b")},
        "windows": pathlib.PureWindowsPath("C:/x/y"),
        "ids": {3, 1, (2, 4)},
        "frozen": frozenset({"a", "b"}),
        "z": 1.5 - 2j,
        "nz": np.complex64(1 - 1j),
        "dtype": gg.float64,
        "keys": {frozenset({1}): 2, gg.int8: "i8", 2j: None},
    }
    gg.save(obj, tmp_path / "f.pt")
    back = gg.load(tmp_path / "f.pt")
    assert back == obj
    assert type(back["metadata"]["path"]) is type(here)
    assert type(back["metadata"]["pure"]) is pathlib.PurePosixPath
    assert type(back["windows"]) is pathlib.PureWindowsPath
    assert type(back["ids"]) is set and type(back["frozen"]) is frozenset
    assert type(back["nz"]) is np.complex64 and type(back["z"]) is complex
    assert back["dtype"] is gg.float64


def test_a_concrete_path_of_the_other_system_loads_pure(tmp_path):
    other = "windows" if os.name != "nt" else "posix"
    gg.save({"p": pathlib.PurePath("x")}, tmp_path / "f.pt")
    import json

    from glassgrad.serialization import _Decoder

    node = json.loads(json.dumps({"__path__": "C:/x", "flavour": other, "pure": False}))
    got = _Decoder({}, "f", lambda t: t).decode(node)
    assert isinstance(got, pathlib.PurePath) and not isinstance(got, pathlib.Path)


@pytest.mark.parametrize(
    "node",
    [
        {"__path__": 3, "flavour": "posix", "pure": True},
        {"__path__": "a", "flavour": "mac", "pure": True},
        {"__set__": "abc", "frozen": False},
        {"__complex__": [1.0], "np": "<c16"},
        {"__complex__": [1.0, 2.0], "np": "<f8"},
        {"__dtype__": "Tensor"},
        {"__dtype__": "__class__"},
    ],
)
def test_corrupted_value_tags_are_checkpoint_errors(tmp_path, node):
    import json

    import safetensors.numpy as stn

    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps({"v": node})}
    (tmp_path / "bad.pt").write_bytes(stn.save({}, metadata=meta))
    with pytest.raises(CheckpointError, match="bad.pt"):
        gg.load(tmp_path / "bad.pt")


# ---- advanced indexing gives a contiguous result ----------------------------------------------

_KEYS = [
    lambda x: x[:, [0, 2]],
    lambda x: x[:, :, [0, 2, 2]],
    lambda x: x[1, :, [0, 2]],
    lambda x: x[:, [[0], [1]], [1, 2]],
    lambda x: x[:, x[0, :, 0] > 20],
    lambda x: x[[0, 1], :, [0, 2]],
    lambda x: x[..., [1]],
]


@pytest.mark.parametrize("i", range(len(_KEYS)))
def test_advanced_indexing_result_is_contiguous_as_pytorch(torch, i):
    a = np.arange(60.0).reshape(3, 4, 5)
    ours, theirs = _KEYS[i](gg.tensor(a)), _KEYS[i](torch.tensor(a))
    np.testing.assert_array_equal(_np(ours), theirs.numpy())
    assert ours.is_contiguous() and theirs.is_contiguous()
    assert ours.stride() == theirs.stride()
    np.testing.assert_array_equal(_np(ours.view(-1)), theirs.view(-1).numpy())


def test_pykeen_candidate_triples_view_runs():
    triples = gg.tensor(np.random.default_rng(0).integers(0, 14, (40, 3)))
    assert triples[:, [0, 2]].view(-1).unique().numel() <= 14


def test_advanced_indexing_gradcheck_float64_with_repeats():
    rng = np.random.default_rng(1)
    x = gg.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    assert gradcheck(lambda t: t[:, [0, 2, 2]] * 2, (x,))
    assert gradcheck(lambda t: t[1, :, [4, 0, 4]] ** 2, (x,))


# ---- sparse @ sparse --------------------------------------------------------------------------


def _coo(lib, n, k, nnz, seed, dtype=np.float64):
    r = np.random.default_rng(seed)
    ix = np.stack([r.integers(0, n, nnz), r.integers(0, k, nnz)])  # duplicates too: uncoalesced
    v = r.standard_normal(nnz).astype(dtype)
    return lib.sparse_coo_tensor(lib.as_tensor(ix), lib.as_tensor(v), (n, k), requires_grad=True)


@pytest.mark.parametrize("seed", range(4))
def test_sparse_times_sparse_matches_pytorch(torch, seed):
    r = np.random.default_rng(seed)
    n, k, m = (int(s) for s in r.integers(1, 7, 3))
    nnz_a, nnz_b = int(r.integers(0, n * k + 1)), int(r.integers(0, k * m + 1))
    w = r.standard_normal((n, m))
    for op in ("sparse.mm", "@", "mm"):
        res = []
        for lib in (gg, torch):
            a, b = _coo(lib, n, k, nnz_a, seed + 10), _coo(lib, k, m, nnz_b, seed + 20)
            c = lib.sparse.mm(a, b) if op == "sparse.mm" else a @ b if op == "@" else lib.mm(a, b)
            (c.to_dense() * lib.as_tensor(w)).sum().backward()
            res.append((c, a.grad.to_dense(), b.grad.to_dense(), a, b))
        (c1, ga1, gb1, a1, b1), (c2, ga2, gb2, _, _) = res
        assert c1.is_sparse and c1.is_coalesced() and c2.is_coalesced()
        assert c1._nnz() == c2._nnz()
        np.testing.assert_array_equal(c1.indices().numpy(), c2.indices().numpy())
        np.testing.assert_allclose(_np(c1.values()), c2.values().detach().numpy(), rtol=1e-12, atol=1e-12)
        # the gradient on each operand's own pattern (PyTorch's also lists positions outside it)
        mask_a, mask_b = _np(a1.detach().to_dense()) != 0, _np(b1.detach().to_dense()) != 0
        np.testing.assert_allclose(_np(ga1)[mask_a], ga2.numpy()[mask_a], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(gb1)[mask_b], gb2.numpy()[mask_b], rtol=1e-12, atol=1e-12)


def test_sparse_times_sparse_gradcheck_float64_random_shapes():
    r = np.random.default_rng(5)
    for _ in range(3):
        n, k, m = (int(s) for s in r.integers(1, 6, 3))
        ia = np.stack([r.integers(0, n, 7), r.integers(0, k, 7)])
        ib = np.stack([r.integers(0, k, 6), r.integers(0, m, 6)])
        va = gg.tensor(r.standard_normal(7), requires_grad=True)
        vb = gg.tensor(r.standard_normal(6), requires_grad=True)

        def f(va, vb, ia=ia, ib=ib, n=n, k=k, m=m):
            a, b = gg.sparse_coo_tensor(ia, va, (n, k)), gg.sparse_coo_tensor(ib, vb, (k, m))
            return gg.sparse.mm(a, b).to_dense()

        assert gradcheck(f, (va, vb))


def test_sparse_times_sparse_refuses_mismatches_naming_the_op():
    a = gg.ones(2, 3).to_sparse()
    with pytest.raises(gg.errors.ShapeError, match=r"sparse.mm: expected \(n, k\) @ \(k, m\)"):
        gg.sparse.mm(a, a)
    with pytest.raises(gg.errors.DTypeError, match="one dtype"):
        gg.sparse.mm(a, gg.ones(3, 2, dtype=gg.float64).to_sparse())
    hybrid = gg.ones(2, 3).to_sparse(1)
    with pytest.raises(gg.errors.ShapeError, match="2-D sparse matrices"):
        gg.sparse.mm(hybrid, gg.ones(3, 2).to_sparse())


def test_sparse_tensor_answers_layout_predicates_as_pytorch(torch):
    names = ("is_sparse_csr", "is_mkldnn", "is_quantized", "is_meta", "is_nested", "is_cpu", "is_complex")
    names += ("is_xpu", "is_mps", "is_ipu", "is_vulkan", "is_signed")
    for dtype in ("float64", "complex64"):
        s1 = gg.ones(2, 2, dtype=getattr(gg, dtype)).to_sparse()
        s2 = torch.ones(2, 2, dtype=getattr(torch, dtype)).to_sparse()
        for n in names:
            v1, v2 = getattr(s1, n), getattr(s2, n)
            assert (v1() if callable(v1) else v1) == (v2() if callable(v2) else v2), n


@pytest.mark.parametrize("name", ("complex64", "complex128", "float16", "float64", "bool", "uint8", "int8"))
def test_is_signed_as_pytorch_complex_included(torch, name):
    ours, theirs = gg.ones(2, dtype=getattr(gg, name)), torch.ones(2, dtype=getattr(torch, name))
    assert ours.is_signed() == theirs.is_signed() == gg.is_signed(ours)


# ---- layer sizes given as integer tensors ------------------------------------------------------


def test_layer_sizes_accept_integer_tensors_as_pytorch(torch):
    makers = {
        "Linear": lambda lib, n: lib.nn.Linear(n, 3),
        "Conv2d": lambda lib, n: lib.nn.Conv2d(n, 4, 3),
        "Embedding": lambda lib, n: lib.nn.Embedding(n, 3),
        "BatchNorm1d": lambda lib, n: lib.nn.BatchNorm1d(n),
        "PReLU": lambda lib, n: lib.nn.PReLU(n),
        "Bilinear": lambda lib, n: lib.nn.Bilinear(n, 2, 3),
    }
    for make in makers.values():
        for size in (lambda lib: lib.tensor(5), lambda lib: lib.tensor([5]), lambda lib: np.int32(5)):
            ours, theirs = make(gg, size(gg)), make(torch, size(torch))
            assert [tuple(p.shape) for p in ours.parameters()] == [
                tuple(p.shape) for p in theirs.parameters()
            ]
    # sbi's CNNEmbedding: channels * torch.prod(torch.tensor(output_size)) as in_features
    lin = gg.nn.Linear(4 * gg.prod(gg.tensor([3, 7])), 2)
    assert lin.in_features == 84 and type(lin.in_features) is int


def test_layer_sizes_still_refuse_float_and_bool_tensors():
    with pytest.raises(TypeError, match="Linear: expected in_features to be a non-negative int"):
        gg.nn.Linear(gg.tensor(5.0), 3)
    with pytest.raises(TypeError, match="Linear: expected in_features"):
        gg.nn.Linear(gg.tensor(True), 3)
    with pytest.raises(gg.errors.ShapeError, match="Linear: expected in_features"):
        gg.nn.Linear(gg.tensor(-1), 3)
    with pytest.raises(ValueError, match="BatchNorm1d: expected a positive num_features"):
        gg.nn.BatchNorm1d(gg.tensor(0))


# ---- torch._higher_order_ops.associative_scan ---------------------------------------------------


def _lru_step(qi, qj):  # sbi's LRU binary_operator_diag: (A_j A_i, A_j b_i + b_j)
    ai, bi = qi
    aj, bj = qj
    return aj * ai, aj * bi + bj


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_generic_matches_pytorch(torch, n, reverse):
    from torch._higher_order_ops.associative_scan import associative_scan as theirs

    from glassgrad._higher_order_ops.associative_scan import associative_scan as ours

    r = np.random.default_rng(n)
    a = r.standard_normal((3, n, 4)) + 1j * r.standard_normal((3, n, 4))
    b = r.standard_normal((3, n, 4)) + 1j * r.standard_normal((3, n, 4))
    got = ours(_lru_step, (gg.tensor(a), gg.tensor(b)), dim=1, reverse=reverse, combine_mode="generic")
    want = theirs(
        _lru_step, (torch.tensor(a), torch.tensor(b)), dim=1, reverse=reverse, combine_mode="generic"
    )
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(_np(g), w.numpy(), rtol=1e-12, atol=1e-12)
    x = r.standard_normal((n, 3))
    cumsum = ours(lambda u, v: u + v, gg.tensor(x), -2, reverse=reverse, combine_mode="generic")
    expect = np.cumsum(x[::-1], 0)[::-1] if reverse else np.cumsum(x, 0)
    np.testing.assert_allclose(_np(cumsum), expect, rtol=1e-12, atol=1e-12)


def test_associative_scan_gradcheck_float64():
    from glassgrad._higher_order_ops.associative_scan import associative_scan

    r = np.random.default_rng(3)
    a = gg.tensor(r.uniform(0.5, 1.0, (2, 5)), requires_grad=True)
    b = gg.tensor(r.standard_normal((2, 5)), requires_grad=True)
    assert gradcheck(lambda a, b: associative_scan(_lru_step, (a, b), 1, combine_mode="generic")[1], (a, b))


def test_associative_scan_refuses_as_pytorch_naming_the_op():
    from glassgrad._higher_order_ops.associative_scan import associative_scan

    x = gg.ones(3)
    with pytest.raises(ValueError, match="associative_scan: for combine_mode='pointwise'.*CUDA"):
        associative_scan(lambda u, v: u + v, x, 0)
    with pytest.raises(ValueError, match="associative_scan: combine_mode must be"):
        associative_scan(lambda u, v: u + v, x, 0, combine_mode="fast")
    with pytest.raises(ValueError, match="associative_scan: expected leaves of one nonzero size"):
        associative_scan(lambda u, v: u, (x, gg.ones(4)), 0, combine_mode="generic")
    with pytest.raises(ValueError, match="associative_scan: xs leaves must be Tensors"):
        associative_scan(lambda u, v: u, [1.0], 0, combine_mode="generic")
