"""Gradcheck cases for ops/setitem.py: ``y[key] = v`` recorded on a non-leaf, with basic keys
(v broadcast), unique advanced indices, bool masks and an int beside an index list; and ops/overwrite.py:
``y.copy_(v)``, ``y.fill_(s)``, ``y[...] = v``, which write all of y."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.ops.harness import case, shapes, values


def _written(key):
    def fn(a, v):
        y = a * 1  # a non-leaf: the write is recorded
        y[key] = v
        return y

    return fn


@case("setitem")
def _basic(draw):
    shape = draw(shapes(2, 3, min_side=2, max_side=4))
    key, vshape = draw(
        st.sampled_from(
            [
                ((slice(1, None),), (1, *shape[1:])),  # broadcast along dim 0
                ((0,), (shape[-1],)),
                ((Ellipsis, slice(None, None, 2)), ((shape[-1] + 1) // 2,)),
            ]
        )
    )
    return _written(key), (values(draw, shape), values(draw, vshape))


@case("setitem")
def _advanced(draw):
    shape = draw(shapes(2, 3, min_side=3, max_side=4))
    key, vshape = draw(
        st.sampled_from(
            [
                (([2, 0],), (2, *shape[1:])),  # unique indices: a repeated one keeps only its last write
                (
                    (0, slice(None), [1, 0]) if len(shape) == 3 else (0, [1, 0]),
                    (shape[1], 2) if len(shape) == 3 else (2,),
                ),
            ]
        )
    )
    return _written(key), (values(draw, shape), values(draw, vshape))


def _overwritten(how):
    def fn(a, v):
        y = a * 1  # a non-leaf: the write is recorded (an Overwrite: a gets zeros)
        if how == "copy_":
            y.copy_(v)
        elif how == "fill_":
            y.fill_(v.sum())
        else:
            y[...] = v
        return y * a  # a's gradient through the product only

    return fn


@case("overwrite")
def _overwrite(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    how = draw(st.sampled_from(["copy_", "fill_", "setitem"]))
    vshape = shape[draw(st.integers(0, len(shape))) :]  # v broadcast over the leading dims
    return _overwritten(how), (values(draw, shape), values(draw, vshape))
