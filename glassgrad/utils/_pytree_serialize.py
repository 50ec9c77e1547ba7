"""``treespec_dumps`` / ``treespec_loads``: a :class:`TreeSpec` as JSON text and back, in PyTorch's
format (protocol 1), so a spec written by one library reads in the other (``torch.export`` keeps
its input and output specs so).

The text is ``[protocol, schema]``, a schema ``{"type": name, "context": text, "children_spec":
[schema, ...]}`` with ``type`` None (and context None, no children) for a leaf. A node's type is
written by its serialized name (``builtins.list``, ``collections.OrderedDict`` ...; a registered
type's ``serialized_type_name``), its context as ``json.dumps(context)`` unless the type gave
``to_dumpable_context``/``from_dumpable_context``. A namedtuple's context is its class, written
by the name ``_register_namedtuple`` gave it (an unnamed one cannot be written, as in PyTorch).

>>> from glassgrad.utils._pytree import tree_structure, treespec_dumps, treespec_loads
>>> spec = tree_structure({"a": [1, 2]})
>>> treespec_loads(treespec_dumps(spec)) == spec
True
"""

from __future__ import annotations

import importlib
import json
from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

__all__ = [
    "treespec_dumps",
    "treespec_loads",
    "treespec_pprint",
    "is_structseq",
    "is_structseq_class",
    "is_structseq_instance",
]

DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL = 1
NO_SERIALIZED_TYPE_NAME_FOUND = "NO_SERIALIZED_TYPE_NAME_FOUND"


class _SerializeNodeDef(NamedTuple):
    typ: Any
    serialized_type_name: str
    to_dumpable_context: Callable | None
    from_dumpable_context: Callable | None


SUPPORTED_SERIALIZED_TYPES: dict[Any, _SerializeNodeDef] = {}  # node type -> how to write it
SERIALIZED_TYPE_TO_PYTHON_TYPE: dict[str, Any] = {}  # serialized name -> node type


def register_serialization(
    cls: Any,
    serialized_type_name: str | None = None,
    to_dumpable_context: Callable | None = None,
    from_dumpable_context: Callable | None = None,
    **_: Any,
) -> None:
    """Record how ``treespec_dumps`` writes node type ``cls`` (``register_pytree_node``'s keywords);
    the containers ``_pytree`` registers itself take PyTorch's names (``builtins.list`` ...)."""
    if serialized_type_name is None and cls in _BUILTIN_NAMES:
        serialized_type_name, to_dumpable_context, from_dumpable_context = _BUILTIN_NAMES[cls]
    if (to_dumpable_context is None) != (from_dumpable_context is None):
        raise ValueError(
            f"Both to_dumpable_context and from_dumpable_context for {cls} must be None or registered."
        )
    name = NO_SERIALIZED_TYPE_NAME_FOUND if serialized_type_name is None else serialized_type_name
    SUPPORTED_SERIALIZED_TYPES[cls] = _SerializeNodeDef(cls, name, to_dumpable_context, from_dumpable_context)
    SERIALIZED_TYPE_TO_PYTHON_TYPE[name] = cls


def _register_namedtuple(cls: type, *, serialized_type_name: str) -> None:
    """Give namedtuple class ``cls`` a serialized name, so specs holding it can be written. It stays
    the node type ``collections.namedtuple`` for flattening, as in PyTorch."""
    register_serialization(cls, serialized_type_name)


def _namedtuple_serialize(context: Any) -> str:
    node = SUPPORTED_SERIALIZED_TYPES.get(context)
    if node is None or node.serialized_type_name == NO_SERIALIZED_TYPE_NAME_FOUND:
        raise NotImplementedError(
            f"Can't serialize TreeSpec of namedtuple class {context} because we didn't register a "
            "serializated_type_name. Please register using `_register_namedtuple`."
        )
    return node.serialized_type_name


def _namedtuple_deserialize(name: str) -> type:
    if name not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
        raise NotImplementedError(
            f"Can't deserialize TreeSpec of namedtuple class {name} because we couldn't find a serializated name."
        )
    return SERIALIZED_TYPE_TO_PYTHON_TYPE[name]


def _defaultdict_serialize(context: list) -> dict:
    factory, keys = context
    return {"default_factory_module": factory.__module__, "default_factory_name": factory.__qualname__,
            "dict_context": keys}  # fmt: skip


def _defaultdict_deserialize(dumped: dict) -> list:
    factory = getattr(
        importlib.import_module(dumped["default_factory_module"]), dumped["default_factory_name"]
    )
    return [factory, dumped["dict_context"]]


