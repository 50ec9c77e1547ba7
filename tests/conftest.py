"""Test configuration: a fixed seed per test and an optional torch reference."""

from __future__ import annotations

import pytest

import glassgrad as gg


@pytest.fixture(autouse=True)
def _seed():
    gg.manual_seed(0)
    yield
