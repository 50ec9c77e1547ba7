"""One direction of an LSTM layer when every sequence runs every step: the dense fast path.

``nn.LSTM`` uses this op instead of ``F.linear`` + ``lstm_seq`` (ops/recurrent.py) when the batch
is a padded ``(T, N, I)`` one (or a packed one whose sequences all have the same length) and there
is no projection. The equations, the VJP and the result are the same; the layout is what differs.

Why a second op: at these sizes each NumPy call costs about as much as the work in it, so the
per-step cost is set by how many calls there are and what memory they touch. This op keeps the
state feature-major, one contiguous ``(features, N)`` block per step:

- the input projection is inside the per-step product: ``z_t = [x_t; h_{t-1}; 1]`` (K, N) with
  K = I + H + 1 is multiplied by ``[W_ih | W_hh | b_ih + b_hh]`` (4H, K) in one BLAS call that
  writes the gate block directly (no separate projection, no bias pass, no add). OpenBLAS also runs
  ``W @ z`` (M = 4H) faster than the row-major ``h @ W^T`` (N rows) at these shapes (measured on
  the AVX-512 kernels, H = 128, N = 32: 24 us against 31 us for the recurrent part alone; 30 us
  with the input and bias columns);
- the gate rows are reordered to o, i, f, g with ``c_{t-1}`` kept under them: the three sigmoid
  gates are one block (their rows negated up front, so that ``exp``, ``+ 1`` and a reciprocal give
  them: s(x) = 1 / (1 + exp(-x))), ``[i, f] * [g, c_{t-1}]`` is one multiply, and the three gates
  driven by dc (i, f, g) are one block in backward. NumPy's float32 ``tanh`` has a SIMD loop only
  on AVX-512 cores; elsewhere (AVX2) it costs about twice ``exp`` (measured on an AMD EPYC host:
  57 us against 27 us on a ``(512, 32)`` block), so the sigmoids take ``exp`` and only g and
  ``c_t`` take ``tanh`` (docs/benchmarks.md, "Twenty-first look");
- every ufunc works on contiguous blocks, ``h_t`` is written by its multiply straight into
  ``z_{t+1}`` and ``c_t`` under the next step's gates, so no state is copied per step;
- the local slopes backward needs are made in the forward loop while each step's block is in
  cache (a pass over all steps afterwards costs about half as much again), and only when grad
  mode is on and an input requires grad.

Only two transposing copies remain, at the edges: ``x`` into the ``z`` blocks and the ``h_t`` out;
in backward, the gate gradients are regrouped once for the weight-gradient product.

Output ``(S + 2N, H)`` with ``S = T * N``: every ``h_t`` (time-major rows, as the input), then
``h_n``, then ``c_n``. Its recorded rule (double backward) is in ``autograd/recorded_rules_recurrent.py``.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import is_grad_enabled as grad_enabled
from glassgrad.backend import array_module
from glassgrad.blas_blocks import stacked_blocks
from glassgrad.errors import DTypeError, ShapeError

__all__ = ["LSTMDense"]


def _ofig(a: Any, hid: int) -> Any:
    """Gate rows from PyTorch's order i, f, g, o to o, i, f, g (a copy)."""
    return array_module(a).concatenate([a[3 * hid :], a[: 3 * hid]])


def _ifgo(a: Any, hid: int) -> Any:
    """Gate rows from o, i, f, g back to PyTorch's i, f, g, o (a copy)."""
    return array_module(a).concatenate([a[hid:], a[:hid]])


