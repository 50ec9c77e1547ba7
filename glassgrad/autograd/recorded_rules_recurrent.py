"""Recorded VJP rules (``autograd/recorded.py``) of the fused recurrences, embedding_bag,
grid_sample and ctc_loss.

The recurrences' backward is backpropagation through time written by hand; their rules instead
run the op's forward again from its operands with differentiable ops, step by step, and return
``autograd.grad`` of that recomputation (exact in value, differentiable to any order).

What makes this possible without the op's full inputs: the recurrent ops do not save ``xg`` (the
input projection) nor ``b_hh``, only the gates after their activations. Every quantity the VJP
reads is a function of those activations, so the recomputation builds each pre-activation from the
operands only for its graph and takes the activation's *value* from what forward saved
(``_Given``: value given, derivative ``slope(value)`` as the activation's own backward). No value
of ``xg`` or ``b_hh`` is ever read, so a stand-in of its shape links them into the graph.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd.function import Primitive
from glassgrad.autograd.recorded import constant, delayed_error, operand, output, rule, saved
from glassgrad.backend import array_module
from glassgrad.ops.grid_sample import axis_weights as _gs_axis_weights
from glassgrad.ops.grid_sample import taps as _gs_taps
from glassgrad.ops.recurrent import step_rows

__all__: list[str] = []


def _slopes(y, kinds, ten: bool):
    """d act / d pre from the activation ``y`` per column block ``(kind, width)``; ``ten``: y a Tensor."""
    parts, at = [], 0
    for kind, width in kinds:
        b = y[:, at : at + width]
        at += width
        if kind == "sigmoid":
            parts.append(b * (1 - b))
        elif kind == "tanh":
            parts.append(1 - b * b)
        elif kind == "relu":  # 0 at the kink, as relu's backward ([h > 0])
            v = b._data if ten else b
            parts.append((v > 0).astype(v.dtype))
        else:  # "id"
            parts.append(None)
    if all(p is None for p in parts):
        return None
    if ten:
        ones = [constant(np.ones((y.shape[0], w), y._data.dtype)) for _, w in kinds]
        parts = [constant(p) if p.__class__ is np.ndarray else p for p in parts]
        return gg.cat([o if p is None else p for p, o in zip(parts, ones)], dim=1)
    xp = array_module(y)
    return xp.concatenate(
        [xp.ones((y.shape[0], w), y.dtype) if p is None else p for p, (_, w) in zip(parts, kinds)], 1
    )


class _Given(Primitive):
    """act(pre) whose value forward already computed: returns ``value``; VJP ``g * slope(value)``.

    Not a library op (``register = False``): it exists only inside the recurrences' rules.
    """

    name = "recurrent_given_activation"
    register = False

    @staticmethod
    def forward(ctx, pre, value=None, kinds=(), slope=None):
        y = value.copy()  # the saved array itself must not become a Tensor's data
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.attrs.get("slope") is not None:
            return g * ctx.attrs["slope"]
        s = _slopes(ctx.saved[0], ctx.attrs["kinds"], False)
        return g if s is None else g * s


class _GivenRelu(_Given):
    """``_Given`` for relu: its own name so that the recorded rule's result is tied to ``pre``
    with a zero derivative (``recorded._LINKED``), as PyTorch's ``threshold_backward(grad, result)``
    reads the output: a second backward gives W_hh and the biases zeros, not None, even where no
    other path reaches them (one step, no later use of the state)."""

    name = "recurrent_given_relu"
    register = False


@rule("recurrent_given_activation", "recurrent_given_relu")
def _given(ctx, g):
    """g * act'(pre), act' from the output y: y (1 - y), 1 - y^2, [y > 0] or 1 per column block
    (or the given piecewise-constant slope)."""
    if ctx.attrs.get("slope") is not None:
        return g * constant(ctx.attrs["slope"])
    s = _slopes(output(ctx, saved(ctx)[0]), ctx.attrs["kinds"], True)
    return g if s is None else g * s


def _given_act(pre, value, kinds):
    cls = _GivenRelu if kinds[0][0] == "relu" else _Given  # relu is always alone (rnn_seq)
    return cls.apply(pre, value=value, kinds=tuple(kinds))


def _link(ctx, i, a):
    """Input ``i`` (value ``a``) as a fresh Tensor to differentiate to: a clone, so that two
    inputs with one producer (or one leaf passed twice) get their own gradients."""
    need = ctx.needs_input_grad
    if i < len(need) and need[i]:
        return operand(ctx, i, a).clone()
    return None if a is None else constant(a)


def _regrad(out, operands, g):
    """d(out)/d(operands) weighted by g, recorded; None for constants and unused operands."""
    ins = [(i, t) for i, t in enumerate(operands) if t is not None and t.requires_grad]
    if not ins or not out.requires_grad:  # grad refuses a constant output: nothing flows anyway
        return (None,) * len(operands)
    got = gg.autograd.grad(out, [t for _, t in ins], g, create_graph=True, allow_unused=True)
    res = [None] * len(operands)
    for (i, _), gi in zip(ins, got):
        res[i] = gi
    return tuple(res)


def _initial(saved_prev, sizes, reverse, n):
    """The initial state's rows, as each step saved them when it first read them (rows a step
    never reads are only passed through to the final state: zeros stand in for them)."""
    xp = array_module(saved_prev)
    v = xp.zeros((n, saved_prev.shape[1]), dtype=saved_prev.dtype)
    done = 0
    for rows, b in step_rows(sizes, reverse):
        if b > done:
            v[done:b] = saved_prev[rows.start + done : rows.start + b]
            done = b
    return v


def _advance(state, new, b, n):
    """The state after a step: ``new`` for its first b rows, the rest kept."""
    return new if b == n else gg.cat([new, state[b:]], dim=0)


def _standin(ctx, i, shape, dtype):
    """Operand ``i`` whose value the recomputation never reads (xg, b_hh), or None when absent."""
    need = ctx.needs_input_grad
    if i >= len(need) or not need[i]:
        return None  # a constant there changes no gradient: it only shifts an unread pre-activation
    return operand(ctx, i, np.zeros(ctx.shapes[i] if ctx.shapes[i] is not None else shape, dtype)).clone()


@rule("rnn_seq")
def _rnn_seq(ctx, g):
    """Recomputed h_t = act(xg_t + h_{t-1} W_hh^T + b_hh) (act's value saved); grad(h, inputs, g)."""
    hs, h_prev, w_hh = saved(ctx)[:3]
    a = ctx.attrs
    sizes, rev = a["batch_sizes"], a.get("reverse", False)
    s, hid = hs.shape
    n = g.shape[0] - s
    xg = _standin(ctx, 0, (s, hid), hs.dtype)
    h0 = _link(ctx, 1, _initial(h_prev, sizes, rev, n))
    w = _link(ctx, 2, w_hh)
    b = _standin(ctx, 3, (hid,), hs.dtype)
    kinds = ((a.get("nonlinearity", "tanh"), hid),)
    h, outs = h0, {}
    for rows, bs in step_rows(sizes, rev):
        pre = F.linear(h[:bs], w, b)
        if xg is not None:
            pre = pre + xg[rows]
        ht = _given_act(pre, hs[rows], kinds)
        outs[rows.start] = ht
        h = _advance(h, ht, bs, n)
    out = gg.cat([outs[k] for k in sorted(outs)] + [h], dim=0)
    return _regrad(out, (xg, h0, w, b), g)


@rule("gru_seq")
def _gru_seq(ctx, g):
    """Recomputed r, z, n (values saved), h_t = (h_{t-1} - n) z + n; grad(h, inputs, g)."""
    acts, hn_all, h_prev, w_hh = saved(ctx)[:4]
    a = ctx.attrs
    sizes, rev = a["batch_sizes"], a.get("reverse", False)
    s, hid = hn_all.shape
    n = g.shape[0] - s
    xg = _standin(ctx, 0, (s, 3 * hid), acts.dtype)
    h0 = _link(ctx, 1, _initial(h_prev, sizes, rev, n))
    w = _link(ctx, 2, w_hh)
    b = _standin(ctx, 3, (3 * hid,), acts.dtype)
    h, outs = h0, {}
    for rows, bs in step_rows(sizes, rev):
        hp = h[:bs]
        hg = F.linear(hp, w, b)
        x_rz = hg[:, : 2 * hid] if xg is None else xg[rows, : 2 * hid] + hg[:, : 2 * hid]
        rz = _given_act(x_rz, acts[rows, : 2 * hid], (("sigmoid", 2 * hid),))
        r, z = rz[:, :hid], rz[:, hid:]
        hn = _given_act(hg[:, 2 * hid :], hn_all[rows], (("id", hid),))  # b_hh's value is in it
        x_n = r * hn if xg is None else xg[rows, 2 * hid :] + r * hn
        nt = _given_act(x_n, acts[rows, 2 * hid :], (("tanh", hid),))
        ht = (hp - nt) * z + nt  # as forward, so the values match it bit for bit
        outs[rows.start] = ht
        h = _advance(h, ht, bs, n)
    out = gg.cat([outs[k] for k in sorted(outs)] + [h], dim=0)
    return _regrad(out, (xg, h0, w, b), g)


_IFGO = lambda hid: (("sigmoid", 2 * hid), ("tanh", hid), ("sigmoid", hid))  # noqa: E731


@rule("lstm_seq")
def _lstm_seq(ctx, g):
    """Recomputed gates (values saved), c_t = f c_{t-1} + i g, h_t = o tanh(c_t) [W_hr^T]; grad(y, inputs, g)."""
    gates, tc, c_prev, h_prev, _ms, w_hh, w_hr = saved(ctx)[:7]
    a = ctx.attrs
    sizes, rev = a["batch_sizes"], a.get("reverse", False)
    s, hid = tc.shape
    n = g.shape[0] - s
    xg = _standin(ctx, 0, (s, 4 * hid), gates.dtype)
    h0 = _link(ctx, 1, _initial(h_prev, sizes, rev, n))
    c0 = _link(ctx, 2, _initial(c_prev, sizes, rev, n))
    w = _link(ctx, 3, w_hh)
    b = _standin(ctx, 4, (4 * hid,), gates.dtype)
    wr = _link(ctx, 5, w_hr)
    h, c, outs = h0, c0, {}
    for rows, bs in step_rows(sizes, rev):
        pre = F.linear(h[:bs], w, b)
        if xg is not None:
            pre = pre + xg[rows]
        act = _given_act(pre, gates[rows], _IFGO(hid))
        i, f, gg_, o = (act[:, k * hid : (k + 1) * hid] for k in range(4))
        ct = f * c[:bs] + i * gg_
        m = o * ct.tanh()
        ht = m if wr is None else F.linear(m, wr)
        outs[rows.start] = gg.cat([ht, ct], dim=1)
        h, c = _advance(h, ht, bs, n), _advance(c, ct, bs, n)
    out = gg.cat([outs[k] for k in sorted(outs)] + [gg.cat([h, c], dim=1)], dim=0)
    return _regrad(out, (xg, h0, c0, w, b, wr), g)


@rule("lstm_dense")
def _lstm_dense(ctx, g):
    """Recomputed LSTM (PyTorch's equations) from x, h0, c0, W_ih, W_hh, b_ih, b_hh; grad(y, inputs, g)."""
    x, w_ih, w_hh, z, _ks, c0v, b_ih, b_hh = saved(ctx)[:8]  # (h0's values are z[0]'s h rows)
    steps, rev = ctx.attrs.get("steps", 1), ctx.attrs.get("reverse", False)
    n, hid, inp = z.shape[2], w_hh.shape[1], x.shape[1]
    ops = (x, z[0, inp : inp + hid].T, c0v, w_ih, w_hh, b_ih, b_hh)
    ins = tuple(_link(ctx, k, v) for k, v in enumerate(ops))
    xt, h, c, wi, wh, bi, bh = ins
    outs = [None] * steps
    for p in range(steps):
        t = steps - 1 - p if rev else p
        pre = F.linear(xt[t * n : (t + 1) * n], wi, bi) + F.linear(h, wh, bh)
        i, f, gg_, o = (pre[:, k * hid : (k + 1) * hid] for k in range(4))
        c = f.sigmoid() * c + i.sigmoid() * gg_.tanh()
        h = o.sigmoid() * c.tanh()
        outs[t] = h
    return _regrad(gg.cat(outs + [h, c], dim=0), ins, g)


@rule("embedding_bag")
def _embedding_bag(ctx, g):
    """dW = scatter-add of g[bag] (psw, / count, / freq) onto ids (max: onto arg); dpsw = sum(g[bag] W[ids], 1)."""
    a = ctx.attrs
    if a.get("sparse"):
        raise NotImplementedError("embedding_bag: create_graph=True with sparse=True (a sparse gradient)")
    need = ctx.needs_input_grad
    shape = ctx.shapes[0]
    ids, bags, mode = a["ids"], a["bags"], a["mode"]
    if mode == "max":
        if not need[0]:
            return None, None
        dw = gg.zeros(shape[0] * shape[1], dtype=g.dtype)
        if a["arg"] is not None:
            flat = (a["arg"] * shape[1] + np.arange(shape[1])).reshape(-1)
            dw = dw.index_add(0, constant(flat), g[constant(a["nonempty"])].reshape(-1))
        return dw.reshape(shape), None
    gb = g[constant(bags)]  # (M, D)
    if mode == "mean":
        counts = np.bincount(bags, minlength=a["num_bags"])[bags][:, None]
        gb = gb / constant(counts.astype(g._data.dtype))
    weight, psw = saved(ctx) if saved(ctx) else (None, None)
    dw = dpsw = None
    if len(need) > 1 and need[1]:
        rows = (gb * operand(ctx, 0, weight)[constant(ids)]).sum(dim=1)
        dpsw = gg.zeros(ctx.shapes[1], dtype=g.dtype).index_add(0, constant(a["keep"]), rows)
    if need[0]:
        rows = gb if psw is None else gb * operand(ctx, 1, psw)[constant(a["keep"])].unsqueeze(1)
        if a.get("freq") is not None:
            rows = rows / constant(a["freq"][:, None].astype(g._data.dtype))
        dw = gg.zeros(shape, dtype=g.dtype).index_add(0, constant(ids), rows)
    return dw, dpsw


@rule("grid_sample")
def _grid_sample(ctx, g):
    """Recomputed sum_k x[tap_k] w_k(coords), each axis's coordinate the given value with its slope
    (piecewise linear in the grid); grad(out, (x, grid), g)."""
    x = saved(ctx)[0]
    nd = x.ndim - 2
    coords, slopes = saved(ctx)[1 : 1 + nd], saved(ctx)[1 + nd :]
    a = ctx.attrs
    n, c, *spatial = x.shape
    xt = _link(ctx, 0, x)
    # the grid's value is not saved; the coordinates are, with their slopes
    gt = _standin(ctx, 1, None, x.dtype)
    sizes = list(reversed(spatial))
    with np.errstate(invalid="ignore"):
        taps = _gs_taps(list(coords), sizes, a["mode"], a["padding_mode"], a["align_corners"])
    if a["mode"] != "nearest" and gt is not None:
        per_axis = []
        for d in range(nd):
            p = _Given.apply(gt[..., d].reshape(n, 1, -1), value=coords[d], slope=slopes[d])
            per_axis.append(_gs_axis_weights(p - constant(np.floor(coords[d])), a["mode"]))
        wts = [math.prod(combo[1:], start=combo[0]) for combo in itertools.product(*per_axis)]
    else:
        wts = [constant(wgt) for _, _, wgt, _ in taps]
    flat_x = xt.reshape(n, c, math.prod(spatial))
    out = None
    for (flat, ok, _, _), wt in zip(taps, wts):
        val = flat_x.gather(2, constant(np.broadcast_to(flat, (n, c, flat.shape[-1])).copy()))
        term = gg.where(constant(ok), val, constant(np.zeros((), x.dtype))) * wt  # as the op's forward
        out = term if out is None else out + term
    dx, dgrid = _regrad(out.reshape(g.shape), (xt, gt), g)
    if gt is not None and dgrid is None:  # nearest: zeros for the grid, as the op's backward
        # a zero linked to the grid, as PyTorch's graph links both gradients to it (a masked
        # pick: no NaN from a non-finite point)
        link = gg.where(constant(np.zeros(ctx.shapes[1], bool)), gt, constant(np.zeros((), x.dtype))).sum()
        dgrid = constant(np.zeros(ctx.shapes[1], x.dtype)) + link
        dx = None if dx is None else dx + link
    return dx, dgrid


@rule("ctc_loss")
def _ctc_loss(ctx, g):
    """The first-order gradient (alpha-beta occupancies), whose own derivative is refused at the
    second backward, as PyTorch's (``derivative for aten::_ctc_loss_backward is not implemented``)."""
    grads = ctx.fn.backward(ctx, g._data)
    grads = grads if isinstance(grads, tuple) else (grads,)
    why = "ctc_loss: the derivative of its backward is not implemented (PyTorch's is not either)"
    return tuple(
        None if a is None else delayed_error(a, [g, operand(ctx, i, np.zeros(ctx.shapes[i]))], why)
        for i, a in enumerate(grads)
    )
