"""Round 56, OpenMMLab's MMEngine (open-mmlab/mmengine) training runtime on the CPU.

MMEngine's ``Runner`` trained a small ``BaseModel`` (epoch- and iteration-based loops, SGD and
AdamW through ``OptimWrapper`` with accumulation, gradient clipping by norm and by value,
``paramwise_cfg`` multipliers, warm-up chains, OneCycle/cosine/poly/momentum schedules converted
to iterations, the EMA hooks, ``save_best`` checkpoints and ``resume``) after four import-time
gaps were filled; these tests pin them against PyTorch 2.13 (written fresh here):

- ``torch.nn.modules.conv._ConvTransposeMixin`` (and the ``_single``/``_pair``/``_triple``
  helpers PyTorch's module holds) did not exist; MMEngine imports it at start-up.
- ``torch._utils._take_tensors`` did not exist (MMEngine's bucketed all-reduce imports it).
- ``dir(torch.optim)`` listed a leaked loop name ``_cls`` bound to ``Muon``, so MMEngine's loop
  that registers every ``Optimizer`` class it finds there registered Muon twice and failed.
- ``torch.distributed.fsdp.api`` (FSDP1's configuration types) did not exist and
  ``fully_sharded_data_parallel`` lacked them (MMEngine's FSDP wrapper imports both at start-up).
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import pytest

import glassgrad as gg

# ---- torch.nn.modules.conv's private names ------------------------------------------------------


def test_conv_module_private_names_match_torch(torch):
    import torch.nn.modules.conv as tconv

    import glassgrad.nn.modules.conv as gconv

    for name in ("_ConvNd", "_ConvTransposeNd", "_ConvTransposeMixin", "_single", "_pair", "_triple"):
        assert hasattr(gconv, name), name
    assert issubclass(gconv._ConvTransposeMixin, gconv._ConvTransposeNd)
    assert issubclass(tconv._ConvTransposeMixin, tconv._ConvTransposeNd)
    for helper in ("_single", "_pair", "_triple"):
        for arg in (3, (2, 5, 7)[: {"_single": 1, "_pair": 2, "_triple": 3}[helper]]):
            assert getattr(gconv, helper)(arg) == getattr(tconv, helper)(arg)
    assert gconv._reverse_repeat_tuple((1, 2), 2) == tconv._reverse_repeat_tuple((1, 2), 2)


def test_conv_transpose_mixin_is_deprecated_like_torch(torch):
    import torch.nn.modules.conv as tconv

    import glassgrad.nn.modules.conv as gconv

    class TMix(tconv._ConvTransposeMixin, torch.nn.ConvTranspose2d):
        pass

    class GMix(gconv._ConvTransposeMixin, gg.nn.ConvTranspose2d):
        pass

    caught = []
    for cls in (TMix, GMix):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            m = cls(2, 3, 3)
        caught.append([(w.category, str(w.message)) for w in rec if w.category is FutureWarning])
        assert tuple(m.weight.shape) == (2, 3, 3, 3)
    assert caught[0] == caught[1] and caught[0]


# ---- torch._utils._take_tensors -----------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 40, 100, 10_000])
def test_take_tensors_chunks_like_torch(torch, limit):
    from torch._utils import _take_tensors as t_take

    from glassgrad._utils import _take_tensors as g_take

    specs = [((3,), "float64"), ((2, 2), "float32"), ((5,), "float64"), ((1,), "int64"), ((4, 3), "float32")]
    specs += [((2,), "float64"), ((7,), "int64")]

    def chunks(lib, take):
        ts = [lib.zeros(s, dtype=getattr(lib, d)) for s, d in specs]
        ids = {id(t): i for i, t in enumerate(ts)}
        return [[ids[id(t)] for t in chunk] for chunk in take(ts, limit)]

    assert chunks(gg, g_take) == chunks(torch, t_take)


def test_take_tensors_is_a_generator_of_lists(torch):
    from glassgrad._utils import _take_tensors

    out = _take_tensors([gg.ones(2), gg.ones(3)], 1 << 20)
    assert inspect.isgenerator(out)
    (chunk,) = list(out)
    assert isinstance(chunk, list) and len(chunk) == 2


# ---- what dir(torch.optim) lists ----------------------------------------------------------------


def _optimizer_classes(optim):
    return {
        name: obj.__name__
        for name in dir(optim)
        if not name.startswith("__")
        for obj in [getattr(optim, name)]
        if inspect.isclass(obj) and issubclass(obj, optim.Optimizer)
    }


def test_dir_optim_lists_each_optimizer_once_like_torch(torch):
    got, want = _optimizer_classes(gg.optim), _optimizer_classes(torch.optim)
    assert got == want
    assert all(name == cls for name, cls in got.items())


def test_registering_every_optimizer_by_class_name_does_not_collide():
    # MMEngine's register_torch_optimizers: a registry keyed by the class's __name__
    registry = {}
    for name in dir(gg.optim):
        obj = getattr(gg.optim, name)
        if name.startswith("__") or not (inspect.isclass(obj) and issubclass(obj, gg.optim.Optimizer)):
            continue
        assert obj.__name__ not in registry, f"{obj.__name__} found twice in dir(glassgrad.optim)"
        registry[obj.__name__] = obj
    assert "Muon" in registry and "SGD" in registry


# ---- torch.distributed.fsdp.api -----------------------------------------------------------------


def _describe(mod):
    out = {}
    for name in mod.__all__:
        obj = getattr(mod, name)
        if dataclasses.is_dataclass(obj):
            fields = []
            for f in dataclasses.fields(obj):
                default = f.default
                if isinstance(default, tuple):
                    default = tuple(c.__name__ for c in default)
                fields.append((f.name, "MISSING" if default is dataclasses.MISSING else default))
            out[name] = ("dataclass", [c.__name__ for c in obj.__mro__[1:-1]], fields)
        else:
            out[name] = ("enum", [(k, v.value) for k, v in obj.__members__.items()])
    return out


def test_fsdp_api_matches_torch(torch):
    import torch.distributed.fsdp.api as tapi

    import glassgrad.distributed.fsdp.api as gapi

    assert sorted(gapi.__all__) == sorted(tapi.__all__)
    assert _describe(gapi) == _describe(tapi)


def test_fsdp_module_path_imports_like_mmengine(torch):
    import torch.distributed.fsdp.fully_sharded_data_parallel as tf

    import glassgrad.distributed.fsdp.api as gapi
    import glassgrad.distributed.fsdp.fully_sharded_data_parallel as gf

    for name in ("BackwardPrefetch", "CPUOffload", "FullOptimStateDictConfig", "MixedPrecision"):
        assert getattr(gf, name) is getattr(gapi, name)
        assert hasattr(tf, name)
    assert [(k, v.value) for k, v in gf.OptimStateKeyType.__members__.items()] == [
        (k, v.value) for k, v in tf.OptimStateKeyType.__members__.items()
    ]
    g = gapi.FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    t = tf.FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    assert dataclasses.asdict(g) == dataclasses.asdict(t)
    settings = gapi.StateDictSettings(gapi.StateDictType.FULL_STATE_DICT, g, gapi.FullOptimStateDictConfig())
    assert settings.optim_state_dict_config.offload_to_cpu is True
    with pytest.raises(NotImplementedError, match="FullyShardedDataParallel"):
        gf.FullyShardedDataParallel(gg.nn.Linear(2, 2))


# ---- a parameter in two groups: PyTorch's words ---------------------------------------------------


@pytest.mark.parametrize("how", ["constructor", "add_param_group"])
def test_parameter_in_two_groups_is_refused_with_torchs_words(torch, how):
    # MMEngine's constructor test matches PyTorch's message with assertRaisesRegex
    def attempt(lib):
        p = lib.nn.Parameter(lib.ones(2))
        if how == "constructor":
            lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
        else:
            lib.optim.Adam([p], lr=0.1).add_param_group({"params": [p]})

    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        attempt(torch)
    with pytest.raises(
        ValueError, match=r"^(SGD|Adam): some parameters appear in more than one parameter group"
    ):
        attempt(gg)
