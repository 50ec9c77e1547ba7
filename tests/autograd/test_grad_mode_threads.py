"""Grad mode is per thread, as in PyTorch: overlapping ``no_grad()`` blocks in two threads leave
each thread's mode as it was, and a new thread starts with grad mode on."""

from __future__ import annotations

import threading

import glassgrad as gg


def _in_threads(*targets) -> list:
    """Run each target in its own thread; re-raise the first failure here."""
    errors: list = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported in the main thread
                errors.append(e)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)  # (generous: only a hung thread waits it out)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_overlapping_no_grad_in_two_threads_restores_each_threads_mode():
    # A enters, B enters, A exits, B exits: with one process-wide flag B's exit restores the
    # False it saw on entry, and grad mode stays off for good.
    steps = [threading.Barrier(2) for _ in range(4)]
    seen: dict[str, list[bool]] = {"a": [], "b": []}

    def a():
        with gg.no_grad():
            steps[0].wait()  # A is inside
            steps[1].wait()  # B is inside
            seen["a"].append(gg.is_grad_enabled())
        steps[2].wait()  # A has left
        seen["a"].append(gg.is_grad_enabled())
        steps[3].wait()
        x = gg.ones(2, requires_grad=True)
        seen["a"].append((x * 2).requires_grad)

    def b():
        steps[0].wait()
        seen["b"].append(gg.is_grad_enabled())  # A's no_grad is not B's
        with gg.no_grad():
            steps[1].wait()
            steps[2].wait()
            seen["b"].append(gg.is_grad_enabled())
        steps[3].wait()  # B has left
        seen["b"].append(gg.is_grad_enabled())

    _in_threads(a, b)
    assert seen == {"a": [False, True, True], "b": [True, False, True]}
    assert gg.is_grad_enabled()
    x = gg.ones(2, requires_grad=True)
    assert (x * 2).requires_grad


def test_a_new_thread_starts_with_grad_mode_on():
    got: list = []

    def child():
        x = gg.ones(2, requires_grad=True)
        got.append((gg.is_grad_enabled(), (x * 2).grad_fn is not None))

    with gg.no_grad():
        _in_threads(child)
        assert not gg.is_grad_enabled()
    assert got == [(True, True)]


def test_set_grad_enabled_in_a_thread_stays_in_that_thread():
    got: list = []

    def child():
        gg.set_grad_enabled(False)  # takes effect at once, here only
        got.append(gg.is_grad_enabled())

    _in_threads(child)
    assert got == [False] and gg.is_grad_enabled()
