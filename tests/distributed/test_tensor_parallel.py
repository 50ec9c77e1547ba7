"""``parallelize_module`` and the parallel styles against PyTorch 2.13 in a world of one process:
the same placements, output types, warnings and errors; values unchanged."""

from __future__ import annotations

import warnings

import pytest

import glassgrad

from .worlds import error_of, mods


def _styles(lib):
    p, t = mods(lib).parallel, mods(lib).tensor
    S, R = t.Shard, t.Replicate
    return [
        repr(s)
        for s in (
            p.ColwiseParallel(), p.RowwiseParallel(), p.ColwiseParallel(input_layouts=S(1), output_layouts=R(), use_local_output=False),
            p.RowwiseParallel(output_layouts=S(1)), p.SequenceParallel(), p.SequenceParallel(sequence_dim=0, use_local_output=True),
            p.PrepareModuleInput(input_layouts=(S(1), None), desired_input_layouts=(R(), None)),
            p.PrepareModuleInput(input_layouts=S(0), desired_input_layouts=R()),
            p.PrepareModuleOutput(output_layouts=R(), desired_output_layouts=S(0)),
        )
    ]  # fmt: skip


def test_style_reprs_as_pytorch(torch):
    assert _styles(glassgrad) == _styles(torch)


class _Att:
    """A module whose forward records the types its inputs arrive as."""

    @staticmethod
    def make(lib):
        class Att(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.seen = []

            def forward(self, x, f=None):
                self.seen.append(
                    [type(v).__name__ for v in (x, f)]
                    + [repr(getattr(v, "placements", None)) for v in (x, f)]
                )
                return x  # as it arrived (an op on a DTensor gives a DTensor only in PyTorch)

        return Att()


def _plain(v):
    return repr(v) if isinstance(v, tuple) and v and hasattr(v[0], "is_shard") else v


def _parallel_answers(lib):
    m = mods(lib)
    S, R = m.tensor.Shard, m.tensor.Replicate
    P = m.parallel
    mesh = m.device_mesh.init_device_mesh("cpu", (1,))
    out = []
    for style, mod in (
        (P.ColwiseParallel(), lib.nn.Linear(4, 3)), (P.RowwiseParallel(), lib.nn.Linear(4, 3)),
        (P.ColwiseParallel(), lib.nn.Embedding(5, 4)), (P.RowwiseParallel(input_layouts=R()), lib.nn.Embedding(5, 4)),
        (P.SequenceParallel(), lib.nn.LayerNorm(4)), (P.ColwiseParallel(), lib.nn.Linear(4, 3, bias=False)),
    ):  # fmt: skip
        before = {k: v.detach().clone() for k, v in mod.state_dict().items()}
        assert P.parallelize_module(mod, mesh, style) is mod
        out += [(n, isinstance(p, m.tensor.DTensor), isinstance(p, lib.nn.Parameter), _plain(p.placements), p.requires_grad, p.is_leaf)
                for n, p in mod.named_parameters()]  # fmt: skip
        out.append(all((mod.state_dict()[k].full_tensor() == v).all().item() for k, v in before.items()))
        x = lib.tensor([[1, 2]]) if isinstance(mod, lib.nn.Embedding) else lib.ones(2, 4)
        if isinstance(mod, lib.nn.LayerNorm):  # (batch, sequence, features), sharded on the sequence
            x = lib.arange(24.0).reshape(2, 3, 4)
        y = mod(x)
        out += [type(y).__name__, _plain(getattr(y, "placements", None)), tuple(y.shape)]
        out.append(getattr(mod, "_distribute_module_applied", None))
    seq = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU(), lib.nn.Linear(4, 4))
    P.parallelize_module(
        seq, mesh, {"0": P.ColwiseParallel(use_local_output=False), "2": P.RowwiseParallel()}
    )
    h = seq[0](lib.ones(3, 4))
    out += [type(h).__name__, _plain(h.placements), h.grad_fn is not None, type(seq(lib.ones(3, 4))).__name__]
    nested = lib.nn.ModuleDict({"a": lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)])})
    P.parallelize_module(nested, mesh, {"a.*": P.ColwiseParallel()})
    out.append([_plain(p.placements) for p in nested.parameters()])
    lp = lib.nn.Linear(4, 6)
    with lib.no_grad():
        lp.weight.copy_(lib.linspace(-1.0, 1.0, 24).reshape(6, 4))
        lp.bias.zero_()
    P.parallelize_module(lp, mesh, P.ColwiseParallel(use_local_output=False))
    logits = lp(lib.ones(3, 4))
    with P.loss_parallel():
        loss = lib.nn.functional.cross_entropy(logits, lib.tensor([0, 1, 2]))
        loss.backward()
    out += [round(float(loss.full_tensor().item() if hasattr(loss, "full_tensor") else loss.item()), 5)]
    for style, args, kwargs in (
        (P.PrepareModuleInput(input_layouts=(S(1), R()), desired_input_layouts=(R(), R())), (lib.ones(2, 3, 4), lib.ones(3)), {}),
        (P.PrepareModuleInput(input_layouts=(S(1), None), desired_input_layouts=(R(), None)), (lib.ones(2, 3, 4), lib.ones(3)), {}),
        (P.PrepareModuleInput(input_layouts=(S(1), R()), desired_input_layouts=(R(), R()), use_local_output=True), (lib.ones(2, 3, 4), lib.ones(3)), {}),
        (P.PrepareModuleInput(input_kwarg_layouts={"f": S(0)}, desired_input_kwarg_layouts={"f": R()}), (lib.ones(2),), {"f": lib.ones(3)}),
        (P.PrepareModuleOutput(output_layouts=R(), desired_output_layouts=S(0), use_local_output=False), (lib.ones(2),), {}),
        (P.PrepareModuleOutput(output_layouts=R(), desired_output_layouts=S(0)), (lib.ones(2),), {}),
    ):  # fmt: skip
        att = _Att.make(lib)
        P.parallelize_module(att, mesh, style)
        y = att(*args, **kwargs)
        out += [att.seen, type(y).__name__, _plain(getattr(y, "placements", None))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tree = lib.nn.ModuleDict({"a": lib.nn.ModuleList([lib.nn.Linear(2, 2)])})
        P.parallelize_module(
            tree, mesh, {"a.5": P.ColwiseParallel(), "b.0": P.ColwiseParallel(), "a.0.x": P.ColwiseParallel()}
        )
        P.parallelize_module(lib.nn.Linear(2, 2), mesh)
    out.append([str(w.message).split(" in module ")[0] for w in caught])
    out.append([type(w.message).__name__ for w in caught])
    twice = lib.nn.Linear(2, 2)
    P.parallelize_module(twice, mesh, P.ColwiseParallel())
    att = _Att.make(lib)
    P.parallelize_module(att, mesh, P.PrepareModuleInput(input_layouts=(S(1),), desired_input_layouts=(R(),)))
    errors = [
        error_of(P.parallelize_module, lib.nn.ReLU(), mesh, P.ColwiseParallel()),
        error_of(P.parallelize_module, lib.nn.Conv1d(2, 2, 1), mesh, P.RowwiseParallel()),
        error_of(P.parallelize_module, lib.nn.Linear(2, 2), mesh, {"": 3}),
        error_of(P.parallelize_module, lib.nn.Linear(2, 2), mesh, 3),
        error_of(P.parallelize_module, twice, mesh, P.ColwiseParallel()),
        error_of(P.parallelize_module, lib.nn.Linear(2, 2), None, P.ColwiseParallel()),
        error_of(att, lib.ones(2), lib.ones(2)),
        error_of(P.PrepareModuleInput, input_layouts=(S(1), R()), desired_input_layouts=(R(),)),
        error_of(P.PrepareModuleInput, input_layouts=(S(1),)),
    ]
    return out, errors


_PHRASES = [
    "currently only support nn.Linear and nn.Embedding!",
    "currently only support nn.Linear and nn.Embedding!",
    "Expect Union[ParallelStyle, Dict[str, ParallelStyle]] for parallelize_plan, <class 'int'> found!",
    "Expect Union[ParallelStyle, Dict[str, ParallelStyle]] for parallelize_plan, <class 'int'> found!",
    "distribute_module should only be called once on a module, but it has already been called on",
    "No device mesh is currently active!",
    "module inputs and input_layouts should have same length!",
    "input_layouts and desired_input_layouts should have same length!",
    "desired module inputs should not be None!",
]


def test_parallelize_module_answers_as_pytorch(torch, gworld, tworld):
    ours, our_errors = _parallel_answers(glassgrad)
    theirs, their_errors = _parallel_answers(torch)
    assert ours == theirs
    for (t1, m1), (t2, m2), phrase in zip(our_errors, their_errors, _PHRASES):
        assert t1 == t2 and phrase in m1 and phrase in m2, (t1, m1, t2, m2)


def test_parallelize_module_wants_a_1d_mesh(gworld):
    from glassgrad.distributed.tensor.parallel import ColwiseParallel, parallelize_module

    mesh = gworld.distributed.init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
    with pytest.raises(ValueError, match=r"parallelize_module: expected a 1-D DeviceMesh.*mesh\['tp'\]"):
        parallelize_module(gworld.nn.Linear(2, 2), mesh, ColwiseParallel())
    lin = parallelize_module(gworld.nn.Linear(2, 2), mesh["tp"], ColwiseParallel())
    assert lin.weight.device_mesh == mesh["tp"]
