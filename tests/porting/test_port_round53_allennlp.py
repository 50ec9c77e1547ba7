"""Round 53, AllenNLP (allennlp/nn/util.py and allennlp/modules): ``torch.Storage``.

AllenNLP's ``nn.util.device_mapping`` annotates its ``map_location`` callable with
``torch.Storage``, so importing-and-calling ``read_state_dict`` failed with ``AttributeError:
module 'glassgrad' has no attribute 'Storage'``. In PyTorch ``torch.Storage`` is the float32 legacy
storage class (``torch.FloatStorage``); ``torch.types.Storage`` is a different name (the
typed/untyped union) and stays as it is.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad


def _storages(lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage is deprecated
        return (
            lib.zeros(2).storage(),
            lib.zeros(2, dtype=lib.float64).storage(),
            lib.zeros(2).untyped_storage(),
            lib.Storage(3),
        )


def test_storage_is_the_float32_legacy_storage(torch):
    assert glassgrad.Storage is glassgrad.FloatStorage
    assert torch.Storage is torch.FloatStorage
    assert glassgrad.Storage.__name__ == torch.Storage.__name__ == "FloatStorage"
    assert "Storage" in glassgrad.__all__
    ours, theirs = _storages(glassgrad), _storages(torch)
    assert [isinstance(s, glassgrad.Storage) for s in ours] == [isinstance(s, torch.Storage) for s in theirs]
    assert ours[3].size() == theirs[3].size() == 3
    assert ours[3].dtype == glassgrad.float32 and theirs[3].dtype == torch.float32
    # torch.types.Storage keeps PyTorch's meaning there: the typed/untyped union, not this class
    assert glassgrad.types.Storage is not glassgrad.Storage


def _device_mapping(lib):
    # AllenNLP's device_mapping(-1): a map_location callable annotated with torch.Storage
    def inner_device_mapping(storage: lib.Storage, location) -> lib.Storage:  # type: ignore[name-defined]
        return storage

    return inner_device_mapping


def test_torch_load_with_an_annotated_map_location_callable(torch, tmp_path):
    rng = np.random.default_rng(53)
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(3).astype(np.float32)
    for lib in (glassgrad, torch):
        path = tmp_path / f"{lib.__name__}.th"
        lib.save({"model.0.weight": lib.tensor(w), "model.0.bias": lib.tensor(b)}, str(path))
        state = lib.load(str(path), map_location=_device_mapping(lib))
        assert sorted(state) == ["model.0.bias", "model.0.weight"]
        np.testing.assert_array_equal(state["model.0.weight"].numpy(), w)
        np.testing.assert_array_equal(state["model.0.bias"].numpy(), b)
        assert str(state["model.0.bias"].dtype).split(".")[-1] == "float32"


def test_the_storage_module_holds_the_storage_classes(torch):
    # torch.storage, the module (``from torch.storage import UntypedStorage``): its __all__ and the
    # isinstance answers for the storages a tensor gives and for a legacy FloatStorage
    import glassgrad.storage
    from glassgrad.storage import TypedStorage, UntypedStorage

    assert glassgrad.storage.__all__ == torch.storage.__all__ == ["TypedStorage", "UntypedStorage"]
    assert TypedStorage is glassgrad.TypedStorage and UntypedStorage is glassgrad.UntypedStorage

    def answers(lib):
        typed, double, untyped, legacy = _storages(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            legacy = lib.FloatStorage(2)
        return [
            isinstance(s, c)
            for s in (typed, double, untyped, legacy)
            for c in (lib.storage.TypedStorage, lib.storage.UntypedStorage)
        ]

    assert answers(glassgrad) == answers(torch)


def _subclasses(lib):
    class Fake(lib.Tensor):  # AllenNLP's test_move_to_device: no super().__init__ at all
        def __init__(self):
            self._device = None

        def to(self, device, **kwargs):
            self._device = device
            return self

    class Tagged(lib.Tensor):  # super().__init__() without the data
        def __init__(self, x):
            super().__init__()
            self.tag = "c"

    class Child(Tagged):
        def __init__(self, x):
            super().__init__(x)
            self.child = 1

    class Quiet(lib.Tensor):
        def __init__(self, x):
            self.quiet = 2

    return Fake, Tagged, Child, Quiet


def test_a_subclass_init_that_skips_the_data_still_holds_it(torch):
    # PyTorch's Tensor.__new__ makes the tensor from the call's arguments before the subclass's
    # own __init__ runs; glassgrad's Tensor.__init__ made it, so these held no data at all
    # (AttributeError: no attribute '_data') or an empty tensor
    def run(lib):
        fake, tagged, child, quiet = _subclasses(lib)
        f = fake()
        moved = f.to("cpu")
        out = [(type(f).__name__, tuple(f.shape), f.numel(), moved is f, moved._device)]
        for t in (tagged([1.0, 2.0]), child([3.0]), quiet([4.0, 5.0]), quiet(lib.tensor([1, 2]))):
            doubled = t * 2
            out.append(
                (
                    type(t).__name__,
                    tuple(t.shape),
                    str(t.dtype).split(".")[-1],
                    t.tolist(),
                    dict(vars(t)),
                    type(doubled).__name__,
                    doubled.tolist(),
                )
            )
        return out

    assert run(glassgrad) == run(torch)


def test_a_subclass_init_gradients_flow(torch):
    # the data made before __init__ is a leaf like any other: requires_grad_ and backward reach it
    def run(lib):
        quiet = _subclasses(lib)[3]
        w = quiet([0.5, -1.5])
        w.requires_grad_(True)
        (w * lib.tensor([2.0, 3.0])).pow(2).sum().backward()
        return type(w.grad).__name__, w.grad.tolist()

    assert run(glassgrad) == run(torch)


def test_a_subclass_init_with_its_own_keywords_stays_lenient():
    # PyTorch's __new__ refuses keywords of the subclass's own; glassgrad keeps accepting them when
    # that __init__ hands the data on itself (a leniency that computes the right thing)
    class Meta(glassgrad.Tensor):
        def __init__(self, data, meta=None):
            super().__init__(data)
            self.meta = meta

    t = Meta([1.0, 2.0], meta="m")
    assert t.tolist() == [1.0, 2.0] and t.meta == "m" and type(t * 2) is Meta


def test_a_subclass_init_passing_other_data_raises_as_pytorch(torch):
    # the call's arguments made the tensor; PyTorch's super().__init__(other) reaches object.__init__
    # and raises: holding the call's data silently instead would be a wrong answer
    def define(lib):
        class Doubled(lib.Tensor):
            def __init__(self, data):
                super().__init__(np.asarray(data) * 2)

        return Doubled

    with pytest.raises(TypeError):
        define(torch)([1.0, 2.0])
    with pytest.raises(TypeError, match="takes no arguments"):
        define(glassgrad)([1.0, 2.0])
