"""Named results (``glassgrad.return_types``): PyTorch's type names, fields, repr and pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import glassgrad as gg

A = np.array([[1.0, 3.0, 2.0], [2.0, 0.0, 5.0]])
CALLS = {
    "max": lambda T, x: x.max(1),
    "min": lambda T, x: T.min(x, 0, keepdim=True),
    "topk": lambda T, x: T.topk(x, 2),
    "sort": lambda T, x: x.sort(1),
    "median": lambda T, x: x.median(1),
    "nanmedian": lambda T, x: x.nanmedian(1),
    "mode": lambda T, x: x.mode(1),
    "kthvalue": lambda T, x: x.kthvalue(2, 1),
    "aminmax": lambda T, x: T.aminmax(x),
    "cummax": lambda T, x: T.cummax(x, 1),
    "cummin": lambda T, x: T.cummin(x, 1),
    "histogram": lambda T, x: T.histogram(x.reshape(-1), bins=3),
    "svd": lambda T, x: T.svd(x),
    "linalg_svd": lambda T, x: T.linalg.svd(x, full_matrices=False),
    "linalg_qr": lambda T, x: T.linalg.qr(x.T),
    "qr": lambda T, x: T.qr(x.T),
    "linalg_eigh": lambda T, x: T.linalg.eigh(x @ x.T),
    "linalg_solve_ex": lambda T, x: T.linalg.solve_ex(x[:, :2], x[:, 2:]),
    "linalg_inv_ex": lambda T, x: T.linalg.inv_ex(x[:, :2]),
    "linalg_lstsq": lambda T, x: T.linalg.lstsq(x[:, :2], x[:, 2:]),
    "linalg_cholesky_ex": lambda T, x: T.linalg.cholesky_ex(x @ x.T),
    "slogdet": lambda T, x: T.slogdet(x[:, :2]),
}

EXACT = {
    "max",
    "min",
    "topk",
    "sort",
    "median",
    "nanmedian",
    "mode",
    "kthvalue",
    "aminmax",
    "cummax",
    "cummin",
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_named_results_read_and_print_like_pytorch(torch, name):
    theirs = CALLS[name](torch, torch.tensor(A))
    ours = CALLS[name](gg, gg.tensor(A))
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert type(ours).__module__ == "glassgrad.return_types"
    assert ours._fields == type(theirs).__match_args__ and len(ours) == len(theirs)
    if name in EXACT:  # the same text, line for line, once the library's name is swapped
        assert repr(ours).replace("glassgrad.", "torch.") == repr(theirs)
    else:  # decompositions: the values may differ in the last digits (and in sign, for svd/qr)
        assert repr(ours).splitlines()[0] == f"glassgrad.return_types.{name}("
    assert str(ours) == repr(ours)
    again = pickle.loads(pickle.dumps(ours))
    assert type(again) is type(ours)
    for a, b in zip(again, ours, strict=True):
        assert a.tolist() == b.tolist()


def test_return_type_is_made_once_per_name():
    from glassgrad.return_types import return_type

    assert return_type("topk", ["values", "indices"]) is type(gg.topk(gg.tensor([1.0, 2.0]), 1))


def test_linalg_slogdet_is_named_as_pytorch_names_it(torch):
    a = [[2.0, 1.0], [1.0, 3.0]]
    for fn in (lambda T, x: T.linalg.slogdet(x), lambda T, x: T.slogdet(x), lambda T, x: x.slogdet()):
        theirs, ours = fn(torch, torch.tensor(a)), fn(gg, gg.tensor(a))
        assert type(ours).__name__ == type(theirs).__name__
        assert ours._fields == type(theirs).__match_args__
        assert [t.item() for t in ours] == pytest.approx([t.item() for t in theirs])


def test_named_result_made_from_one_sequence_as_pytorch(torch):
    for lib in (torch, gg):
        t = lib.tensor([1.0, 2.0])
        r = lib.return_types.topk([t, t * 2])
        assert type(r) is lib.return_types.topk and r.indices.tolist() == [2.0, 4.0]
        with pytest.raises(TypeError, match="2-sequence"):
            lib.return_types.topk((t, t, t))
    assert gg.return_types.topk(gg.tensor(1.0), gg.tensor(2)).indices.item() == 2  # the library's own form
