"""Tensor subclasses: ``Tensor.__torch_function__`` (PyTorch's default), ``as_subclass`` and
``_make_subclass``, and the hook that switches ``__torch_function__`` on (``torch_function.py``)
when a subclass that takes part is defined.

>>> import glassgrad as gg
>>> class Tagged(gg.Tensor):
...     pass
>>> t = gg.ones(2).as_subclass(Tagged)
>>> type(t + 1).__name__, type(t.sum()).__name__
('Tagged', 'Tagged')
"""

from __future__ import annotations

import contextlib
import copy
import functools
from typing import Any

import numpy as np

from glassgrad import torch_function
from glassgrad.autograd.function import named
from glassgrad.ops import movement
from glassgrad.ops.as_strided import memory_root
from glassgrad.size import Size
from glassgrad.tensor import Tensor
from glassgrad.torch_function import DisableTorchFunctionSubclass, _disabled_torch_function_impl

__all__ = ["convert", "NOWRAP", "torch_function_default"]

#: Functions whose results Tensor's ``__torch_function__`` hands back unconverted (PyTorch's
#: ``get_default_nowrap_functions``: the gradient and the view base stay what they are).
NOWRAP: set = set()


def convert(ret: Any, cls: type) -> Any:
    """``ret`` with its Tensors (also inside tuples and lists) made ``cls`` instances (aliases)."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor):
        return ret if isinstance(ret, cls) else as_subclass(ret, cls)
    if isinstance(ret, (tuple, list)) and not isinstance(ret, Size):
        items = [convert(r, cls) for r in ret]
        if all(a is b for a, b in zip(items, ret)):
            return ret
        make = getattr(type(ret), "_make", None)  # a named tuple (return_types) takes fields
        return make(items) if make is not None else type(ret)(items)
    return ret


def torch_function_default(cls: type, func: Any, types: tuple, args: tuple = (), kwargs: Any = None) -> Any:
    """PyTorch's default: run ``func`` with subclasses' ``__torch_function__`` off, then make its
    Tensor results ``cls`` instances; ``NotImplemented`` when another argument's type is not a
    base of ``cls`` (that type is asked next)."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    if _from_pytorch(func):  # PyTorch itself hands its own function over: running it would recurse
        raise TypeError(
            f"{_from_pytorch(func)}.{getattr(func, '__name__', '')}: PyTorch's function was given a glassgrad Tensor; "
            "the two libraries' tensors do not mix: convert with torch.from_numpy(t.numpy()) or "
            "glassgrad.tensor(t.numpy())"
        )
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if func in NOWRAP:
            return ret
        return convert(ret, cls)


def _from_pytorch(func: Any) -> str:
    """``func``'s module if it is PyTorch's own (``torch.add``, ``torch.Tensor.add``, ``F.relu``:
    a glassgrad Tensor in a real PyTorch call reaches this protocol too), else ""."""
    module = getattr(func, "__module__", None) or getattr(
        getattr(func, "__objclass__", None), "__module__", None
    )
    return module if isinstance(module, str) and (module == "torch" or module.startswith("torch.")) else ""


def as_subclass(self: Tensor, cls: type) -> Tensor:
    """A ``cls`` instance over the same memory, version counter and graph (an alias: a view of
    ``self`` of the same shape, so gradients reach ``self``), as PyTorch's. ``cls.__init__`` is
    not called."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass: expected a subclass of Tensor as cls, got {cls!r}")
    with DisableTorchFunctionSubclass():
        out = movement.view(self, self._data.shape)
    if out._node is not None:
        named(out, "AliasBackward0")
    return _recast(out, cls)


def _recast(out: Tensor, cls: type) -> Tensor:
    if type(out) is not cls:
        try:
            out.__class__ = cls
        except TypeError as e:  # cls declares __slots__ of its own: another memory layout
            raise TypeError(
                f"as_subclass: cannot make a {cls.__name__} from a Tensor: its __slots__ "
                f"{getattr(cls, '__slots__', ())!r} change the object's layout ({e}); declare no "
                "__slots__ in a Tensor subclass, or keep the extra fields in its __dict__"
            ) from None
    return out


def named_in_repr(cls: type) -> bool:
    """Whether ``repr`` names ``cls`` (a subclass that takes part in ``__torch_function__``)."""
    return torch_function._takes_part_type(cls)


def _make_subclass(cls: type, data: Tensor, require_grad: bool = False, **_: Any) -> Tensor:
    """``torch.Tensor._make_subclass``: a ``cls`` leaf over ``data``'s memory and version counter
    (detached from its graph), requiring grad as asked; what subclasses' ``__new__`` return."""
    if not isinstance(data, Tensor):
        raise TypeError(f"_make_subclass: expected a Tensor as data, got {type(data).__name__}")
    out = Tensor(data._data, _wrap=True)
    out._vc = data._vc  # shared, as detach(): an in-place change through either is seen by both
    data._vc[1] = True
    if require_grad:  # before the recast: PyTorch's sets the flag without asking cls's __torch_function__
        out.requires_grad_(True)
    return _recast(out, cls)


