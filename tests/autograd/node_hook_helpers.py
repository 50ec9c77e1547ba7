"""What the node-hook tests share (``test_node_hooks.py``, ``test_node_hooks_more.py``): small
inputs and hooks that record what they see."""

from __future__ import annotations

import numpy as np

X = np.array([1.0, -2.0, 3.0], dtype=np.float32)
W = np.array([0.5, 4.0, -1.5], dtype=np.float32)
A = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
B = np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5


def _shot(grads):
    """The gradients a hook got, copied (None kept in place)."""
    return tuple(None if g is None else g.clone() for g in grads)


def _recorder(log, tag):
    """A pre-hook and a hook that append what they see to ``log``."""

    def pre(grad_outputs):
        log.append((tag, "pre", len(grad_outputs), _shot(grad_outputs)))

    def post(grad_inputs, grad_outputs):
        log.append((tag, "post", len(grad_inputs), _shot(grad_inputs), _shot(grad_outputs)))

    return pre, post


def _watch(node, log, tag):
    pre, post = _recorder(log, tag)
    node.register_prehook(pre)
    node.register_hook(post)
