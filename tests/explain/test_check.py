"""The answer checker, the safe expression parser and the command-line entry points."""

import keyword
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.explain import ExpressionError, check, parse
from glassgrad.explain.cli import check_cli, explain_cli

INPUTS = {"x": -2.0, "y": 5.0, "z": -4.0}


def test_check_accepts_correct_answers():
    report = check("(x + y) * z", INPUTS, {"df/dx": -4.0, "df/dy": -4.0, "df/dz": 3.0})
    assert report.ok and report.first_wrong is None
    assert [it.numeric for it in report.items] == pytest.approx([3.0, -4.0, -4.0], abs=1e-6)


def test_check_names_first_wrong_node_in_backward_order():
    # df/dq is wrong (4 instead of -4); df/dx is wrong too but comes later in backward order
    report = check("q = x + y; f = q * z", INPUTS, {"df/dx": 4.0, "df/dq": 4.0, "df/dz": 3.0, "q": 3.0})
    assert not report.ok
    assert report.first_wrong.key == "df/dq"
    assert float(report.first_wrong.autograd) == -4.0
    assert float(report.first_wrong.numeric) == pytest.approx(-4.0, abs=1e-6)
    assert "df/dq: you have 4, autograd gives -4" in str(report)


def test_check_wrong_forward_value_and_unknown_node():
    report = check("q = x + y; f = q * z", INPUTS, {"q": 7.0})
    assert report.first_wrong.key == "q" and float(report.first_wrong.autograd) == 3.0
    with pytest.raises(KeyError, match="the nodes are x, y, q, z, f"):
        check("q = x + y; f = q * z", INPUTS, {"df/dp": 1.0})


def test_check_with_a_function():
    def neuron(w0, x0, w1, x1, w2):
        return (w0 * x0 + w1 * x1 + w2).sigmoid()

    s = 1 / (1 + math.exp(-1.0))
    ds = s * (1 - s)
    inputs = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    good = {"df/dw0": -ds, "df/dx0": 2 * ds, "df/dw1": -2 * ds, "df/dx1": -3 * ds, "df/dw2": ds}
    assert check(neuron, inputs, good, tol=1e-4).ok
    bad = check(neuron, inputs, {**good, "df/dw1": 0.39}, tol=1e-2)
    assert bad.first_wrong.key == "df/dw1"


@pytest.mark.parametrize(
    "src",
    ["__import__('os')", "x.__class__", "lambda: 1", "x[0]", "open('f')", "'a' + x", "x if y else z",
     "[x]", "x < y", "import os", "f(x)", "exp(x, y)", "max(x)", "exp(x=1)", "(yield)", "x @ y", "x.y()",
     "__builtins__", "True", "def f(): pass", "x = y = z", "a, b = 1, 2", "x // y", "~x", "not x"],
)  # fmt: skip
def test_parser_rejects_outside_grammar(src):
    with pytest.raises(ExpressionError):
        parse(src)


_IDENT = st.from_regex(r"[a-z][a-z0-9]{0,3}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_parser_fuzz_never_executes(src):
    # anything accepted is in the grammar, and evaluation can only build glassgrad ops
    called = []
    import builtins

    real_import = builtins.__import__

    def spy(name, *a, **k):
        called.append(name)
        return real_import(name, *a, **k)

    builtins.__import__ = spy
    try:
        try:
            p = parse(src)
        except ExpressionError:
            return
    finally:
        builtins.__import__ = real_import
    assert not called
    for name in p.variables:
        assert name.isidentifier() and not name.startswith("_")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["__import__", "eval", "exec", "open", "getattr", "globals", "compile"]), _IDENT)
def test_parser_fuzz_rejects_dangerous_calls(fn, arg):
    with pytest.raises(ExpressionError, match="not an allowed function"):
        parse(f"{fn}({arg})")
    with pytest.raises(ExpressionError):
        parse(f"{arg}.{fn}")


def test_parser_grammar_evaluates():
    out, _ = parse(
        "max(x, 0) + relu(y) * 2 ** -1 - sqrt(abs(-4)) + log(exp(1)) + sin(0) * cos(0) + tanh(0)"
    ).evaluate({"x": 1.0, "y": 2.0})
    assert float(out) == pytest.approx(1.0 + 1.0 - 2.0 + 1.0)
    with np.errstate(over="ignore"):
        out, _ = parse("9 ** 9 ** 9").evaluate({})
    assert math.isinf(float(out))


def test_explain_cli_prints_table(capsys):
    assert explain_cli(["(x + y) * z", "x=-2", "y=5", "z=-4"]) == 0
    out = capsys.readouterr().out
    assert "d(f1*z)/df1 = z = -4" in out and "-12" in out
    assert explain_cli(["x * y", "x=1", "y=oops"]) == 2


def test_check_cli_exit_codes(capsys):
    assert check_cli(["(x + y) * z", "x=-2", "y=5", "z=-4", "df/dx=-4", "df/dz=3"]) == 0
    assert check_cli(["q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "df/dq=4"]) == 1
    assert "df/dq: you have 4, autograd gives -4" in capsys.readouterr().out
    assert check_cli(["__import__('os')"]) == 2
    assert "not an allowed function" in capsys.readouterr().err
