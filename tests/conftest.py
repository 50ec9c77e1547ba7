"""Test configuration: a fixed seed per test and an optional torch reference."""

from __future__ import annotations

import pytest

import glassgrad as gg


@pytest.fixture(autouse=True)
def _seed():
    gg.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for parity tests; a test that asks for it skips alone when PyTorch is absent.

    Session-scoped so that hypothesis ``@given`` tests may take it (no per-example set-up)."""
    return pytest.importorskip("torch")
