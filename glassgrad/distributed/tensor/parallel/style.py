"""The tensor-parallel styles of PyTorch's ``torch.distributed.tensor.parallel`` for a world of one.

A style does two things to a module, as in PyTorch: its parameters become ``DTensor`` parameters
with the style's placements (``ColwiseParallel``: a Linear's weight and bias ``Shard(0)``, an
Embedding's weight ``Shard(1)``; ``RowwiseParallel``: weight ``Shard(1)``, bias ``Replicate()``,
an Embedding's weight ``Shard(0)``; ``SequenceParallel``: every parameter ``Replicate()``), and
hooks lay out its inputs and outputs. With one process every layout holds the whole tensor, so
no value changes: the module computes what it computed before. What the hooks still do is
PyTorch's typing of the results: an output is a ``DTensor`` with the style's ``output_layouts``
when ``use_local_output=False`` and a plain Tensor otherwise, and ``PrepareModuleInput`` hands
the module DTensors (or plain Tensors with ``use_local_output=True``). The input hooks of the
Linear/Embedding styles and of ``SequenceParallel`` are left out: they only retype an input that
glassgrad's ops would return as a plain Tensor anyway.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from glassgrad.distributed.device_mesh import DeviceMesh
from glassgrad.distributed.tensor._api import DTensor, as_parameter, distribute_module, distribute_tensor
from glassgrad.distributed.tensor.placement_types import Placement, Replicate, Shard
from glassgrad.nn.embedding import Embedding
from glassgrad.nn.linear import Linear
from glassgrad.tensor import Tensor

__all__ = [
    "ParallelStyle", "ColwiseParallel", "RowwiseParallel", "SequenceParallel", "PrepareModuleInput",
    "PrepareModuleOutput", "PrepareModuleInputOutput",
]  # fmt: skip


class ParallelStyle(ABC):
    """How ``parallelize_module`` lays out one module (its parameters, inputs and outputs)."""

    src_data_rank: int | None = 0

    @abstractmethod
    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any: ...


def _laid_out(x: Any, mesh: DeviceMesh, layout: Placement, use_local_output: bool) -> Any:
    """``x`` (a Tensor or DTensor) laid out as ``layout``, then local (a plain Tensor) or not. A
    plain Tensor wanted local is returned as it is: laying it out and back changes nothing."""
    if use_local_output:
        return x.to_local() if isinstance(x, DTensor) else x
    if isinstance(x, DTensor):
        return x if x.placements == (layout,) else x.redistribute(mesh, (layout,))
    return DTensor.from_local(x, mesh, (layout,)) if isinstance(x, Tensor) else x


def _output_fn(layouts: tuple, use_local_output: bool) -> Any:
    def fn(mod: Any, outputs: Any, mesh: DeviceMesh) -> Any:
        return _laid_out(outputs, mesh, layouts[0], use_local_output)

    return fn


def _shard(module: Any, mesh: DeviceMesh, style: ParallelStyle, placements: dict) -> None:
    """Register ``module``'s parameters named in ``placements`` (``"*"``: any) as DTensor parameters."""
    for name, p in list(module._parameters.items()):
        where = placements.get(name, placements.get("*"))
        if p is not None and where is not None and not isinstance(p, DTensor):
            d = distribute_tensor(p.detach(), mesh, [where], src_data_rank=style.src_data_rank)
            module.register_parameter(name, as_parameter(d, p.requires_grad))


def _linear_or_embedding(style: str, module: Any) -> str:
    if isinstance(module, Linear):
        return "linear"
    if isinstance(module, Embedding):
        return "embedding"
    raise NotImplementedError(
        f"{style}: expected an nn.Linear or nn.Embedding ({style} currently only support nn.Linear and "
        f"nn.Embedding!), got {type(module).__name__}"
    )


class _LinearStyle(ParallelStyle):
    """What ``ColwiseParallel`` and ``RowwiseParallel`` share: their keywords and their printing."""

    input_layouts: tuple
    output_layouts: tuple
    use_local_output: bool

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_layouts={self.input_layouts}, output_layouts={self.output_layouts}, "
            f"use_local_output={self.use_local_output})"
        )


class ColwiseParallel(_LinearStyle):
    """Shard a Linear by output features (weight and bias ``Shard(0)``) or an Embedding by
    embedding dimension (``Shard(1)``). Output layout ``Shard(-1)`` by default.

    Shape:
        the module's own (one process holds every column).
    """

    def __init__(
        self,
        *,
        input_layouts: Placement | None = None,
        output_layouts: Placement | None = None,
        use_local_output: bool = True,
    ) -> None:
        self.input_layouts = (input_layouts or Replicate(),)
        self.output_layouts = (output_layouts or Shard(-1),)
        self.desired_input_layouts = (Replicate(),)
        self.use_local_output = use_local_output

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        kind = _linear_or_embedding("ColwiseParallel", module)
        where = Shard(0) if kind == "linear" else Shard(1)
        return distribute_module(
            module,
            device_mesh,
            lambda name, mod, mesh: _shard(mod, mesh, self, {"*": where}) if mod is module else None,
            None,
            _output_fn(self.output_layouts, self.use_local_output),
        )


