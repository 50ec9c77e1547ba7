"""Two tiny modules that need no functional ops, shared by the Module tests."""

from __future__ import annotations

import glassgrad as gg
import glassgrad.nn as nn


class Scale(nn.Module):
    """A module that needs no functional ops: y = x * w + b, with a buffer."""

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.w = nn.Parameter(gg.ones(n))
        self.b = nn.Parameter(gg.zeros(n))
        self.register_buffer("count", gg.zeros(1))
        self.register_buffer("scratch", gg.zeros(n), persistent=False)

    def forward(self, x):
        return x * self.w + self.b


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = Scale()
        self.second = Scale()
        self.scale = nn.Parameter(gg.tensor(2.0))

    def forward(self, x):
        return self.second(self.first(x)) * self.scale