def _check(x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, steps: int) -> None:
    n, hid = c0.shape
    want = {
        "x": ((steps * n, w_ih.shape[1]), x.shape),
        "h0": ((n, hid), h0.shape),
        "w_ih": ((4 * hid, x.shape[1]), w_ih.shape),
        "w_hh": ((4 * hid, hid), w_hh.shape),
    }
    for what, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None:
            want[what] = ((4 * hid,), b.shape)
    for what, (expected, got) in want.items():
        if tuple(got) != expected:
            raise ShapeError(f"lstm_dense: expected {what} of shape {expected}, got {tuple(got)}")
    # One dtype throughout, as PyTorch's LSTM asks: the op would otherwise cast the weights silently.
    arrays = {"h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}
    for what, a in arrays.items():
        if a is not None and a.dtype != x.dtype:
            raise DTypeError(f"lstm_dense: expected {what} of the input's dtype {x.dtype}, got {a.dtype}")


class LSTMDense(Function):
    """LSTM over ``steps`` full steps, PyTorch's equations and gate rows i, f, g, o:

        [i, f, g, o] = [s, s, tanh, s](x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)   (s the sigmoid)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    Inputs: ``x`` (T * N, I) time-major rows, ``h0`` and ``c0`` (N, H), ``w_ih`` (4H, I),
    ``w_hh`` (4H, H), ``b_ih`` and ``b_hh`` (4H,) or None. Output (T * N + 2N, H): every h_t,
    then h_n, then c_n. ``reverse`` walks the steps from the last.

    VJP, with dh_t, dc_t the gradients reaching h_t and c_t (from the outputs and from step t + 1):
        dc = dc_t + dh_t * o * (1 - tanh(c_t)^2)
        dG_t = [dc * g * i (1 - i),  dc * c_{t-1} * f (1 - f),  dc * i (1 - g^2),
                dh_t * tanh(c_t) * o (1 - o)]                       (rows i, f, g, o)
        dh_{t-1} = dG_t W_hh,   dc_{t-1} = dc * f,   dx_t = dG_t W_ih,
        dW_ih = sum_t dG_t^T x_t,   dW_hh = sum_t dG_t^T h_{t-1},   db_ih = db_hh = sum_t dG_t.
    """

    name = "lstm_dense"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, steps=1, reverse=False):
        xp = array_module(x)
        _check(x, h0, c0, w_ih, w_hh, b_ih, b_hh, steps)
        n, hid = c0.shape
        inp = x.shape[1]
        k = inp + hid + 1
        dt = x.dtype
        wz = xp.zeros((4 * hid, k), dtype=dt)  # [W_ih | W_hh | b], rows i, f, g, o
        wz[:, :inp] = w_ih
        wz[:, inp : inp + hid] = w_hh
        for b in (b_ih, b_hh):
            if b is not None:
                wz[:, k - 1] += b
        wz = _ofig(wz, hid)  # rows o, i, f, g
        wz[: 3 * hid] *= -1  # s(x) = 1 / (1 + exp(-x)) for o, i, f: the product gives -x
        z = xp.empty((steps + 1, k, n), dtype=dt)  # step p's [x_t; h_{t-1}; 1], processing order
        xs = x.reshape(steps, n, inp)
        z[:steps, :inp] = (xs[::-1] if reverse else xs).transpose(0, 2, 1)
        z[:, k - 1] = 1
        z[0, inp : k - 1] = h0.T
        # Step p's block: the gates o, i, f, g after their activations, then c_{t-1}, so that
        # [i, f] * [g, c_{t-1}] is one multiply; c_t is written into the next step's block. Two
        # blocks used in turn (slot p % 2), not one per step: backward reads only the slopes
        # below, and two blocks stay in cache (measured: 3 to 7% of the training step).
        acts = xp.empty((2, 5 * hid, n), dtype=dt)
        acts[0, 4 * hid :] = c0.T
        # Views over both slots, indexed by p % 2 in the loop: (2, H, N) each, and the blocks.
        gates, sig, g = acts[:, : 4 * hid], acts[:, : 3 * hid], acts[:, 3 * hid : 4 * hid]
        o, i, f, c = acts[:, :hid], acts[:, hid : 2 * hid], acts[:, 2 * hid : 3 * hid], acts[:, 4 * hid :]
        i_f, g_c = acts[:, hid : 3 * hid], acts[:, 3 * hid :]  # [i, f] and [g, c_{t-1}]
        h = z[:, inp : k - 1]  # h[p] = h_{t-1} of step p
        t = xp.empty((hid, n), dtype=dt)  # tanh(c_t) of the step
        prod = xp.empty((2 * hid, n), dtype=dt)
        ig, fc = prod[:hid], prod[hid:]
        # The local slopes backward needs, made here while each step's block is in cache (a
        # pass over all steps afterwards took 0.8 ms against 0.55 here), and only if backward can run.
        # Rows of ks[p]: d pre_o / dh_t, then d pre_{i, f, g} / dc_t, then dc_t / dh_t, then f
        # (dc_{t-1} / dc_t).
        train = grad_enabled() and any(ctx.needs_input_grad)
        ks = xp.empty((steps if train else 0, 6 * hid, n), dtype=dt)
        k_o, k_if, k_g, k_c, k_f = (
            ks[:, q * hid : r * hid] for q, r in ((0, 1), (1, 3), (3, 4), (4, 5), (5, 6))
        )
        sl = xp.empty((4 * hid, n), dtype=dt)  # the gates' slopes at one step, rows o, i, f, g
        sl_o, sl_if, sl_g, sl_s = sl[:hid], sl[hid : 3 * hid], sl[3 * hid :], sl[: 3 * hid]
        tanh, exp, mul, add, sub, matmul = xp.tanh, xp.exp, xp.multiply, xp.add, xp.subtract, xp.matmul
        square = xp.square  # twice as fast as multiply(a, a) on a (512, 32) float32 block
        recip = xp.reciprocal
        # Scalars of the arrays' own type: a Python float costs about 0.4 us more per call.
        one = dt.type(1)
        # The product in equal row blocks, one batched call, where OpenBLAS's small-matrix kernel
        # then runs each faster (blas_blocks.py); the views share the weight's and gates' memory
        blocks = stacked_blocks(4 * hid, k, n, dt)
        w_stack = wz.reshape(blocks, 4 * hid // blocks, k) if blocks > 1 else wz
        out_stack = [
            gates[q].reshape(blocks, 4 * hid // blocks, n) if blocks > 1 else gates[q] for q in (0, 1)
        ]
        for p in range(steps):
            q, nxt = p & 1, (p + 1) & 1  # this step's slot and the next step's
            z_p = z[p]
            matmul(w_stack, z_p, out=out_stack[q])  # (4H, K) @ (K, N) by row blocks; o, i, f: -pre
            s_p = sig[q]
            exp(s_p, out=s_p)
            s_p += one
            recip(s_p, out=s_p)  # s = 1 / (1 + exp(-pre)): 0 where exp overflows, as it should
            g_p = g[q]
            tanh(g_p, out=g_p)
            if train:  # each gate's slope: s' = s (1 - s) for o, i, f (1 - s exact near 1), 1 - g^2
                sub(one, s_p, out=sl_s)
                mul(sl_s, s_p, out=sl_s)
                square(g_p, out=sl_g)
                sub(one, sl_g, out=sl_g)
            mul(i_f[q], g_c[q], out=prod)  # [i * g, f * c_{t-1}]
            c_t = c[nxt]  # c_t goes under the next step's gates
            add(ig, fc, out=c_t)
            tanh(c_t, out=t)
            h_t = h[p + 1]  # h_t goes straight into the next step's input
            mul(o[q], t, out=h_t)
            if train:
                mul(t, sl_o, out=k_o[p])
                mul(g_c[q], sl_if, out=k_if[p])  # [g i', c_{t-1} f']
                mul(i[q], sl_g, out=k_g[p])  # i g'
                kc = k_c[p]
                mul(h_t, t, out=kc)
                sub(o[q], kc, out=kc)  # o (1 - tanh(c_t)^2) = o - h_t tanh(c_t)
                k_f[p] = f[q]
        s = steps * n
        y = xp.empty((s + 2 * n, hid), dtype=dt)
        hs = h[1:]  # (T, H, N), processing order
        y[:s].reshape(steps, n, hid)[...] = (hs[::-1] if reverse else hs).transpose(0, 2, 1)
        y[s : s + n] = h[steps].T
        y[s + n :] = c[steps & 1].T
        # c0 and the biases only for the recorded rule (create_graph; references, no copies), h0
        # only for its version: PyTorch's backward refuses a state changed in place since
        ctx.save_for_backward(x, w_ih, w_hh, z, ks, c0, b_ih, b_hh, h0)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w_ih, w_hh, z, ks = ctx.saved[:5]
        xp = array_module(gy)
        steps, hid, n = ks.shape[0], ks.shape[1] // 6, z.shape[2]
        inp = x.shape[1]
        s = steps * n
        reverse = ctx.attrs.get("reverse", False)
        gh = gy[:s].reshape(steps, n, hid)
        live = gh.reshape(steps, n * hid).any(axis=1).tolist()  # steps whose output has a gradient
        if reverse:
            gh, live = gh[::-1], live[::-1]  # processing order
        w_t = xp.ascontiguousarray(_ofig(w_hh, hid).T)  # (H, 4H), gate columns o, i, f, g
        dacts = xp.empty((steps, 4 * hid, n), dtype=gy.dtype)
        # Copies, always: the loop updates them in place, and with N or H of 1 the transposed
        # slice is already contiguous, so ascontiguousarray would hand back a view of gy itself.
        dh = gy[s : s + n].T.copy()  # (H, N): the gradient reaching h_t
        dc = gy[s + n :].T.copy()  # (H, N): the gradient reaching c_t
        tmp = xp.empty_like(dh)
        d_o, d_ifg = dacts[:, :hid], dacts[:, hid:].reshape(steps, 3, hid, n)
        k_o, k_ifg = ks[:, :hid], ks[:, hid : 4 * hid].reshape(steps, 3, hid, n)
        k_c, k_f = ks[:, 4 * hid : 5 * hid], ks[:, 5 * hid :]
        mul, add, matmul = xp.multiply, xp.add, xp.matmul
        blocks = stacked_blocks(hid, 4 * hid, n, gy.dtype)  # as forward's product
        w_stack = w_t.reshape(blocks, hid // blocks, 4 * hid) if blocks > 1 else w_t
        dh_stack = dh.reshape(blocks, hid // blocks, n) if blocks > 1 else dh
        for p in range(steps - 1, -1, -1):
            if live[p]:
                add(dh, gh[p].T, out=dh)  # plus the output's own share at this step
            mul(dh, k_o[p], out=d_o[p])
            mul(dh, k_c[p], out=tmp)
            dc += tmp  # the gradient reaching c_t
            mul(dc, k_ifg[p], out=d_ifg[p])  # (H, N) * (3, H, N): i, f, g
            mul(dc, k_f[p], out=dc)  # dc_{t-1}
            matmul(w_stack, dacts[p], out=dh_stack)  # (H, 4H) @ (4H, N): dh_{t-1}, by row blocks
        need = ctx.needs_input_grad
        dx = gw_ih = gw_hh = gb = None
        if any(need[3:]) or need[0]:
            dg = dacts.transpose(1, 0, 2).reshape(4 * hid, s)  # (4H, S), one regrouping copy
        if any(need[3:]):
            zs = z[:steps].transpose(1, 0, 2).reshape(inp + hid + 1, s)  # (K, S): a copy by rows
            dw = dg @ zs.T  # (4H, S) @ (S, K) -> (4H, K)
            dw = _ifgo(dw, hid)  # rows i, f, g, o
            gw_ih, gw_hh, gb = dw[:, :inp], dw[:, inp : inp + hid], dw[:, -1]
        if need[0]:
            dx = dg.T @ _ofig(w_ih, hid)  # (S, 4H) @ (4H, I), processing order
            if reverse:
                dx = dx.reshape(steps, n, inp)[::-1].reshape(s, inp)
        # The engine copies a view or an array handed to two leaves before it becomes a .grad.
        return dx, dh.T, dc.T, gw_ih, gw_hh, gb if need[5] else None, gb if need[6] else None
