"""Gradcheck cases for ops/complex.py: every complex op checked through real views.

A complex input of shape s is drawn as a float64 array of shape (*s, 2) and viewed as complex128
inside the function; a complex output is viewed as real. So each case checks PyTorch's convention
(z.grad = dL/dx + i dL/dy) against central differences in x and y.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import broadcast_pair, case, shapes, values

C, R = gg.view_as_complex, gg.view_as_real


def _pairs(draw, shape, low=-2.0, high=2.0, away=0.0):
    return values(draw, (*shape, 2), low, high, away)


def _unary(op, away=0.0):
    def draw_case(draw):
        return (lambda x: op(C(x))), (_pairs(draw, draw(shapes()), away=away),)

    return draw_case


def _binary(op, away_b=0.0):
    """complex op complex, complex op real and real op complex, broadcasting."""

    def draw_case(draw):
        sa, sb = draw(broadcast_pair())
        mode = draw(st.sampled_from(["cc", "cr", "rc"]))
        a = _pairs(draw, sa) if mode[0] == "c" else values(draw, sa)
        b = _pairs(draw, sb, away=away_b) if mode[1] == "c" else values(draw, sb, away=away_b)

        def fn(x, y):
            return R(op(C(x) if mode[0] == "c" else x, C(y) if mode[1] == "c" else y))

        return fn, (a, b)

    return draw_case


case("view_as_complex")(_unary(lambda z: R(z * z)))
case("view_as_real")(_unary(R))
case("real")(_unary(lambda z: gg.real(z * z)))
case("imag")(_unary(lambda z: gg.imag(z * z)))
case("conj")(_unary(lambda z: R(z.conj() * z.exp())))
case("conj_physical")(_unary(lambda z: R(gg.conj_physical(z) * z.exp())))
case("angle")(_unary(lambda z: z.angle(), away=0.3))
case("complex_abs")(_unary(lambda z: z.abs(), away=0.3))
case("complex_exp")(_unary(lambda z: R(z.exp())))
case("complex_sqrt")(_unary(lambda z: R((z + 3).sqrt())))  # real part > 0: off the branch cut
case("complex_log")(_unary(lambda z: R((z + 3).log())))
case("complex_log1p")(_unary(lambda z: R((z + 2).log1p())))
case("complex_sin")(_unary(lambda z: R(z.sin())))
case("complex_cos")(_unary(lambda z: R(z.cos())))
case("complex_tanh")(_unary(lambda z: R((z * 0.5).tanh())))  # |Im| < pi/2: away from the poles
case("complex_tan")(_unary(lambda z: R((z * 0.5).tan())))  # |Re| < pi/2
case("complex_sinh")(_unary(lambda z: R(z.sinh())))
case("complex_cosh")(_unary(lambda z: R(z.cosh())))
case("complex_expm1")(_unary(lambda z: R(z.expm1())))
case("complex_rsqrt")(_unary(lambda z: R((z + 3).rsqrt())))
case("complex_sigmoid")(_unary(lambda z: R((z * 0.5).sigmoid())))  # |Im| < pi: away from the poles
# the inverse functions shifted off their branch cuts (the real axis past +-1 for asin, acos,
# atanh and acosh (below 1); the imaginary axis past +-i for atan and asinh)
case("complex_asin")(_unary(lambda z: R((z * 0.2 + 0.5j).asin())))
case("complex_acos")(_unary(lambda z: R((z * 0.2 + 0.5j).acos())))
case("complex_atanh")(_unary(lambda z: R((z * 0.2 + 0.5j).atanh())))
case("complex_acosh")(_unary(lambda z: R((z * 0.2 + 0.5j).acosh())))
case("complex_atan")(_unary(lambda z: R((z * 0.2 + 0.5).atan())))
case("complex_asinh")(_unary(lambda z: R((z * 0.2 + 0.5).asinh())))
case("complex_prod")(_unary(lambda z: R(z.prod())))
case("complex_sinc")(_unary(lambda z: R(z.sinc())))
case("complex_logsumexp")(_unary(lambda z: R((z * 3).logsumexp(-1))))
case("complex_cumprod")(_unary(lambda z: R(z.reshape(-1).cumprod(0))))
case("complex_logcumsumexp")(_unary(lambda z: R((z * 2).reshape(-1).logcumsumexp(0))))


@case("complex_where")
def _complex_where(draw):
    """where(cond, complex, complex | real), broadcasting cond."""
    shape = draw(shapes(min_dims=1))
    cond = np.asarray(draw(st.lists(st.booleans(), min_size=shape[-1], max_size=shape[-1])))
    real_b = draw(st.booleans())
    b = values(draw, shape) if real_b else _pairs(draw, shape)
    return (lambda x, y: R(gg.where(gg.tensor(cond), C(x), y if real_b else C(y)))), (_pairs(draw, shape), b)


@case("complex_linear")
def _complex_linear(draw):
    """F.linear with complex x (N, in), W (out, in) and b (out,)."""
    n, i, o = (draw(st.integers(1, 3)) for _ in range(3))
    return (lambda x, w, b: R(gg.nn.functional.linear(C(x), C(w), C(b)))), (
        _pairs(draw, (n, i)), _pairs(draw, (o, i)), _pairs(draw, (o,)),
    )  # fmt: skip


case("complex_add")(_binary(lambda a, b: a + b))
case("complex_sub")(_binary(lambda a, b: a - b))
case("complex_mul")(_binary(lambda a, b: a * b))
case("complex_div")(_binary(lambda a, b: a / b, away_b=0.5))
case("complex_logaddexp")(_binary(lambda a, b: gg.logaddexp(a * 2, b)))


@case("angle")
def _angle_of_real(draw):
    """angle of a real tensor: 0 or pi, gradient 0."""
    return (lambda x: x.angle() * x), (values(draw, draw(shapes()), away=0.3),)


@case("polar")
def _polar(draw):
    sa, sb = draw(broadcast_pair())
    return (lambda r, t: R(gg.polar(r, t))), (values(draw, sa, 0.2, 2.0), values(draw, sb, -4.0, 4.0))


@case("complex")
def _complex(draw):
    sa, sb = draw(broadcast_pair())
    return (lambda a, b: R(gg.complex(a, b) * gg.complex(b, a))), (values(draw, sa), values(draw, sb))


@case("complex_matmul")
def _matmul(draw):
    """Every matmul form: (k,) @ (k,), (n, k) @ (k,), (k,) @ (k, m), batched and broadcast."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    form = draw(st.sampled_from(["vv", "mv", "vm", "mm", "bm", "bb"]))
    sa = {"vv": (k,), "mv": (n, k), "vm": (k,), "mm": (n, k), "bm": (*batch, n, k), "bb": (*batch, n, k)}[
        form
    ]
    sb = {"vv": (k,), "mv": (k,), "vm": (k, m), "mm": (k, m), "bm": (k, m), "bb": (2, k, m)}[form]
    real_b = draw(st.booleans()) and form == "mm"  # complex @ real: b's gradient is real
    b = values(draw, sb) if real_b else _pairs(draw, sb)

    def fn(x, y):
        yy = y.to(gg.complex128) if real_b else C(y)
        return R(C(x) @ yy)

    return fn, (_pairs(draw, sa), b)


