"""Round 67 (pt_datapipe): PyTorch's ``test_datapipe.py`` checks on what glassgrad's data pipes have.

- A ``DataLoader`` over an ``IterDataPipe`` seeds its shufflers at each epoch from one draw of the
  loader's ``generator`` (``graph_settings.apply_random_seed``); the shuffler drew from the global
  generator, so ``generator=`` did not make the order repeat, silently.
- Every ``__iter__`` a pipe class defines is hooked as PyTorch's: a new iteration calls the pipe's
  ``reset()`` (a user's pipe kept stale state across epochs: its ``reset`` was never called), a new
  iterator invalidates the previous one (``RuntimeError`` on its next ``next``), and
  ``_number_of_samples_yielded`` counts the items.
- ``torch.utils.data.graph.traverse_dps``, ``graph_settings.get_all_graph_pipes`` of a graph,
  ``apply_random_seed``, ``apply_sharding`` (also called by the loader with one process) and the
  functional form ``dp.shuffle()``; ``buffer_size <= 0`` raises ``AssertionError`` as PyTorch's.

Each check runs on both libraries where PyTorch is installed; the expected values come from the
definitions (PyTorch's buffer algorithm on ``random.Random(seed)``), not from glassgrad.
"""

from __future__ import annotations

import random
import sys
import warnings

import pytest

import glassgrad


@pytest.fixture(params=["glassgrad", "torch"])
def lib(request):
    if request.param == "torch":
        return request.getfixturevalue("torch")
    return glassgrad


def _pipes(lib):
    """Pipe classes on ``lib``'s base class, at module level (PyTorch's traversal pickles them)."""
    IterDataPipe = lib.utils.data.datapipes.datapipe.IterDataPipe

    class Numbers(IterDataPipe):
        def __init__(self, n):
            super().__init__()
            self.n, self.resets = n, 0

        def __iter__(self):
            yield from range(self.n)

        def __len__(self):
            return self.n

        def reset(self):
            self.resets += 1

    class Wrap(IterDataPipe):
        def __init__(self, *sources):
            super().__init__()
            self.sources, self.named = list(sources), {"first": sources[0]}

        def __iter__(self):
            yield from self.sources[0]

    class SelfNext(IterDataPipe):
        """Its own iterator (``__iter__`` returns self, with a ``__next__``)."""

        def __init__(self, n):
            super().__init__()
            self.n, self.i, self.resets = n, 0, 0

        def __iter__(self):
            return self

        def __next__(self):
            if self.i >= self.n:
                raise StopIteration
            self.i += 1
            return self.i - 1

        def reset(self):
            self.resets += 1
            self.i = 0

    class Sharded(IterDataPipe):
        def __init__(self, source):
            super().__init__()
            self.source, self.shards, self.index = source, 1, 0

        def apply_sharding(self, num_of_instances, instance_id):
            self.shards, self.index = num_of_instances, instance_id

        def __iter__(self):
            for i, x in enumerate(self.source):
                if i % self.shards == self.index:
                    yield x

    out = {}
    for cls in (Numbers, Wrap, SelfNext, Sharded):
        name = f"_{cls.__name__}_{lib.__name__}"
        cls.__name__ = cls.__qualname__ = name
        cls.__module__ = __name__
        setattr(sys.modules[__name__], name, cls)
        out[cls.__name__.split("_")[1]] = cls
    return out


def _reference_shuffle(items, buffer_size, seed):
    """PyTorch's documented buffer shuffle, on ``random.Random(seed)``."""
    rng, buf, out = random.Random(seed), [], []
    for x in items:
        if len(buf) == buffer_size:
            k = rng.randint(0, len(buf) - 1)
            out.append(buf[k])
            buf[k] = x
        else:
            buf.append(x)
    while buf:
        out.append(buf.pop(rng.randint(0, len(buf) - 1)))
    return out


@pytest.mark.parametrize("buffer_size", [1, 5, 20, 25])
@pytest.mark.parametrize("seed", [0, 7, 2**40])
def test_shuffle_functional_form_follows_the_seed(lib, buffer_size, seed):
    P = _pipes(lib)
    dp = P["Numbers"](20).shuffle(buffer_size=buffer_size).set_seed(seed)
    assert type(dp).__name__ == "ShufflerIterDataPipe"
    assert list(dp) == _reference_shuffle(range(20), buffer_size, seed)
    assert len(dp) == 20


@pytest.mark.parametrize("buffer_size", [0, -1])
def test_shuffle_refuses_a_buffer_below_one(lib, buffer_size):
    P = _pipes(lib)
    with pytest.raises(AssertionError):
        P["Numbers"](3).shuffle(buffer_size=buffer_size)


def test_reset_runs_at_each_new_iteration(lib):
    P = _pipes(lib)
    dp = P["Numbers"](3)
    list(dp)
    list(dp)
    assert dp.resets == 2
    own = P["SelfNext"](3)
    assert (list(own), list(own), own.resets) == ([0, 1, 2], [0, 1, 2], 2)
    dp = P["Numbers"](3)
    list(lib.utils.data.DataLoader(dp, batch_size=None))
    assert dp.resets == 1


