"""Every registered op passes a float64 finite-difference gradcheck on hypothesis-drawn shapes."""

from __future__ import annotations

import importlib
import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassgrad  # noqa: F401 - fills the registry
from glassgrad.autograd import REGISTRY, gradcheck
from tests.ops.harness import CASES, to_inputs

for _path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    importlib.import_module(f"tests.ops.{_path.stem}")


def test_every_registered_op_has_a_gradcheck_case():
    missing = sorted(set(REGISTRY) - set(CASES))
    assert not missing, f"ops without a gradcheck case in tests/ops/cases_*.py: {missing}"


def test_every_case_names_a_registered_op():
    unknown = sorted(set(CASES) - set(REGISTRY))
    assert not unknown, f"cases for ops that are not registered: {unknown}"


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradcheck(name, data):
    for strategy in CASES[name]:
        fn, raw = data.draw(strategy)
        inputs = to_inputs(raw)
        assert gradcheck(fn, inputs), name