def module_load(self: Tensor, other: Tensor, assign: bool = False) -> Tensor:
    """``Tensor.module_load``: what ``load_state_dict`` swaps into a module in place of ``self``
    when ``__future__.set_swap_module_params_on_conversion(True)``: ``other.detach()`` with
    ``assign``, else ``self.copy_(other).detach()``. A Tensor subclass changes what it loads by
    answering this method in its ``__torch_function__`` (asked for ``self`` and ``other``)."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def made(self: Tensor) -> bool:
    """Whether a subclass instance already holds its data (its ``__new__`` made it)."""
    return hasattr(self, "_data")


def _made_init(self: Tensor, *args: Any, **kwargs: Any) -> None:
    """The ``__init__`` of a subclass with a ``__new__`` of its own and no ``__init__``: PyTorch's
    takes no part once ``__new__`` made the tensor, whatever keywords that ``__new__`` took
    (torchvision's ``BoundingBoxes(data, format=..., canvas_size=...)``)."""
    if not made(self):
        Tensor.__init__(self, *args, **kwargs)


def _new_then_init(init: Any) -> Any:
    """A user subclass's own ``__init__`` (no ``__new__`` of its own): PyTorch's ``Tensor.__new__``
    has made the tensor from the call's arguments before that ``__init__`` runs, so an ``__init__``
    that never calls ``super().__init__(data)`` (AllenNLP's test ``FakeTensor``) or calls it with
    no or other arguments still holds the data it was called with; made here, the same way.
    Arguments the legacy constructor refuses (PyTorch's ``__new__`` raises for them) are left to
    that ``__init__``, as before: its own ``super().__init__(data)`` makes the tensor then."""

    @functools.wraps(init)
    def made_then_init(self: Tensor, *args: Any, **kwargs: Any) -> None:
        if not made(self):
            with contextlib.suppress(TypeError):
                Tensor.__init__(self, *args, **kwargs)
        init(self, *args, **kwargs)

    made_then_init._new_then_init = True  # type: ignore[attr-defined]
    return made_then_init


def made_already(self: Tensor, given: bool) -> None:
    """``Tensor.__init__`` on a subclass instance that holds its data already. Where the call's own
    arguments made it (``_new_then_init``), arguments here are PyTorch's TypeError: its
    ``super().__init__(data * 2)`` reaches ``object.__init__``, and a tensor silently holding the
    call's data instead would be a wrong answer."""
    if given and getattr(type(self).__init__, "_new_then_init", False):
        raise TypeError(
            f"{type(self).__name__}.__init__: the tensor is made from the call's arguments before "
            "__init__ runs (PyTorch's Tensor.__new__), so super().__init__() takes no arguments "
            "(PyTorch: object.__init__() takes exactly one argument); define __new__ to make it from others"
        )


def _user_class_over_tensor(cls: type) -> bool:
    """Whether every class between ``cls`` and ``Tensor`` is a user's (glassgrad's own subclasses,
    ``Buffer(data, persistent=...)``, ``CausalBias(variant, ...)``, take other arguments)."""
    return all(not c.__module__.startswith("glassgrad.") for c in cls.__mro__[: cls.__mro__.index(Tensor)])


def _legacy_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    # PyTorch's Tensor.__new__ is the legacy constructor: a subclass's super().__new__(cls, data)
    # gets a tensor over data, and Tensor.__init__ then passes (see made)
    obj = object.__new__(cls)
    # only when called from a subclass's own __new__: a subclass without one (Buffer, a user's
    # Tensor subclass called as a constructor) is made by its __init__ as before
    if args and cls.__new__ is not _legacy_new and not kwargs.get("_wrap"):
        Tensor.__init__(obj, *args, **kwargs)
    return obj


def _reduce_ex(self: Tensor, protocol: Any, keep_graph: bool = False) -> Any:
    """Pickling (and ``copy.copy``): as PyTorch's ``_rebuild_tensor_v2``, the tensor comes back a
    leaf that keeps ``requires_grad``, without its graph, ``.grad`` or hooks (linear_operator
    pickles its cache of a computed tensor; its graph is not picklable). ``keep_graph`` is
    ``deepcopy``'s (``_deepcopy``). A subclass that takes part and has a ``__new__`` of its own
    (fastai's ``TensorBase(x, **meta)``, torchvision's ``BoundingBoxes``) cannot be remade by
    ``cls.__new__(cls)``; as PyTorch's ``_rebuild_from_type_v2``, it is pickled as a plain
    Tensor, its class and its ``__dict__``, and remade with ``as_subclass``'s recast."""
    cls = type(self)
    if cls is Tensor or "__new__" not in _own_attrs(cls) or not torch_function._takes_part_type(cls):
        rv = object.__reduce_ex__(self, protocol)
        state = rv[2] if len(rv) > 2 else None
        if keep_graph or not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict)):
            return rv
        slots = {**state[1], "_node": None, "_grad": None, "_hooks": None}
        # (callable, args), as PyTorch's: a subclass's own __reduce_ex__ unpacks super()'s in two
        # (geoopt's ManifoldTensor: ``build, proto = super().__reduce_ex__(proto)``)
        return _rebuild_state, (cls, (state[0], slots))
    plain = Tensor(self._data, _wrap=True)
    plain.requires_grad = self.requires_grad and self._node is None
    return _rebuild_subclass, (cls, plain, dict(vars(self)))


