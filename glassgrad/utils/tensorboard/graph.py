"""``add_graph``: a TensorBoard ``GraphDef`` of a glassgrad model, from the ops one forward pass runs.

PyTorch traces the model with TorchScript. glassgrad has no tracer of that kind; instead it runs the
model once (in eval mode, without recording gradients; every module's mode and the global random
state are restored afterwards) with an observer on
``glassgrad.autograd.observers.forward``, so every primitive op is seen with its input and output
tensors, and with forward hooks on every submodule, so each op is placed in the scope of the module
that ran it (``Net/Linear[fc1]/linear_3``, as PyTorch's scopes read). Inputs and outputs are
``IO Node`` s, parameters and buffers ``prim::GetAttr`` nodes, ops ``glassgrad::<op name>``.
"""

from __future__ import annotations

from typing import Any

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, NodeExecStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

__all__ = ["graph"]


def _shape_attr(shape: tuple) -> dict:
    dims = [TensorShapeProto.Dim(size=int(s)) for s in shape]
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))}


def _tensors(x: Any) -> list:
    """The Tensors in ``x`` (a Tensor, or nested tuples, lists and dict values of them), in order."""
    from glassgrad.tensor import Tensor

    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _tensors(item)]
    if isinstance(x, dict):
        return [t for item in x.values() for t in _tensors(item)]
    return []


class _Recorder:
    """Names every tensor it meets and turns every op into a ``NodeDef``."""

    def __init__(self, model: Any) -> None:
        self.nodes: list[NodeDef] = []
        self.names: dict[int, str] = {}  # id(tensor) -> node name producing it
        self.keep: list = []  # holds every named tensor so that no id is reused during the pass
        self.count = 0
        self.root = type(model).__name__
        self.scopes: dict[int, str] = {}  # id(module) -> scope name
        self.owned: dict[int, tuple[str, Any]] = {}  # id(param or buffer) -> (node name, tensor)
        self.stack = [self.root]
        for path, mod in model.named_modules():
            scope = self.root
            parent = model
            for part in path.split(".") if path else []:
                parent = getattr(parent, part)
                scope += f"/{type(parent).__name__}[{part}]"
            self.scopes[id(mod)] = scope
            for pname, p in list(mod.named_parameters(recurse=False)) + list(
                mod.named_buffers(recurse=False)
            ):
                if p is not None and id(p) not in self.owned:
                    self.owned[id(p)] = (f"{scope}/{pname}", p)
        # In-place ops (``out += x``, ``ReLU(inplace=True)``) run, outside autograd, on a second
        # Tensor over the same array and copy their result back. ``arrays`` finds the named tensor
        # an array belongs to; ``pending`` keeps, per array read that way, the nodes computed from
        # the read; ``versions`` each named tensor's version when named (a change: written since).
        self.arrays: dict[int, Any] = {id(t._data): t for _, t in self.owned.values()}
        self.pending: dict[int, tuple[Any, set[str]]] = {}  # id(array) -> (owner, derived nodes)
        self.reads: set[int] = set()  # arrays read through a second Tensor by the op being recorded
        self.versions: dict[int, int] = {}  # id(tensor) -> its _version when named
        self.last_op: tuple[Any, str] | None = None  # (output, node name) of the latest op

    def add(self, name: str, op: str, inputs: list[str], shape: tuple) -> str:
        self.nodes.append(NodeDef(name=name, op=op, input=inputs, attr=_shape_attr(shape)))
        return name

    def bind(self, t: Any, name: str) -> str:
        """Record that ``name`` is the node holding ``t``'s current value."""
        self.names[id(t)] = name
        self.versions[id(t)] = t._version
        self.arrays[id(t._data)] = t
        self.keep += (t, t._data)  # no id reused during the pass, of a tensor or of an array
        return name

    def settle(self) -> None:
        """Point each tensor changed in place since the last op at the op that computed its new
        value: the last op run before its version moved, if computed from the tensor's array."""
        for key, (owner, derived) in list(self.pending.items()):
            if owner._version != self.versions.get(id(owner)):
                del self.pending[key]
                last = self.last_op
                if last is not None and last[1] in derived and tuple(last[0].shape) == tuple(owner.shape):
                    self.bind(owner, last[1])

    def name_of(self, t: Any) -> str:
        """The node producing ``t``: a recorded op, a parameter/buffer, or a new constant."""
        key = id(t)
        if key in self.names:
            if t._version == self.versions[key]:
                return self.names[key]
            # written in place by something that is not an op (fill_, zero_, copy_): a new value
            # from outside the graph, shown as a constant
        elif key not in self.owned and id(t._data) in self.arrays:
            # a second Tensor over a named tensor's array (what an in-place op computes from, a
            # detach(), a .data): the same value
            self.reads.add(id(t._data))
            return self.name_of(self.arrays[id(t._data)])
        if key in self.owned and key not in self.names:
            name = self.add(self.owned[key][0], "prim::GetAttr", [], tuple(t.shape))
        else:
            self.count += 1
            name = self.add(f"{self.stack[-1]}/constant_{self.count}", "prim::Constant", [], tuple(t.shape))
        return self.bind(t, name)

    def on_op(self, fn: Any, node: Any, inputs: tuple, output: Any, attrs: dict) -> None:
        self.settle()
        self.reads = set()
        ins = [self.name_of(t) for t in _tensors(list(inputs))]
        self.count += 1
        op = getattr(fn, "name", type(fn).__name__.lower())
        name = self.add(f"{self.stack[-1]}/{op}_{self.count}", f"glassgrad::{op}", ins, tuple(output.shape))
        for arr in self.reads:
            self.pending.setdefault(arr, (self.arrays[arr], set()))
        for arr, (_, derived) in self.pending.items():
            if arr in self.reads or not derived.isdisjoint(ins):
                derived.add(name)
        self.last_op = (output, name)
        self.bind(output, name)

    def pre_hook(self, module: Any, args: Any) -> None:
        self.stack.append(self.scopes.get(id(module), self.stack[-1]))

    def post_hook(self, module: Any, args: Any, output: Any) -> None:
        self.stack.pop()


