"""``glassgrad.compiler`` against ``torch.compiler``: the same names, answering as PyTorch's do
outside a compiled region (glassgrad never compiles), and decorators that keep behaviour."""

from __future__ import annotations

import pytest

import glassgrad as gg
import glassgrad.compiler


def _affine(x):
    return 2 * x + 1


def test_names_exist_in_torch_compiler(torch):
    assert gg.compiler is glassgrad.compiler
    missing = [n for n in glassgrad.compiler.__all__ if not hasattr(torch.compiler, n)]
    assert missing == []
    assert "compiler" in gg.__all__


def test_compile_is_the_top_level_compile():
    assert glassgrad.compiler.compile is gg.compile
    model = gg.nn.Linear(2, 1)
    assert glassgrad.compiler.compile(model, backend="inductor", mode="max-autotune")._orig_mod is model
    assert glassgrad.compiler.compile(fullgraph=True)(_affine)(gg.tensor(3.0)).item() == 7.0


@pytest.mark.parametrize("form", ["bare", "called", "keywords"])
def test_disable_decorates_with_and_without_arguments(torch, form):
    def decorate(compiler):
        if form == "bare":
            return compiler.disable(_affine)
        if form == "called":
            return compiler.disable()(_affine)
        return compiler.disable(recursive=False, reason="eager on purpose")(_affine)

    ours, theirs = decorate(glassgrad.compiler), decorate(torch.compiler)
    assert ours(gg.tensor([1.0, -2.0])).tolist() == theirs(torch.tensor([1.0, -2.0])).tolist()
    assert ours(5) == theirs(5) == 11


def test_compiling_queries_are_false_as_outside_torch_compile(torch):
    for name in ("is_compiling", "is_dynamo_compiling", "is_exporting"):
        assert getattr(glassgrad.compiler, name)() is getattr(torch.compiler, name)() is False


def test_graph_hints_return_the_function_as_torch_does(torch):
    for name in ("allow_in_graph", "assume_constant_result"):
        assert getattr(torch.compiler, name)(_affine) is _affine
        assert getattr(glassgrad.compiler, name)(_affine) is _affine


def test_reset_and_list_backends(torch):
    assert glassgrad.compiler.reset() is None
    assert glassgrad.compiler.list_backends() == torch.compiler.list_backends()
