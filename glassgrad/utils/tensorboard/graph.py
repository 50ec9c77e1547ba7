"""``add_graph``: a TensorBoard ``GraphDef`` of a glassgrad model, from the ops one forward pass runs.

PyTorch traces the model with TorchScript. glassgrad has no tracer of that kind; instead it runs the
model once (in eval mode, without recording gradients) with an observer on
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

    def add(self, name: str, op: str, inputs: list[str], shape: tuple) -> str:
        self.nodes.append(NodeDef(name=name, op=op, input=inputs, attr=_shape_attr(shape)))
        return name

    def name_of(self, t: Any) -> str:
        """The node producing ``t``: a recorded op, a parameter/buffer, or a new constant."""
        key = id(t)
        if key in self.names:
            return self.names[key]
        if key in self.owned:
            name = self.add(self.owned[key][0], "prim::GetAttr", [], tuple(t.shape))
        else:
            self.count += 1
            name = self.add(f"{self.stack[-1]}/constant_{self.count}", "prim::Constant", [], tuple(t.shape))
        self.names[key] = name
        self.keep.append(t)
        return name

    def on_op(self, fn: Any, node: Any, inputs: tuple, output: Any, attrs: dict) -> None:
        ins = [self.name_of(t) for t in _tensors(list(inputs))]
        self.count += 1
        op = getattr(fn, "name", type(fn).__name__.lower())
        name = self.add(f"{self.stack[-1]}/{op}_{self.count}", f"glassgrad::{op}", ins, tuple(output.shape))
        self.names[id(output)] = name
        self.keep.append(output)

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
        rec.names[id(t)] = rec.add(f"input/input.{i + 1}", "IO Node", [], tuple(t.shape))
        rec.keep.append(t)
    handles = []
    for _, mod in model.named_modules():
        if mod is not model:
            handles.append(mod.register_forward_pre_hook(rec.pre_hook))
            handles.append(mod.register_forward_hook(rec.post_hook))
    was_training = model.training
    model.eval()
    observers.forward.append(rec.on_op)
    try:
        with no_grad():
            out = model(*args)
    finally:
        observers.forward.remove(rec.on_op)
        for h in handles:
            h.remove()
        model.train(was_training)
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
