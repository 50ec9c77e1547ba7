"""The trace table against the numbers a student computes by hand."""

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import observers
from glassgrad.explain import set_name, trace


def _leaf(v, name):
    return set_name(gg.tensor(v, requires_grad=True, dtype=gg.float64), name)


def test_trace_add_mul_hand_numbers():
    # f = (x + y) z at (-2, 5, -4): q = 3, f = -12, df/dq = z = -4, df/dx = df/dy = -4, df/dz = q = 3
    x, y, z = _leaf(-2.0, "x"), _leaf(5.0, "y"), _leaf(-4.0, "z")
    with trace() as tr:
        q = set_name(x + y, "q")
        f = set_name(q * z, "f")
        f.backward()
    rows = {r.name: r for r in tr.rows()}
    assert [r.name for r in tr.rows()] == ["x", "y", "q", "z", "f"]
    assert float(rows["q"].value) == 3.0 and float(rows["f"].value) == -12.0
    assert rows["q"].op == "add" and rows["f"].op == "mul" and rows["f"].inputs == ["q", "z"]
    assert float(rows["f"].grad) == 1.0 and float(rows["q"].grad) == -4.0
    assert [float(rows[n].grad) for n in "xyz"] == [-4.0, -4.0, 3.0]
    (tq, vq), (tz, vz) = rows["f"].local
    assert tq == "d(q*z)/dq = z" and float(vq) == -4.0
    assert tz == "d(q*z)/dz = q" and float(vz) == 3.0
    assert [(n, float(g)) for n, g in rows["f"].delivered] == [("q", -4.0), ("z", 3.0)]
    assert [(n, float(g)) for n, g in rows["q"].delivered] == [("x", -4.0), ("y", -4.0)]
    assert rows["q"].local[0][0] == "d(x + y)/dx = 1"
    text = str(tr.table())
    assert "d(q*z)/dq = z = -4" in text and "-12" in text
    assert tr.grads()["df/dq"] == -4.0


def test_trace_sigmoid_neuron_hand_numbers():
    # f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2): the dot product is 1;
    # ``1 / t`` is ``t.reciprocal() * 1``, as PyTorch records it (MulBackward0 over ReciprocalBackward0)
    w0, w1, w2 = _leaf(2.0, "w0"), _leaf(-3.0, "w1"), _leaf(-3.0, "w2")
    x0, x1 = _leaf(-1.0, "x0"), _leaf(-2.0, "x1")
    with trace() as tr:
        f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
        f.backward()
    rows = tr.rows()
    assert [r.name for r in rows] == [
        "w0",
        "x0",
        "f1",
        "w1",
        "x1",
        "f2",
        "f3",
        "w2",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
    ]
    ops = [r.op for r in rows if not r.is_leaf]
    assert ops == ["mul", "mul", "add", "add", "neg", "exp", "add", "reciprocal", "mul"]
    e = math.exp(-1.0)
    s = 1 / (1 + e)
    ds = s * (1 - s)  # 0.19661...
    values = [-2.0, 6.0, 4.0, 1.0, -1.0, e, 1 + e, s, s]
    grads = [ds, ds, ds, ds, -ds, -1 / (1 + e) ** 2, -1 / (1 + e) ** 2, 1.0, 1.0]
    op_rows = [r for r in rows if not r.is_leaf]
    np.testing.assert_allclose([float(r.value) for r in op_rows], values, rtol=1e-12)
    np.testing.assert_allclose([float(r.grad) for r in op_rows], grads, rtol=1e-12)
    leaf = {r.name: float(r.grad) for r in rows if r.is_leaf}
    np.testing.assert_allclose(
        [leaf[n] for n in ("w0", "w1", "w2", "x0", "x1")], [-ds, -2 * ds, ds, 2 * ds, -3 * ds], rtol=1e-12
    )
    # local derivatives: exp node d(exp(f5))/df5 = exp(f5) = e^-1; the reciprocal node delivers
    # -1/f7^2 to f7, the product by 1 passes its gradient on
    exp_row, recip_row, mul_row = op_rows[5], op_rows[7], op_rows[8]
    assert exp_row.local[0][0] == "d(exp(f5))/df5 = exp(f5)"
    assert float(exp_row.local[0][1]) == pytest.approx(e)
    assert recip_row.inputs == ["f7"] and len(recip_row.delivered) == 1
    assert float(recip_row.delivered[0][1]) == pytest.approx(-1 / (1 + e) ** 2)
    assert mul_row.local[0][0] == "d(f8*1)/df8 = 1" and mul_row.inputs == ["f8", "1"]


