"""Public functions and Tensor methods pickle by their public names (public_names.py), as
PyTorch's do: a ``functools.partial`` over one crosses into spawned DataLoader workers."""

from __future__ import annotations

import functools
import inspect
import pickle
from types import FunctionType

import glassgrad


def test_every_public_function_and_method_pickles_to_itself():
    failed = []
    for name in glassgrad.__all__:
        fn = getattr(glassgrad, name, None)
        if isinstance(fn, FunctionType) and pickle.loads(pickle.dumps(fn)) is not fn:
            failed.append(name)
    for name, fn in vars(glassgrad.Tensor).items():
        if isinstance(fn, FunctionType) and pickle.loads(pickle.dumps(fn)) is not fn:
            failed.append(f"Tensor.{name}")
    assert failed == []


def test_wrapped_functions_pickle_and_keep_their_source():
    # sum is a wrapper (NumPy's axis= names) and stack one of the out= forms; the partial is a collate_fn
    collate = pickle.loads(pickle.dumps(functools.partial(glassgrad.stack, dim=1)))
    assert collate([glassgrad.ones(2), glassgrad.zeros(2)]).tolist() == [[1.0, 0.0], [1.0, 0.0]]
    assert pickle.loads(pickle.dumps(glassgrad.sum))(glassgrad.ones(2, 3), axis=1).tolist() == [3.0, 3.0]
    assert "def sum(" in inspect.getsource(glassgrad.sum)


def test_the_tensor_class_prints_by_its_public_name(torch):
    assert str(type(glassgrad.ones(1))) == str(type(torch.ones(1))).replace("torch", "glassgrad")
    assert pickle.loads(pickle.dumps(glassgrad.Tensor)) is glassgrad.Tensor