class RowwiseParallel(_LinearStyle):
    """Shard a Linear by input features (weight ``Shard(1)``, bias ``Replicate()``) or an
    Embedding by rows (``Shard(0)``). Input layout ``Shard(-1)``, output ``Replicate()`` by default.

    Shape:
        the module's own (one process holds every row).
    """

    def __init__(
        self,
        *,
        input_layouts: Placement | None = None,
        output_layouts: Placement | None = None,
        use_local_output: bool = True,
    ) -> None:
        self.input_layouts = (input_layouts or Shard(-1),)
        self.output_layouts = (output_layouts or Replicate(),)
        self.use_local_output = use_local_output

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        kind = _linear_or_embedding("RowwiseParallel", module)
        if kind == "linear":
            self.desired_input_layouts = (Shard(-1),)
            where = {"weight": Shard(1), "bias": Replicate()}
        else:
            self.desired_input_layouts = (Replicate(),)
            where = {"weight": Shard(0)}
        return distribute_module(
            module,
            device_mesh,
            lambda name, mod, mesh: _shard(mod, mesh, self, where) if mod is module else None,
            None,
            _output_fn(self.output_layouts, self.use_local_output),
        )


class SequenceParallel(ParallelStyle):
    """Replicate a module's parameters (norms, dropout: modules that work per position) and shard
    its activations along ``sequence_dim``: the output is a ``DTensor`` laid out ``Shard(sequence_dim)``
    unless ``use_local_output=True``.

    Shape:
        the module's own (one process holds the whole sequence).
    """

    def __init__(self, *, sequence_dim: int = 1, use_local_output: bool = False) -> None:
        self.sequence_sharding = (Shard(sequence_dim),)
        self.use_local_output = use_local_output

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        return distribute_module(
            module, device_mesh, None, None, _output_fn(self.sequence_sharding, self.use_local_output)
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(sequence_dim={self.sequence_sharding[0].dim}, "
            f"use_local_output={self.use_local_output})"
        )


def _tuple(layouts: Any) -> Any:
    return (layouts,) if isinstance(layouts, Placement) else layouts


def _prepare(
    x: Any, mesh: DeviceMesh, layout: Placement | None, desired: Placement | None, local: bool
) -> Any:
    """PyTorch's ``PrepareModuleInput._prepare_input_arg`` (and the output twin)."""
    if layout is None:
        return x
    if not isinstance(x, Tensor):
        raise AssertionError(
            f"PrepareModuleInput: expecting input to be a torch.Tensor!, got {type(x).__name__}"
        )
    d = x if isinstance(x, DTensor) else DTensor.from_local(x, mesh, (layout,))
    if desired is not None and layout != desired:
        d = d.redistribute(mesh, (desired,))
    return d.to_local() if local else d


class PrepareModuleInput(ParallelStyle):
    """Lay out a module's positional (``input_layouts``, ``desired_input_layouts``) and keyword
    (``input_kwarg_layouts``, ``desired_input_kwarg_layouts``) inputs before its forward; None
    leaves an input as it is.

    Shape:
        the inputs' own.
    """

    def __init__(
        self,
        *,
        input_layouts: Any = None,
        desired_input_layouts: Any = None,
        input_kwarg_layouts: dict[str, Placement] | None = None,
        desired_input_kwarg_layouts: dict[str, Placement] | None = None,
        use_local_output: bool = False,
    ) -> None:
        self.input_layouts = _tuple(input_layouts)
        self.desired_input_layouts = _tuple(desired_input_layouts)
        self.use_local_output = use_local_output
        if self.input_layouts is not None:
            if self.desired_input_layouts is None:
                raise AssertionError("PrepareModuleInput: desired module inputs should not be None!")
            if len(self.input_layouts) != len(self.desired_input_layouts):
                raise AssertionError(
                    "PrepareModuleInput: input_layouts and desired_input_layouts should have same length!"
                )
        self.with_kwargs = input_kwarg_layouts is not None
        self.input_kwarg_layouts = input_kwarg_layouts or {}
        self.desired_input_kwarg_layouts = desired_input_kwarg_layouts or {}
        if self.with_kwargs and len(self.input_kwarg_layouts) != len(self.desired_input_kwarg_layouts):
            raise AssertionError(
                "PrepareModuleInput: input_kwarg_layouts and desired_input_kwarg_layouts should have same length!"
            )

    def _inputs(self, inputs: Any, mesh: DeviceMesh) -> Any:
        if self.input_layouts is None:
            return inputs
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        if len(inputs) != len(self.input_layouts):
            raise ValueError(
                f"PrepareModuleInput: module inputs and input_layouts should have same length! (got "
                f"{len(inputs)} inputs and {len(self.input_layouts)} layouts)"
            )
        lay = zip(inputs, self.input_layouts, self.desired_input_layouts)
        return tuple(_prepare(x, mesh, a, b, self.use_local_output) for x, a, b in lay)

    def _kwargs(self, inputs: Any, kwargs: dict, mesh: DeviceMesh) -> tuple:
        out = {
            k: _prepare(
                v,
                mesh,
                self.input_kwarg_layouts.get(k),
                self.desired_input_kwarg_layouts.get(k),
                self.use_local_output,
            )
            for k, v in kwargs.items()
        }
        return self._inputs(inputs, mesh), out

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        if self.with_kwargs:
            module.register_forward_pre_hook(
                lambda _, a, kw: self._kwargs(a, kw, device_mesh), with_kwargs=True
            )
        else:
            module.register_forward_pre_hook(lambda _, a: self._inputs(a, device_mesh))
        return module

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_layouts={self.input_layouts}, desired_input_layouts="
            f"{self.desired_input_layouts}, input_kwarg_layouts={self.input_kwarg_layouts}, "
            f"desired_input_kwarg_layouts={self.desired_input_kwarg_layouts}, use_local_output={self.use_local_output})"
        )