def test_trace_sigmoid_op_local_derivative():
    w = _leaf([2.0, -3.0, -3.0], "w")
    x = gg.tensor([-1.0, -2.0, 1.0], dtype=gg.float64)
    with trace() as tr:
        f = set_name((w * x).sum().sigmoid(), "f")
        f.backward()
    row = tr.rows()[-1]
    s = 1 / (1 + math.exp(-1.0))
    assert row.local[0][0] == "d(sigmoid(f2))/df2 = sigmoid(f2)*(1 - sigmoid(f2))"
    assert float(row.local[0][1]) == pytest.approx(s * (1 - s))
    np.testing.assert_allclose(tr.rows()[0].grad, s * (1 - s) * np.array([-1.0, -2.0, 1.0]))
    assert tr.rows()[2].local[0][0].startswith("VJP:")  # sum has no single local number


def test_trace_formats_and_summaries():
    a = _leaf(np.arange(12.0).reshape(3, 4), "a")
    with trace() as tr:
        (a * 2).sum().backward()
    table = tr.table()
    assert "shape (3, 4) mean=5.5" in table.to_text()
    md = table.to_markdown().splitlines()
    assert md[0].startswith("| node | op |") and len(md) == 2 + 3
    latex = table.to_latex()
    assert latex.startswith(r"\begin{tabular}") and latex.count(r"\\") == 4


def test_trace_dataframe():
    pd = pytest.importorskip("pandas")
    x = _leaf(3.0, "x")
    with trace() as tr:
        (x * x).backward()
    df = tr.table().to_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df["node"]) == ["x", "f1"]
    assert df.loc[1, "delivered"] == "to x: 3; to x: 3"


def test_trace_leaves_no_observers_behind():
    with trace():
        assert len(observers.forward) == 1
    assert not observers.forward and not observers.backward and not observers.leaf


def test_trace_names_parameters_from_model():
    model = gg.nn.Linear(2, 1)
    with trace(model) as tr:
        model(gg.ones(1, 2)).sum().backward()
    names = [r.name for r in tr.rows() if r.is_leaf]
    assert sorted(names) == ["bias", "weight"]


def _traced_f():
    x, y, z = _leaf(-2.0, "x"), _leaf(5.0, "y"), _leaf(-4.0, "z")
    with trace() as tr:
        q = set_name(x + y, "q")
        set_name(q * z, "f").backward()
    return tr


def test_graph_dot_and_svg():
    import xml.etree.ElementTree as ET

    g = _traced_f().graph()
    assert g.edges == [(0, 2), (1, 2), (2, 4), (3, 4)]
    assert g.depth == [0, 0, 1, 0, 2]
    dot = g.to_dot()
    assert dot.startswith("digraph") and "n2 -> n4;" in dot
    assert 'label="f = q*z\\nvalue -12\\ngrad 1"' in dot
    svg = g.to_svg()
    root = ET.fromstring(svg)  # well-formed XML
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "q = x + y" in texts and "grad -4" in texts and "value -12" in texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == 5


def test_graph_png_and_save(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    g = _traced_f().graph()
    for suffix in (".png", ".svg", ".dot"):
        p = g.save(tmp_path / f"g{suffix}")
        assert p.stat().st_size > 100
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="expected a .dot, .svg or .png"):
        g.save(tmp_path / "g.pdf")


def test_trace_of_a_double_backward_names_the_forward_values_it_reads():
    """d/dx of dy/dx for y = x^3: the recorded backward's ops read f1 = x*x through its node, and
    the table names it f1 (as a student writes 3 x^2 = x*x + x*x + x*x), not its value 2.25."""
    x = set_name(gg.tensor(1.5, requires_grad=True), "x")
    with trace() as tr:
        y = set_name(x * x * x, "y")
        (g,) = gg.autograd.grad(y, x, create_graph=True)
        g.backward()
    rows = {r.name: r for r in tr.rows()}
    assert any(r.inputs == ["1", "f1"] for r in rows.values())
    assert float(g.detach()) == 3 * 1.5**2 and float(x.grad) == 6 * 1.5