@case("complex_mul")
def _scalars(draw):
    """Python scalars (real and complex) beside complex tensors, and the real parts of the shape ops."""
    s = draw(st.floats(-2, 2))
    return (lambda x: R((C(x) * s + 1j) * (2.0 - C(x)) / (s + 3j))), (_pairs(draw, draw(shapes())),)


@case("complex_pow")
def _pow(draw):
    """z ** w with both complex, z ** k for a real power, and a number base: the principal branch,
    so the base stays off the negative real axis (the cut) and away from 0."""
    shape = draw(shapes())
    form = draw(st.sampled_from(["zw", "zk", "2z"]))
    z = values(draw, (*shape, 2), 0.3, 2.0)  # positive real parts: off the branch cut
    if form == "zw":
        return (lambda x, y: R(C(x) ** C(y))), (z, _pairs(draw, shape, -1.0, 1.0))
    if form == "zk":
        k = draw(st.sampled_from([2, 3, 0.5, -1.5]))
        return (lambda x: R(C(x) ** k)), (z,)
    return (lambda x: R(2.0 ** C(x))), (_pairs(draw, shape, -1.0, 1.0),)


@case("complex_einsum")
def _einsum(draw):
    """A contraction, an outer product and a batched product of complex (or one real) operands."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    eq, sa, sb = draw(
        st.sampled_from(
            [("ik,km->im", (n, k), (k, m)), ("i,j->ij", (n,), (m,)), ("bik,bk->bi", (2, n, k), (2, k))]
        )
    )
    real_b = draw(st.booleans())
    b = values(draw, sb) if real_b else _pairs(draw, sb)

    def fn(x, y):
        return R(gg.einsum(eq, C(x), y.to(gg.complex128) if real_b else C(y)))

    return fn, (_pairs(draw, sa), b)
