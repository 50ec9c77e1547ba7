"""Round 26 (rosinality/stylegan2-pytorch): the ADA augment (non_leaking.py) draws
``torch.randint(high=len(categories), size=(size,))``, ``high`` by keyword with no ``low``;
glassgrad's ``low`` was required, so the augment stopped with a TypeError."""

import pytest

import glassgrad as gg

CALLS = {
    "high_kw_size_kw": ((), {"high": 3, "size": (50,)}),
    "low_high_kw": ((), {"low": 1, "high": 3, "size": (50,)}),
    "low_pos_high_kw": ((1,), {"high": 3, "size": (50,)}),
    "high_pos_size_kw": ((3,), {"size": (50,)}),
    "high_size_pos": ((3, (50,)), {}),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_randint_keywords_as_torch(torch, name):
    args, kwargs = CALLS[name]
    want, got = torch.randint(*args, **kwargs), gg.randint(*args, **kwargs)
    assert (
        tuple(got.shape) == tuple(want.shape)
        and str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    )
    lo = kwargs.get("low", args[0] if len(args) == 1 and "high" in kwargs else 0)
    hi = kwargs.get("high", args[0] if args and "high" not in kwargs else None)
    assert set(got.tolist()) == set(range(lo, hi))  # 50 draws from 2 or 3 values see them all


def test_randint_without_bounds_names_the_op(torch):
    with pytest.raises(TypeError):
        torch.randint(size=(2,))
    with pytest.raises(TypeError, match="randint: expected high"):
        gg.randint(size=(2,))