def _rebuild_state(cls: type, state: tuple) -> Tensor:
    """Unpickling the plain way (``__new__`` of the class left out, as ``copyreg.__newobj__`` with
    ``object.__new__``): the instance with its state set."""
    out = object.__new__(cls)
    out.__setstate__(state)
    return out


_NOT_A_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
    "the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
)


def _deepcopy(self: Tensor, memo: dict) -> Tensor:
    """``copy.deepcopy``: a copy that keeps ``.grad``, through the class's own ``__reduce_ex__``
    where it has one. A computed tensor (not a leaf) is refused with PyTorch's sentence, before the
    memo is read, as PyTorch: a model whose buffer is a Parameter that ``to()`` copied (LlamaGen's
    ``codebook_used``) or an old ``weight_norm``'s weight cannot be deep-copied there."""
    if self._node is not None:
        raise RuntimeError(_NOT_A_LEAF)
    reduce = type(self).__reduce_ex__
    rv = _reduce_ex(self, 4, keep_graph=True) if reduce is _reduce_ex else reduce(self, 4)
    _copy_memory_once(self._data, memo)
    return copy._reconstruct(self, memo, *rv)


def _copy_memory_once(a: Any, memo: dict) -> None:
    """PyTorch's deepcopy copies a view's whole storage, once per ``deepcopy`` call (its memo):
    tensors that shared memory (a view and its base, two slices of one buffer) share the copy's,
    at the same offsets and strides, so a write through one copy shows in the other. ``memo`` gets
    ``a``'s copy: that view of the copied owning array (memoised itself)."""
    if a.__class__ is not np.ndarray or id(a) in memo:
        return
    root = memory_root(a)
    if root is a or not root.flags.c_contiguous:  # an owner (copied as it is), or memory in pieces
        return
    owner = copy.deepcopy(root, memo)
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    view = np.ndarray(a.shape, a.dtype, buffer=owner, offset=offset, strides=a.strides)
    view.flags.writeable = a.flags.writeable  # an expand's view stays read-only
    memo[id(a)] = view


def _own_attrs(cls: type) -> set:
    """The names defined by ``cls`` and its bases below ``Tensor``."""
    return {n for c in cls.__mro__[: cls.__mro__.index(Tensor)] for n in vars(c)}


def _rebuild_subclass(cls: type, plain: Tensor, state: dict) -> Tensor:
    out = _recast(plain, cls)
    setstate = getattr(cls, "__setstate__", None)
    if state and setstate is not None and setstate is not Tensor.__setstate__:
        out.__setstate__(state)
    else:
        vars(out).update(state)
    return out


def _init_subclass(cls: type, **kwargs: Any) -> None:
    super(Tensor, cls).__init_subclass__(**kwargs)
    tf = cls.__dict__.get("__torch_function__")
    if tf is None:  # inherits: takes part unless a base turned it off (Parameter's subclasses)
        tf = getattr(cls, "__torch_function__", None)
    takes_part = getattr(tf, "__func__", tf) is not _disabled_torch_function_impl
    if takes_part:
        torch_function.activate()
    init = vars(cls).get("__init__")
    if (
        init is not None
        and not getattr(init, "_new_then_init", False)
        and "__new__" not in _own_attrs(cls)
        and _user_class_over_tensor(cls)
    ):
        cls.__init__ = _new_then_init(init)
    # only for a subclass with a __new__ of its own (its super().__new__(cls, data) needs it), a
    # user's also when it turns __torch_function__ off (geoopt's ManifoldTensor; glassgrad's own
    # Parameter does not need it): from then on every Tensor() pays a Python call
    if "__new__" not in vars(cls) or (not takes_part and cls.__module__.startswith("glassgrad.")):
        return
    if "__new__" not in vars(Tensor):
        Tensor.__new__ = staticmethod(_legacy_new)
    if "__init__" not in _own_attrs(cls):
        cls.__init__ = _made_init  # (on the subclass: Tensor's own stays as fast as it was)


Tensor.__torch_function__ = classmethod(torch_function_default)
Tensor.__init_subclass__ = classmethod(_init_subclass)
Tensor.as_subclass = as_subclass
Tensor._make_subclass = staticmethod(_make_subclass)
Tensor.module_load = module_load
module_load.__qualname__ = "Tensor.module_load"
Tensor.__reduce_ex__ = _reduce_ex
Tensor.__deepcopy__ = _deepcopy
as_subclass.__qualname__ = "Tensor.as_subclass"
torch_function._PLAIN.update((Tensor, Size))
torch_function.UNASKED.add(id(as_subclass))  # PyTorch's as_subclass does not ask __torch_function__
NOWRAP.update((Tensor.__dict__["grad"].__get__, Tensor.__dict__["_base"].__get__))
