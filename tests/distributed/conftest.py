"""Fixtures: a world of one process in glassgrad (``gworld``) and in PyTorch (``tworld``)."""

from __future__ import annotations

import pytest

from .worlds import gg_world, torch_world


@pytest.fixture
def gworld(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    with gg_world() as lib:
        yield lib


@pytest.fixture
def tworld(torch, tmp_path):
    with torch_world(torch, tmp_path) as lib:
        yield lib
