"""Module backward hooks: ``register_full_backward_hook`` and ``register_full_backward_pre_hook``,
with PyTorch's semantics.

For one forward call of a module with such hooks, the tensor inputs that require grad are routed
through one joining node and the tensor outputs through another (``ops/backward_hook.py``), so at
backward::

    all gradients w.r.t. the outputs arrive  ->  pre-hooks(module, grad_output)      may replace them
    ... backward through the module ...
    all gradients w.r.t. the inputs arrive   ->  hooks(module, grad_input, grad_output)  may replace grad_input

``grad_input`` has one entry per positional argument of ``forward`` (None for non-Tensors;
zeros of its dtype for a tensor that does not require grad, an index or a mask too, as in PyTorch),
``grad_output`` one per output (a Tensor output counts as a 1-tuple; None for an output that
does not require grad, or that no gradient reached in this pass, as in PyTorch). A hook returns
None or a tuple of the same length, each entry of its gradient's shape and dtype. If no input
requires grad, the hooks run (with ``grad_input`` all None, and a warning, as in PyTorch) as soon
as ``grad_output`` is known.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from glassgrad.autograd.complex_gate import check_hook_result
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.nn.hooks import RemovableHandle
from glassgrad.nn.module_wide_hooks import _global_backward_hooks, _global_backward_pre_hooks
from glassgrad.ops.backward_hook import hook_pack
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["BackwardHooks", "BackwardHookCall"]


def _check_answer(hook: Callable, answer: Any, given: tuple, what: str) -> None:
    """Refuse a hook's answer of another length than ``given`` (the tuple the hook was given), or
    an entry of another shape or dtype than the gradient it replaces, as PyTorch does: a float32
    gradient for a float64 input would otherwise be cast back here, its values rounded, where
    PyTorch's program stops. None entries (no gradient) pass."""
    if len(answer) != len(given):  # PyTorch's words (a pre-hook answers grad_output)
        kind = "pre hook" if what == "grad_output" else "hook"
        raise RuntimeError(
            f"Backward {kind} returned an invalid number of {what}, got {len(answer)}, but expected {len(given)}"
        )
    for new, old in zip(answer, given):
        new, old = getattr(new, "_data", new), getattr(old, "_data", old)
        if new is None or old is None or not hasattr(new, "dtype"):
            continue
        if new.shape != old.shape:
            name = getattr(hook, "__qualname__", type(hook).__name__)
            raise ShapeError(
                f"hook {name!r} has changed the size of value (expected shape {tuple(old.shape)} for "
                f"an entry of {what}, got {tuple(new.shape)})"
            )
        check_hook_result(hook, old, new)


def _arrays(values: tuple, index: list[int], recorded: bool = False) -> tuple:
    """The raw arrays at ``index`` of a hook's (checked) answer (None stays None); with
    ``recorded`` (a create_graph pass, whose gradients are Tensors in the graph) the Tensors
    themselves."""
    if recorded:
        return tuple(_recorded(values[i]) for i in index)
    return tuple(None if values[i] is None else getattr(values[i], "_data", values[i]) for i in index)


def _recorded(value: Any) -> Any:
    """One entry of a hook's answer in a create_graph pass: a Tensor (or None)."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value, _wrap=True)


def _is_recorded(grads: tuple) -> bool:
    """Whether the gradients are a create_graph pass's Tensors (not the first-order arrays)."""
    return any(isinstance(g, Tensor) for g in grads)


