"""glassgrad/tensor_methods_extra.py against PyTorch: geqrf/orgqr/ormqr, in-place addmv_/
baddbmm_/conj_physical_, apply_/map_/map2_, nonzero_static, storage_type, is_set_to; and
``Tensor.type`` refusing what is not a dtype or a tensor type."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_rng = np.random.default_rng(2)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_householder_qr_family_matches_torch(torch, shape):
    a = _rng.standard_normal(shape)
    th, tt = torch.geqrf(torch.tensor(a))
    gh, gt = gg.tensor(a).geqrf()
    np.testing.assert_allclose(gh.numpy(), th.numpy(), atol=1e-12)
    np.testing.assert_allclose(gt.numpy(), tt.numpy(), atol=1e-12)
    if shape[-2] >= shape[-1]:
        np.testing.assert_allclose(gg.orgqr(gh, gt).numpy(), torch.orgqr(th, tt).numpy(), atol=1e-12)
    m = shape[-2]
    for left in (True, False):
        for transpose in (False, True):
            c = _rng.standard_normal(shape[:-2] + ((m, 2) if left else (2, m)))
            want = torch.ormqr(th, tt, torch.tensor(c), left, transpose)
            got = gh.ormqr(gt, gg.tensor(c), left, transpose)
            np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    with pytest.raises(gg.errors.ShapeError, match="ormqr: expected tau of min"):
        gg.ormqr(gh, gt, gg.zeros(*shape[:-2], m + 1, 2))


def test_inplace_products_and_callables_match_torch(torch):
    for m in (torch, gg):
        y = m.ones(2)
        assert y.addmv_(m.ones(2, 4), m.ones(4), beta=2, alpha=0.5).tolist() == [4.0, 4.0]
        assert m.ones(2, 2, 2).baddbmm_(m.ones(2, 2, 3), m.ones(2, 3, 2)).tolist()[0] == [
            [4.0, 4.0],
            [4.0, 4.0],
        ]
        assert m.addmv_(m.ones(2), m.ones(2, 3), m.ones(3)).tolist() == [4.0, 4.0]
        z = m.tensor([1 + 2j, 3 - 1j])
        assert z.conj_physical_().tolist() == [1 - 2j, 3 + 1j]
        assert m.tensor([1, 2]).apply_(lambda v: v * 2.7).tolist() == [2, 5]  # int results truncated
        assert (
            m.ones(2, 3).map_(m.tensor([1.0, 2.0, 3.0]), lambda a, b: a + b).tolist() == [[2.0, 3.0, 4.0]] * 2
        )
        assert m.ones(3).map2_(m.ones(3) * 2, m.ones(3) * 3, lambda a, b, c: a + b * c).tolist() == [7.0] * 3
        with pytest.raises(RuntimeError):
            m.tensor([1.0, 2.0], requires_grad=True).apply_(lambda v: v)
        assert m.nonzero_static(m.tensor([[0, 1], [3, 0]]), size=3).tolist() == [[0, 1], [1, 0], [-1, -1]]
        assert m.tensor([0, 1, 0, 2]).nonzero_static(size=1, fill_value=-5).tolist() == [[1]]
        x = m.zeros(3, 4)
        assert (x.is_set_to(x), x.is_set_to(x.view(4, 3)), x.is_set_to(x[:]), x.is_set_to(m.zeros(3, 4))) == (
            True, False, True, False,
        )  # fmt: skip
        assert not x.is_distributed() and x.const_data_ptr() == x.data_ptr()
    assert (
        gg.zeros(2).storage_type() is gg.FloatStorage
        and gg.zeros(2, dtype=gg.int64).storage_type() is gg.LongStorage
    )


def test_type_refuses_what_is_not_a_type(torch):
    for bad in (int, float, np.float32, "float", bool):
        with pytest.raises(ValueError):
            torch.zeros(2).type(bad)
        with pytest.raises(ValueError, match="type: invalid type"):
            gg.zeros(2).type(bad)
    assert gg.zeros(2).type("torch.DoubleTensor").dtype == gg.float64
    assert (
        gg.zeros(2).type(gg.DoubleTensor).dtype == gg.float64 and gg.zeros(2).type(gg.int64).dtype == gg.int64
    )