def graph(model: Any, input_to_model: Any = None, verbose: bool = False) -> tuple[GraphDef, RunMetadata]:
    """Run ``model`` on ``input_to_model`` (a Tensor or a tuple/list of them) and return the
    ``GraphDef`` of what ran, with a ``RunMetadata`` naming its nodes (TensorBoard shows it as the
    ``step1`` run)."""
    from glassgrad.autograd.function import observers
    from glassgrad.autograd.grad_mode import no_grad
    from glassgrad.random import get_rng_state, set_rng_state

    if not callable(getattr(model, "named_modules", None)):
        raise TypeError(f"add_graph: expected a glassgrad nn.Module, got {type(model).__name__}")
    if input_to_model is None:
        args: tuple = ()
    elif isinstance(input_to_model, (list, tuple)):
        args = tuple(input_to_model)
    else:
        args = (input_to_model,)
    rec = _Recorder(model)
    for i, t in enumerate(_tensors(list(args))):
        rec.bind(t, rec.add(f"input/input.{i + 1}", "IO Node", [], tuple(t.shape)))
    handles = []
    for _, mod in model.named_modules():
        if mod is not model:
            handles.append(mod.register_forward_pre_hook(rec.pre_hook))
            handles.append(mod.register_forward_hook(rec.post_hook))
    modes = [(mod, mod.training) for _, mod in model.named_modules()]  # each one's own mode
    rng_state = get_rng_state()  # a forward that draws (randn, a sampling layer) changes nothing
    model.eval()
    observers.forward.append(rec.on_op)
    try:
        with no_grad():
            out = model(*args)
    finally:
        observers.forward.remove(rec.on_op)
        for h in handles:
            h.remove()
        for mod, training in modes:
            mod.training = training
        set_rng_state(rng_state)
    rec.settle()  # an in-place op last in forward (``return x.relu_()``)
    for i, t in enumerate(_tensors(out)):
        rec.add(f"output/output.{i + 1}", "IO Node", [rec.name_of(t)], tuple(t.shape))
    if verbose:
        for n in rec.nodes:
            print(n.name, n.op, list(n.input))
    stats = StepStats(
        dev_stats=[
            DeviceStepStats(
                device="/device:CPU:0", node_stats=[NodeExecStats(node_name=n.name) for n in rec.nodes]
            )
        ]
    )
    return GraphDef(node=rec.nodes, versions=VersionDef(producer=22)), RunMetadata(step_stats=stats)