class BackwardHookCall:
    """The backward hooks of one forward call: routes its inputs and outputs and runs the hooks."""

    def __init__(self, module: Any) -> None:
        self.module = module
        # as registered when forward ran; the module-wide ones first (module_wide_hooks.py)
        self.hooks = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
        self.pre_hooks = [*_global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = 0
        # (position, shape, dtype) of the tensors that are not routed (their grad_input entries
        # are zeros; the outputs' only say that something is routed), or None when nothing is
        # routed. Shapes, not the tensors: holding the outputs here would tie the module's graph
        # into a reference cycle through the joining nodes.
        self.input_blanks: list[tuple] | None = None
        self.output_blanks: list[tuple] | None = None
        self.input_routed: list[int] = []
        self.output_routed: list[int] = []
        self._given: list[tuple] = []  # (caller's tensor, routed copy, its node, its version)

    @staticmethod
    def _route(
        values: tuple, on_grads: Callable, track_unreached: bool = False
    ) -> tuple[tuple, list[tuple] | None, list[int]]:
        """Route the tensors of ``values`` that require grad through one joining node.

        Returns the new values, the blanks (see ``__init__``) and the positions of those routed.
        As in PyTorch, once one tensor requires grad every tensor gets an entry in the hooks'
        tuples; one that does not require grad (an integer index, a mask) is not differentiated
        through, and its entry is zeros of its dtype.
        """
        # (a complex tensor that requires grad is left out, its entry None: the joining node is
        # real-only, and zeros would misreport the gradient it does get)
        index = [
            i
            for i, v in enumerate(values)
            if isinstance(v, Tensor) and not (v.requires_grad and v._data.dtype.kind == "c")
        ]
        routed = [i for i in index if values[i].requires_grad]
        if not routed or not is_grad_enabled():
            return values, None, []
        blanks = [(i, values[i]._data.shape, values[i]._data.dtype) for i in index if i not in routed]
        out = list(values)
        for i, t in zip(routed, hook_pack([values[i] for i in routed], on_grads, track_unreached)):
            out[i] = t
        return tuple(out), blanks, routed

    @staticmethod
    def _as_tuple(grads: tuple, blanks: list[tuple], routed: list[int], n: int) -> tuple:
        """The hooks' view: a Tensor per tensor (zeros where not routed), None elsewhere."""
        out: list = [None] * n
        # (an output that no gradient reached has None: HookPack runs once one output's arrived)
        given = next(g for g in grads if g is not None)
        xp = array_module(getattr(given, "_data", given))
        for i, shape, dtype in blanks:
            out[i] = Tensor(xp.zeros(shape, dtype=dtype), _wrap=True)
        for i, g in zip(routed, grads):  # (a create_graph pass's Tensors are passed on as they are)
            out[i] = g if isinstance(g, Tensor) or g is None else Tensor(g, _wrap=True)
        return tuple(out)

    def setup_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        given = args
        args, self.input_blanks, self.input_routed = self._route(args, self._on_input_grads)
        # the routed inputs are copies (ops/backward_hook.py): what an in-place module writes into
        # one is written back into the caller's tensor after forward (``_write_back``)
        self._given = [(given[i], args[i], args[i]._node, args[i]._vc[0]) for i in self.input_routed]
        return args

    def _write_back(self, values: tuple, routed_values: tuple) -> None:
        """An in-place module (``ReLU(inplace=True)``) changed the copy it was given: the caller's
        tensor takes its values, recorded (``copy_``), so that its later uses see them, as with
        PyTorch's in-place module; from the module's routed output when it returned that copy, so
        the gradient of those uses passes the hooks too."""
        for original, routed, node, version in self._given:
            if routed._node is not node or routed._vc[0] != version:  # (a recorded in-place op
                src = next(
                    (r for v, r in zip(values, routed_values) if v is routed), routed
                )  # gives a new node)
                original.copy_(src)
        self._given = []

    def setup_outputs(self, result: Any) -> Any:
        if not isinstance(result, (Tensor, tuple)):
            # a dict's (a list's) tensors are not routed, so this call's hooks never fire: said
            # in PyTorch's words, or a program's hooks go silently unrun
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple of "
                f"Tensors but received {type(result)}",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        single = not isinstance(result, tuple)
        given = (result,) if single else result
        self.n_outputs = len(given)
        values, self.output_blanks, self.output_routed = self._route(given, self._on_output_grads, True)
        self._write_back(given, values)
        return (
            values[0] if single else type(result)(values) if type(result) is tuple else type(result)(*values)
        )

    def _on_output_grads(self, grads: tuple) -> tuple:
        routed, recorded = self.output_routed, _is_recorded(grads)
        # no blanks here: an output that does not require grad (an argmax, a detached copy) gets
        # no gradient, so its entry is None, as PyTorch's (only grad_input has zeros for them)
        grad_output = self._as_tuple(grads, (), routed, self.n_outputs)
        for hook in self.pre_hooks:
            answer = hook(self.module, grad_output)
            if answer is not None:
                _check_answer(hook, answer, grad_output, "grad_output")
                grad_output = tuple(answer)
        self.grad_outputs = grad_output
        if self.input_blanks is None:  # no input wants a gradient: there is no later moment to wait for
            warnings.warn(
                f"{type(self.module).__name__}: full backward hook runs when the gradients w.r.t. the "
                "module's outputs are known, since no input requires grad (grad_input is all None)",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            grad_input = (None,) * self.n_inputs
            for hook in self.hooks:
                answer = hook(self.module, grad_input, grad_output)
                if answer is not None and not all(a is None for a in answer):
                    raise RuntimeError(  # PyTorch's words
                        "Backward hook for Modules where no input requires gradient should always return "
                        f"None or None for all gradients (got {type(answer).__name__} from a hook of "
                        f"{type(self.module).__name__})"
                    )
            self.grad_outputs = None
        return _arrays(grad_output, routed, recorded)

    def _on_input_grads(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # the outputs' gradients never came through the hook
            return grads
        routed, recorded = self.input_routed, _is_recorded(grads)
        grad_input = self._as_tuple(grads, self.input_blanks, routed, self.n_inputs)
        for hook in self.hooks:
            answer = hook(self.module, grad_input, self.grad_outputs)
            if answer is not None:
                _check_answer(hook, answer, grad_input, "grad_input")
                grad_input = tuple(answer)
        self.grad_outputs = None
        return _arrays(grad_input, routed, recorded)


class BackwardHooks:
    """The backward-hook half of ``Module``: registering the hooks."""

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_input, grad_output)`` once the gradients w.r.t. the module's
        inputs are computed; a returned tuple replaces ``grad_input`` (see the module docstring).

        Do not change the arguments in place; return new tensors instead.
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_output)`` once the gradients w.r.t. the module's outputs are
        computed, before they flow into the module; a returned tuple replaces ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated in PyTorch; here it registers a full backward hook (with a warning).

        PyTorch's old hook saw the gradients of the module's *last op* instead of its inputs (which
        differ as soon as forward has more than one op); glassgrad gives every hook the correct
        gradients w.r.t. the module's inputs.
        """
        warnings.warn(
            f"{type(self).__name__}.register_backward_hook is deprecated; it acts as "
            "register_full_backward_hook (gradients w.r.t. the module's inputs)",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return self.register_full_backward_hook(hook)
