"""JVP rules from the recorded (differentiable) VJP, for the ops whose Jacobian has no structure
the other generic kinds use and no short formula: the SVD, QR, pseudo-inverse, matrix exponential,
least squares, the fused recurrent layers, and the extreme and product reductions of
``scatter_reduce``. See ``jvp_rules``.

The VJP g -> J^T g is linear in g, so J t is the gradient with respect to g of <J^T g, t>:
one recorded backward of the op (its rule in ``recorded_rules*.py``, run on Tensors) and one
backward through it. Exact (no finite difference), at twice a backward's cost; the same Jacobian
that the op's backward transposes, so forward and reverse mode agree (as PyTorch's do where its
forward formulas follow its backward ones).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from glassgrad.autograd import forward_ad, recorded
from glassgrad.autograd.functional import grad
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.autograd.jvp_rules import RULES, run
from glassgrad.errors import GraphError
from glassgrad.tensor import Tensor

__all__ = ["transposed"]


def _leaf(a: np.ndarray) -> Tensor:
    leaf = Tensor(a, _wrap=True)
    leaf.requires_grad = True
    return leaf


def transposed(name: str) -> Callable:
    """The rule J t = d/dg <vjp(g), t> of op ``name`` (an input's tangent with no gradient there
    is refused by name, as ``_grads`` does); not registered, for a rule that uses it for some
    variants of its op."""

    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        with forward_ad.paused(), enable_grad():
            # the inputs with a tangent as fresh leaves (rules skip the gradient of a constant),
            # the others as constants: the graph reaches nothing outside this rule
            ctx.next = [_leaf(x) if t is not None else None for x, t in zip(xs, ts)]
            # any point, the VJP being linear in g: zeros, which no rule's check refuses (the
            # complex eigenvectors' phase check)
            g = Tensor(np.zeros_like(z), _wrap=True)
            g.requires_grad = True
            try:
                grads = recorded.vjp(ctx, g)
            except NotImplementedError as e:  # the recorded VJP refuses these inputs (named there)
                raise NotImplementedError(
                    f"forward_ad: no forward-mode rule for op '{name}' with these inputs: its rule "
                    f"transposes the recorded VJP, which refuses them ({e})"
                ) from None
            total = None
            for i, t in enumerate(ts):
                if t is None:
                    continue
                if i >= len(grads) or grads[i] is None:
                    raise NotImplementedError(
                        f"forward_ad: no forward-mode rule for op '{name}' with a tangent on input {i}"
                    )
                term = (grads[i] * Tensor(np.asarray(t, dtype=z.dtype), _wrap=True)).sum()
                total = term if total is None else total + term
            if total is None:
                return None
            if not total.requires_grad:  # J^T g does not depend on g at all: J t = 0
                return np.zeros_like(z)
            try:
                (jt,) = grad(total, g, allow_unused=True)
            except GraphError as e:  # a delayed error in the VJP: no derivative of it for these inputs
                raise NotImplementedError(
                    f"forward_ad: no forward-mode rule for op '{name}' with these inputs: its rule "
                    f"transposes the recorded VJP, which has no derivative for them ({e})"
                ) from None
        return np.zeros_like(z) if jt is None else jt._data

    jvp.__doc__ = f"{name}: J t = d/dg <J^T g, t>, J^T g from its recorded VJP."
    return jvp


# fmt: off
for _name in (
    "svd_s", "svd_u", "svd_vh", "qr", "pinv", "matrixexp", "linalg_lstsq", "linalglufactorex",
    "rnn_seq", "gru_seq", "lstm_seq", "lstm_dense",
):
    RULES[_name] = transposed(_name)
# fmt: on