class _EnumEncoder(json.JSONEncoder):
    """PyTorch's: an Enum in a context is written by its class's path and its member's name."""

    def default(self, obj: object) -> Any:
        if isinstance(obj, Enum):
            return {
                "__enum__": True,
                "fqn": f"{type(obj).__module__}:{type(obj).__qualname__}",
                "name": obj.name,
            }
        return super().default(obj)


def _enum_hook(obj: dict) -> Any:
    if "__enum__" not in obj:
        return obj
    module, _, qualname = obj["fqn"].partition(":")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    return cls[obj["name"]]


def _to_json(spec: Any) -> dict:
    if spec.is_leaf():
        return {"type": None, "context": None, "children_spec": []}
    node = SUPPORTED_SERIALIZED_TYPES.get(spec.type)
    if node is None:
        raise NotImplementedError(f"Serializing {spec.type} in pytree is not registered.")
    if node.serialized_type_name == NO_SERIALIZED_TYPE_NAME_FOUND:
        raise NotImplementedError(
            f"No registered serialization name for {spec.type} found. Please update your "
            "_register_pytree_node call with a `serialized_type_name` kwarg."
        )
    if node.to_dumpable_context is None:
        try:
            context = json.dumps(spec.context, cls=_EnumEncoder)
        except TypeError as e:
            raise TypeError(
                "Unable to serialize context. Please make the context json dump-able, or register a "
                "custom serializer using _register_pytree_node."
            ) from e
    else:
        context = node.to_dumpable_context(spec.context)
    children = [_to_json(c) for c in spec.children()]
    return {"type": node.serialized_type_name, "context": context, "children_spec": children}


def _from_json(schema: dict) -> Any:
    from glassgrad.utils._pytree import TreeSpec  # that module imports this one

    if schema["type"] is None and schema["context"] is None and not schema["children_spec"]:
        return TreeSpec(None, None, [])
    if schema["type"] not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
        raise NotImplementedError(f"Deserializing {schema['type']} in pytree is not registered.")
    typ = SERIALIZED_TYPE_TO_PYTHON_TYPE[schema["type"]]
    node = SUPPORTED_SERIALIZED_TYPES[typ]
    if node.from_dumpable_context is None:
        context = json.loads(schema["context"], object_hook=_enum_hook)
    else:
        context = node.from_dumpable_context(schema["context"])
    return TreeSpec(typ, context, [_from_json(c) for c in schema["children_spec"]])


def treespec_dumps(treespec: Any, protocol: int | None = None) -> str:
    """``treespec`` as JSON text ``[protocol, schema]`` (protocol 1, the only one, by default)."""
    protocol = DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL if protocol is None else protocol
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return json.dumps((protocol, _to_json(treespec)), cls=_EnumEncoder)


def treespec_loads(serialized: str) -> Any:
    """The :class:`TreeSpec` that ``treespec_dumps`` wrote as ``serialized``."""
    protocol, schema = json.loads(serialized)
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return _from_json(schema)


class _Asterisk(str):
    def __repr__(self) -> str:
        return "*"  # a leaf, printed without quotes


def treespec_pprint(treespec: Any) -> str:
    """The tree of ``treespec`` printed with ``*`` at each leaf: ``[*, (*, {'a': *})]``."""
    return repr(treespec.unflatten([_Asterisk("*")] * treespec.num_leaves))


def is_structseq_class(cls: Any) -> bool:
    """Whether ``cls`` is a C struct sequence (``os.stat_result``): a direct, final ``tuple``
    subclass with the ``n_fields`` counts. glassgrad's named results are namedtuples, not these."""
    return (
        isinstance(cls, type)
        and cls.__bases__ == (tuple,)
        and all(
            isinstance(getattr(cls, k, None), int)
            for k in ("n_fields", "n_sequence_fields", "n_unnamed_fields")
        )
        and not cls.__flags__ & (1 << 10)  # Py_TPFLAGS_BASETYPE: struct sequences cannot be subclassed
    )


def is_structseq_instance(obj: Any) -> bool:
    """Whether ``obj`` is a C struct sequence instance."""
    return is_structseq_class(type(obj))


def is_structseq(obj: Any) -> bool:
    """Whether ``obj`` is a C struct sequence class or instance."""
    return is_structseq_class(obj if isinstance(obj, type) else type(obj))


_BUILTIN_NAMES: dict[Any, tuple] = {
    tuple: ("builtins.tuple", None, None),
    list: ("builtins.list", None, None),
    dict: ("builtins.dict", None, None),
    namedtuple: ("collections.namedtuple", _namedtuple_serialize, _namedtuple_deserialize),
    OrderedDict: ("collections.OrderedDict", None, None),
    defaultdict: ("collections.defaultdict", _defaultdict_serialize, _defaultdict_deserialize),
    deque: ("collections.deque", None, None),
}
