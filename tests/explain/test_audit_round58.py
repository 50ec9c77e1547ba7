"""Round 58 audit of the glass box: what a trace and the checker teach, against autograd, finite
differences and PyTorch (broadcast inputs, ties, ``1/x``, ``autograd.grad``, ambiguous names)."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.explain import ExpressionError, GradientMonitor, check, parse, set_name, trace

EPS = 1e-6


def _leaf(v, name, requires_grad=True):
    return set_name(gg.tensor(np.asarray(v, dtype=np.float64), requires_grad=requires_grad), name)


def _central(fn, xs, i):
    """Central difference of an elementwise ``fn`` in its input ``i`` (every element nudged)."""
    plus, minus = list(xs), list(xs)
    plus[i], minus[i] = xs[i] + EPS, xs[i] - EPS
    return (fn(*plus) - fn(*minus)) / (2 * EPS)


def test_broadcast_input_receives_the_summed_gradient(torch):
    # f = sum(x * c) + sum(x * s) with x (2, 1), c (3,), s a scalar: each delivered gradient has its
    # input's shape and a node's upstream is the sum of what its consumers deliver
    xv, cv, sv = np.array([[0.5], [-1.5]]), np.array([1.0, 2.0, -3.0]), 1.25
    x, c, s = _leaf(xv, "x"), _leaf(cv, "c"), _leaf(sv, "s")
    with trace() as tr:
        p = set_name(x * c, "p")
        q = set_name(x * s, "q")
        f = set_name(p.sum() + q.sum(), "f")
        f.backward()
    rows = {r.name: r for r in tr.rows()}
    tx, tc, ts = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (xv, cv, sv))
    ((tx * tc).sum() + (tx * ts).sum()).backward()
    (_, to_x), (_, to_c) = rows["p"].delivered
    assert to_x.shape == (2, 1) and to_c.shape == (3,)
    # the local derivative stays elementwise, in the output's shape: local x upstream summed
    np.testing.assert_allclose(rows["p"].local[1][1], np.broadcast_to(xv, (2, 3)), rtol=0, atol=0)
    np.testing.assert_allclose(to_c, (rows["p"].local[1][1] * rows["p"].grad).sum(0), rtol=1e-15)
    (_, qx), (_, qs) = rows["q"].delivered
    assert np.shape(qs) == ()
    np.testing.assert_allclose(to_x + qx, rows["x"].grad, rtol=1e-15)
    np.testing.assert_allclose(rows["x"].grad, tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(to_c, tc.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(qs, ts.grad.numpy(), rtol=1e-14)
    text = str(tr.table())
    assert "to c: [-1., -1., -1.] (summed over broadcast dims)" in text  # 0.5 - 1.5
    assert "to q: [[1.], [1.]]\n" in text + "\n"  # a sum's VJP row: no note
    assert "to x: [[1.25], [1.25]] (summed over broadcast dims)" not in text  # x * s: x not broadcast


def test_scalar_added_to_a_vector_gets_the_sum():
    # y = v + m with m = mean(v) a scalar node: dy/dm is 1 per element, m's upstream is their sum
    v = _leaf([1.0, 2.0, 4.0], "v")
    with trace() as tr:
        m = set_name(v.mean(), "m")
        y = set_name(v + m, "y")
        y.sum().backward()
    rows = {r.name: r for r in tr.rows()}
    (_, to_v), (_, to_m) = rows["y"].delivered
    assert float(to_m) == 3.0 and float(rows["m"].grad) == 3.0
    np.testing.assert_array_equal(to_v, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_tie_formula_text_agrees_with_its_value(op, torch):
    # at a tie the gradient is split evenly (PyTorch too); the formula text must give that value
    av, bv = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    a, b = _leaf(av, "a"), _leaf(bv, "b")
    with trace() as tr:
        getattr(gg, op)(a, b).sum().backward()
    row = tr.rows()[-2]
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (av, bv))
    getattr(torch, op)(ta, tb).sum().backward()
    (text_a, val_a), (text_b, val_b) = row.local
    np.testing.assert_allclose(val_a, ta.grad.numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(val_b, tb.grad.numpy(), rtol=0, atol=0)
    cmp = np.greater if op == "maximum" else np.less
    sym = ">" if op == "maximum" else "<"
    # the text read as a student would: [a > b] + [a = b]/2
    assert text_a.endswith(f"= [a {sym} b] + [a = b]/2") and text_b.endswith(f"= [b {sym} a] + [a = b]/2")
    np.testing.assert_allclose(val_a, cmp(av, bv) + (av == bv) / 2, rtol=0, atol=0)
    np.testing.assert_allclose(val_b, cmp(bv, av) + (av == bv) / 2, rtol=0, atol=0)


def test_reciprocal_row_shows_the_hand_formula():
    # ``1 / x`` records reciprocal(x) * 1 (as PyTorch); its row says d(1/x)/dx = -1/x^2
    xv = np.array([0.5, -2.0, 4.0])
    x = _leaf(xv, "x")
    with trace() as tr:
        (1 / x).sum().backward()
    row = next(r for r in tr.rows() if r.op == "reciprocal")
    ((text, value),) = row.local
    assert row.expr == "1/x" and text == "d(1/x)/dx = -1/x^2"
    np.testing.assert_allclose(value, _central(lambda a: 1 / a, [xv], 0), rtol=1e-8)
    np.testing.assert_allclose(value, -1 / xv**2, rtol=1e-15)
    np.testing.assert_allclose(row.delivered[0][1], value * row.grad, rtol=0, atol=0)
    assert "PyTorch" not in str(tr.table())


def test_autograd_grad_fills_the_rows_it_answers(torch):
    # autograd.grad stores no .grad and stops at an intermediate it is asked for: the trace's
    # rows still carry the gradients it returns
    xv, yv = 2.0, 3.0
    x, y = _leaf(xv, "x"), _leaf(yv, "y")
    with trace() as tr:
        q = set_name(x * y, "q")
        f = set_name(q * x + y.exp(), "f")
        gx, gq = gg.autograd.grad(f, [x, q])
    rows = {r.name: r for r in tr.rows()}
    tx, ty = torch.tensor(xv, dtype=torch.float64, requires_grad=True), torch.tensor(yv, dtype=torch.float64)
    tq = tx * ty
    rx, rq = torch.autograd.grad(tq * tx + ty.exp(), [tx, tq])
    assert float(rows["x"].grad) == float(gx) == pytest.approx(float(rx), rel=1e-15)
    assert float(rows["q"].grad) == float(gq) == pytest.approx(float(rq), rel=1e-15)
    assert rows["y"].grad is None and x.grad is None  # not asked for: nothing, as PyTorch


def test_check_refuses_a_gradient_of_another_node():
    # dq/dx is 1 here, df/dx is -4: the checker must not compare a dq/dx answer with df/dx
    inputs = {"x": -2, "y": 5, "z": -4}
    with pytest.raises(
        KeyError, match=r"gradients are of the output f: expected df/d<node>, got \['dq/dx'\]"
    ):
        check("q = x + y; f = q * z", inputs, answers={"dq/dx": 1})
    assert check("q = x + y; f = q * z", inputs, answers={"df/dx": -4}).ok


def test_check_cli_reports_the_wrong_numerator(capsys):
    from glassgrad.explain.cli import check_cli

    assert check_cli(["q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "dq/dx=1"]) == 2
    assert "expected df/d<node>" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("q = x * y; q = q * 2; f = q * z", "q is already assigned"),
        ("x = x + 1; f = x * y", "x is an input"),
        ("x + y; f = x * z", "only the last statement may be a bare expression"),
        ("x * f", "the output is named f, but f is an input"),
        ("f = x * y; f + 1", "the output is named f, but f is already assigned"),
    ],
)
def test_parse_refuses_two_nodes_of_one_name(source, message):
    # with two nodes named q, df/dq had two answers and finite differences nudged only one
    with pytest.raises(ExpressionError, match=message):
        parse(source)


def test_parse_still_takes_distinct_names():
    assert parse("q = x * y; r = q + z; f = max(r, 0)").output == "f"
    assert parse("(x + y) * z").output == "f"
    assert parse("q = x * y\nq * z").variables == ["x", "y", "z"]


def test_check_intermediate_gradient_matches_finite_differences():
    # each named node now has one row: autograd and the nudged program agree for every one
    report = check(
        "q = x * y; r = q * 2; f = r * z",
        {"x": 3.0, "y": 1.0, "z": 2.0},
        answers={"df/dq": 4.0, "df/dr": 2.0, "df/dx": 4.0},
    )
    assert report.ok
    for item in report.items:
        np.testing.assert_allclose(item.autograd, item.numeric, rtol=1e-7)


@pytest.mark.parametrize("dims", [2, 3])
def test_dead_relu_of_a_conv_counts_channels(dims, torch):
    # a conv ReLU's units are its channels (filters): three of four biased below any input they see
    # never fire; the share is measured from PyTorch's activations of the same layer
    conv_cls = {2: "Conv2d", 3: "Conv3d"}[dims]
    bias = np.array([0.5, -50.0, -50.0, -50.0])
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.3, 0.3, size=(4, 1) + (3,) * dims)
    x = rng.normal(size=(2, 1) + (5,) * dims)
    conv = getattr(gg.nn, conv_cls)(1, 4, 3, padding=1).double()
    conv.load_state_dict({"weight": gg.tensor(w), "bias": gg.tensor(bias)})
    model = gg.nn.Sequential(conv, gg.nn.ReLU())
    mon = GradientMonitor(model)
    model(gg.tensor(x)).sum().backward()
    mon.record()
    tconv = getattr(torch.nn, conv_cls)(1, 4, 3, padding=1).double()
    tconv.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(bias)})
    fired = torch.relu(tconv(torch.tensor(x))) > 0  # (N, C, *spatial)
    never = (~fired.transpose(0, 1).reshape(4, -1).any(dim=1)).double().mean().item()
    assert never == 0.75
    assert mon.dead_relu[-1] == {"1": never}
    assert "1: 75% of ReLU units dead" in mon.flags()
    mon.close()


@pytest.mark.parametrize(
    ("a", "b"), [(0.0, 2.0), (0.0, 0.0), (0.0, -1.0), (0.0, 0.5), (-2.0, 2.0), (2.0, 0.0), (1.5, -0.5)]
)
def test_pow_local_derivatives_at_zero_base_are_pytorchs(a, b, torch):
    # a^b at a = 0: the op delivers PyTorch's limits (0, not 0 * inf); the local column must agree
    x, y = _leaf(a, "a"), _leaf(b, "b")
    with trace() as tr:
        (x**y).backward()
    row = tr.rows()[-1]
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    (ta**tb).backward()
    (_, da), (_, db) = row.local
    np.testing.assert_array_equal([float(da), float(db)], [ta.grad.item(), tb.grad.item()])
    np.testing.assert_array_equal([float(g) for _, g in row.delivered], [float(da), float(db)])
