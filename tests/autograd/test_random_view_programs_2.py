"""Random programs of views and in-place changes, run in glassgrad and in PyTorch (the interpreter
is ``view_programs.py``): where PyTorch raises, glassgrad raises a glassgrad error; where PyTorch
computes, glassgrad computes the same forward values and gradients, or raises one of its refusals.
The space is wider than ``test_random_view_programs.py``'s: 27 views in chains of up to 4, 35
in-place changes (with values that require grad, ``out=``, setitem, ``F.relu(inplace=True)``),
with grad mode on or off, on leaves, non-leaves, detached aliases, ``.data`` and buffers, before
and after ops that saved their inputs or outputs. ``GG_VIEW_FUZZ=N`` runs N examples per test,
with a random seed (the exploratory sweep); the default is a fixed, small, deterministic set.
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from tests.autograd.view_programs import BASES, CHANGES, COMPUTE, TARGETS, USES, VIEWS, check

_SWEEP = int(os.environ.get("GG_VIEW_FUZZ", "0"))


def _settings(n: int) -> settings:
    if _SWEEP:
        return settings(max_examples=_SWEEP, deadline=None, derandomize=False, database=None)
    return settings(max_examples=n, deadline=None, derandomize=True, database=None)


_uses = st.lists(st.tuples(st.sampled_from(USES), st.sampled_from(COMPUTE)), max_size=2)
_changes = st.lists(
    st.tuples(st.sampled_from(TARGETS), st.sampled_from(CHANGES), st.booleans()), min_size=1, max_size=3
)
_programs = st.tuples(
    st.sampled_from(BASES),
    st.lists(st.sampled_from(VIEWS), max_size=4),
    st.lists(st.sampled_from(VIEWS), min_size=1, max_size=2),
    _uses,
    _changes,
    _uses,
)


def _check(torch, program) -> str:
    return check(gg, torch, program)


@_settings(600)
@given(program=_programs)
def test_random_view_programs_raise_or_match_torch(torch, program):
    _check(torch, program)


# one change with grad mode on, on the view, then a use of another view: the rebasing cases
@_settings(250)
@given(
    base=st.sampled_from(["nonleaf", "clone", "buffer", "detach"]),
    steps=st.lists(st.sampled_from(VIEWS), min_size=1, max_size=3),
    other=st.lists(st.sampled_from(VIEWS), min_size=1, max_size=2),
    change=st.tuples(st.sampled_from(["view", "other", "base"]), st.sampled_from(CHANGES), st.just(True)),
    before=_uses,
    after=st.lists(st.tuples(st.sampled_from(USES), st.sampled_from(COMPUTE)), min_size=1, max_size=2),
)
def test_random_recorded_changes_through_views_raise_or_match_torch(
    torch, base, steps, other, change, before, after
):
    _check(torch, (base, steps, other, before, [change], after))