class PrepareModuleOutput(ParallelStyle):
    """Lay out a module's outputs (``output_layouts`` -> ``desired_output_layouts``) after its
    forward; plain Tensors unless ``use_local_output=False``.

    Shape:
        the outputs' own.
    """

    def __init__(
        self, *, output_layouts: Any, desired_output_layouts: Any, use_local_output: bool = True
    ) -> None:
        self.output_layouts = _tuple(output_layouts)
        self.desired_output_layouts = _tuple(desired_output_layouts)
        self.use_local_output = use_local_output
        if len(self.output_layouts) != len(self.desired_output_layouts):
            raise AssertionError(
                "PrepareModuleOutput: output_layouts and desired_output_layouts should have same length!"
            )

    def _outputs(self, outputs: Any, mesh: DeviceMesh) -> Any:
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        if len(outs) != len(self.output_layouts):
            raise ValueError(
                f"PrepareModuleOutput: module outputs and output_layouts should have same length! (got "
                f"{len(outs)} outputs and {len(self.output_layouts)} layouts)"
            )
        lay = zip(outs, self.output_layouts, self.desired_output_layouts)
        done = tuple(_prepare(x, mesh, a, b, self.use_local_output) for x, a, b in lay)
        return done[0] if len(done) == 1 else done

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        module.register_forward_hook(lambda _, a, out: self._outputs(out, device_mesh))
        return module

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(output_layouts={self.output_layouts}, desired_output_layouts="
            f"{self.desired_output_layouts}, use_local_output={self.use_local_output})"
        )


class PrepareModuleInputOutput(ParallelStyle):
    """``PrepareModuleInput`` and ``PrepareModuleOutput`` on one module (their keywords, with
    ``use_local_input`` for the input half's ``use_local_output``).

    Shape:
        the inputs' and outputs' own.
    """

    def __init__(
        self,
        *,
        input_layouts: Any = None,
        desired_input_layouts: Any = None,
        input_kwarg_layouts: dict[str, Placement] | None = None,
        desired_input_kwarg_layouts: dict[str, Placement] | None = None,
        use_local_input: bool = False,
        output_layouts: Any,
        desired_output_layouts: Any,
        use_local_output: bool = True,
    ) -> None:
        self.prepare_module_input = PrepareModuleInput(
            input_layouts=input_layouts,
            desired_input_layouts=desired_input_layouts,
            input_kwarg_layouts=input_kwarg_layouts,
            desired_input_kwarg_layouts=desired_input_kwarg_layouts,
            use_local_output=use_local_input,
        )
        self.prepare_module_output = PrepareModuleOutput(
            output_layouts=output_layouts,
            desired_output_layouts=desired_output_layouts,
            use_local_output=use_local_output,
        )

    def _apply(self, module: Any, device_mesh: DeviceMesh) -> Any:
        self.prepare_module_input._apply(module, device_mesh)
        self.prepare_module_output._apply(module, device_mesh)
        return module

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.prepare_module_input!r}, {self.prepare_module_output!r})"