def test_a_new_iterator_invalidates_the_previous_one(lib):
    P = _pipes(lib)
    for dp in (P["Numbers"](5), P["SelfNext"](5)):
        it1 = iter(dp)
        assert next(it1) == 0
        it2 = iter(dp)
        assert next(it2) == 0
        with pytest.raises(RuntimeError, match="This iterator has been invalidated"):
            next(it1)
    dp = P["Numbers"](5)
    with pytest.raises(RuntimeError, match="This iterator has been invalidated"):
        for _ in zip(dp, dp):
            pass
    loader = lib.utils.data.DataLoader(P["Numbers"](5), batch_size=None)
    i1 = iter(loader)
    next(i1)
    next(iter(loader))
    with pytest.raises(RuntimeError, match="This iterator has been invalidated"):
        next(i1)


def test_samples_yielded_count_restarts_with_each_iterator(lib):
    P = _pipes(lib)
    for dp in (P["Numbers"](10), P["SelfNext"](10), P["Numbers"](10).shuffle()):
        assert len(list(dp)) == 10 == dp._number_of_samples_yielded
        it = iter(dp)
        for _ in range(4):
            next(it)
        assert dp._number_of_samples_yielded == 4


def test_loader_seeds_shufflers_from_its_generator(lib):
    P = _pipes(lib)
    dp = P["Numbers"](30).shuffle()
    runs = []
    for global_seed in (1, 2):
        lib.manual_seed(global_seed)
        loader = lib.utils.data.DataLoader(dp, batch_size=None, generator=lib.Generator().manual_seed(5))
        runs.append([[int(x) for x in loader] for _ in range(2)])
    assert runs[0] == runs[1]  # the loader's generator alone decides the order
    first, second = runs[0]
    assert sorted(first) == sorted(second) == list(range(30)) and first != second
    # a seed set on the pipe is replaced by the loader's, as PyTorch's
    lib.manual_seed(1)
    got = [int(x) for x in lib.utils.data.DataLoader(dp.set_seed(0), batch_size=None)]
    assert got != _reference_shuffle(range(30), 10000, 0)


def test_traverse_dps_and_graph_pipes(lib):
    P = _pipes(lib)
    gs = lib.utils.data.graph_settings
    a = P["Numbers"](3)
    s = a.shuffle()
    w = P["Wrap"](s, a)  # `a` reached twice: directly (a list and a dict) and through `s`
    graph = lib.utils.data.graph.traverse_dps(w)
    assert graph == {id(w): (w, {id(s): (s, {id(a): (a, {})}), id(a): (a, {})})}
    pipes = gs.get_all_graph_pipes(graph)
    assert len(pipes) == 3 and all(any(p is q for q in pipes) for p in (w, s, a))
    with pytest.raises(RuntimeError, match="Expected `IterDataPipe` or `MapDataPipe`"):
        lib.utils.data.graph.traverse_dps([1, 2])


def test_apply_random_seed_repeats_the_order(lib):
    P = _pipes(lib)
    s = P["Numbers"](20).shuffle()
    orders = []
    for _ in range(2):
        lib.utils.data.graph_settings.apply_random_seed(P["Wrap"](s), lib.Generator().manual_seed(0))
        orders.append(list(s))
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(20))


def test_apply_sharding(lib):
    P = _pipes(lib)
    gs = lib.utils.data.graph_settings
    dp = P["Sharded"](P["Numbers"](10))
    gs.apply_sharding(dp, 3, 1)
    assert list(dp) == [1, 4, 7]
    with pytest.raises(RuntimeError, match="Sharding twice on a single pipeline"):
        gs.apply_sharding(P["Sharded"](P["Sharded"](P["Numbers"](4))), 2, 0)
    dp.apply_sharding(3, 2)
    assert [int(x) for x in lib.utils.data.DataLoader(dp, batch_size=None)] == list(range(10))  # (1, 0)


def test_shuffle_settings(lib):
    P = _pipes(lib)
    gs = lib.utils.data.graph_settings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        added = gs.apply_shuffle_settings(P["Numbers"](5), shuffle=True)
    assert type(added).__name__ == "ShufflerIterDataPipe" and len(w) == 1
    off = P["Wrap"](P["Numbers"](20).shuffle())
    assert list(gs.apply_shuffle_settings(off, shuffle=False)) == list(range(20))


def test_pipe_bases_take_a_type_parameter(lib):
    """``class P(IterDataPipe[Tuple[int, str]])`` is how pipes are annotated; it raised TypeError."""
    datapipe = lib.utils.data.datapipes.datapipe

    class Pairs(datapipe.IterDataPipe[tuple[int, str]]):
        def __iter__(self):
            yield from ((i, str(i)) for i in range(3))

    class Squares(datapipe.MapDataPipe[int]):
        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return 3

    assert list(Pairs()) == [(0, "0"), (1, "1"), (2, "2")]
    assert [Squares()[i] for i in range(3)] == [0, 1, 4]
