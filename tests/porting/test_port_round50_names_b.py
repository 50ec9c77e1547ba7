"""Port round 50 (PyTorch public names still missing), part 2: ``utils._pytree``'s key paths,
``register_dataclass`` and helpers; ``from_file``, ``get_device_module`` and the other small
top-level names; ``torch.cpu``'s streams and events; ``autograd``'s multithreading switch;
``sparse.spdiags``. Against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_pytree_key_paths_match_pytorch(torch):
    from collections import OrderedDict, defaultdict, deque, namedtuple

    import torch.utils._pytree as tp

    import glassgrad.utils._pytree as gp

    point = namedtuple("point", "x y")
    tree = {
        "a": [1, (2, 3)],
        "b": point(4, {"c": 5}),
        "d": OrderedDict(z=6),
        "e": deque([7, 8]),
        "f": defaultdict(int, {"k": 9}),
        "g": None,
    }
    seen = []
    for p in (gp, tp):
        pairs, _ = p.tree_flatten_with_path(tree)
        assert [p.key_get(tree, k) for k, _ in pairs] == [v for _, v in pairs]
        seen.append(
            (
                [(p.keystr(k), v) for k, v in pairs],
                [repr(k) for k, _ in p.tree_leaves_with_path([1, [2]], is_leaf=lambda n: n == [2])],
                p.tree_map_with_path(lambda k, x, y: (p.keystr(k), x + y), [1, {"q": 2}], [10, {"q": 20}]),
                p.tree_all_only(int, lambda x: x > 0, tree),
                p.tree_any_only(str, lambda x: True, tree),
                p.tree_map_with_path(lambda k, x: (k, x), 5),
            )
        )

        class Plain:
            def __init__(self, a):
                self.a = a

        p.register_pytree_node(Plain, lambda c: ([c.a], None), lambda ch, ctx: Plain(ch[0]))
        with pytest.raises(ValueError, match="Did not find a flatten_with_keys_fn"):
            p.tree_leaves_with_path([Plain(1)])

        class Keyed(Plain):
            pass

        p.register_pytree_node(
            Keyed,
            lambda c: ([c.a], None),
            lambda ch, ctx: Keyed(ch[0]),
            flatten_with_keys_fn=lambda c: ([(p.GetAttrKey("a"), c.a)], None),
        )
        seen.append([(p.keystr(k), v) for k, v in p.tree_leaves_with_path({"m": Keyed(3)})])
    assert seen[0] == seen[2] and seen[1] == seen[3]


def test_from_file_matches_pytorch(torch, tmp_path):
    path = tmp_path / "raw.bin"
    np.arange(6, dtype=np.float32).tofile(path)
    for lib in (gg, torch):
        f = str(path)
        np.testing.assert_array_equal(lib.from_file(f, size=4).numpy(), np.arange(4, dtype=np.float32))
        assert lib.from_file(f).shape == (0,)
        assert lib.from_file(f, size=2, requires_grad=True).requires_grad
        got = lib.from_file(f, shared=False, size=3, dtype=lib.float64).numpy()
        np.testing.assert_array_equal(got, np.fromfile(path, dtype=np.float64, count=3))
        with pytest.raises(RuntimeError, match=r"size <24> is smaller than the required mapping size <28>"):
            lib.from_file(f, size=7)
        with pytest.raises(
            TypeError, match=r"argument 'filename' \(position 1\) must be str, not numpy.ndarray"
        ):
            lib.from_file(np.zeros(2), size=1)
        with pytest.raises(RuntimeError, match="unable to open file"):
            lib.from_file(str(tmp_path / "missing.bin"), size=1)
        private = lib.from_file(f, shared=False, size=6)
        private[1] = 43.0  # a copy: the file keeps its value
        assert np.fromfile(path, dtype=np.float32)[1] == 1.0
        mapped = lib.from_file(f, shared=True, size=6)
        mapped[0] = 42.0  # mapped: the write reaches the file
        assert np.fromfile(path, dtype=np.float32)[0] == 42.0
        mapped[0] = 0.0
        new = tmp_path / f"new_{lib.__name__}.bin"
        assert lib.from_file(str(new), shared=True, size=3).tolist() == [0.0, 0.0, 0.0]
        assert new.stat().st_size == 12


def test_small_top_level_names_match_pytorch(torch):
    for lib in (gg, torch):
        assert lib.get_device_module() is lib.cpu
        assert lib.get_device_module("cpu") is lib.get_device_module(lib.device("cpu")) is lib.cpu
        with pytest.raises(RuntimeError, match="Invalid value of device '3'"):
            lib.get_device_module(3)
        assert lib.init_num_threads() is None
        a = lib.zeros(2)
        assert lib.resize_as_(a, lib.ones(2, 3)) is a and tuple(a.shape) == (2, 3)
        assert lib.sym_sum([1, 2, 3]) == 6 and lib.sym_ite(False, 1, 2) == 2 and lib.sym_sqrt(9) == 3.0
        with pytest.raises(AssertionError, match="expected SymBool or bool"):
            lib.sym_ite(1, 1, 2)
        with pytest.raises(AssertionError, match="type mismatch"):
            lib.sym_ite(True, 1, 2.0)
        assert lib.DisableTorchFunctionSubclass is lib._C.DisableTorchFunctionSubclass
        assert lib.DisableTorchFunction is lib._C.DisableTorchFunction
        assert callable(lib.to_dlpack)


def test_cpu_streams_and_autograd_switches_match_pytorch(torch):
    import threading

    for lib in (gg, torch):
        cpu = lib.cpu
        default = cpu.current_stream()
        s = cpu.Stream()
        with cpu.stream(s):
            assert cpu.current_stream() is s
            with cpu.StreamContext(None):
                assert cpu.current_stream() is s
        assert cpu.current_stream() is default
        e = cpu.Event()
        assert e.query() is True and e.record() is None and e.synchronize() is None
        assert s.wait_stream(default) is None and s.record_event() is None and cpu.set_device(0) is None

        A = lib.autograd
        assert A.is_multithreading_enabled() and not A.is_view_replay_enabled()
        switch = A.set_multithreading_enabled(False)  # switches at once
        seen = []
        thread = threading.Thread(target=lambda A=A: seen.append(A.is_multithreading_enabled()))
        thread.start()
        thread.join()
        assert not A.is_multithreading_enabled() and seen == [True]  # per thread
        with switch:
            assert not A.is_multithreading_enabled()
        assert A.is_multithreading_enabled()
        assert A.grad_mode.set_multithreading_enabled is A.set_multithreading_enabled
    assert gg.autograd.kineto_available() is False


def test_pytree_register_dataclass_and_helpers_match_pytorch(torch):
    import dataclasses
    from collections import namedtuple

    import torch.utils._pytree as tp

    import glassgrad.utils._pytree as gp

    seen = []
    for p in (gp, tp):

        @dataclasses.dataclass
        class Point:
            x: object
            y: object = None
            z: int = dataclasses.field(default=0, init=False)

        p.register_dataclass(Point)
        leaves, spec = p.tree_flatten(Point(1, None))  # a None field is no leaf
        out = [leaves, repr(p.tree_unflatten([5], spec))]
        out.append([(p.keystr(k), v) for k, v in p.tree_leaves_with_path(Point(1, 2))])
        out.append(repr(p.tree_map(lambda v: v * 10, [Point(1, 2), Point(3)])))
        with pytest.warns(UserWarning, match="Overwriting the previous registration"):
            p.register_dataclass(Point)

        @dataclasses.dataclass
        class Pair:
            a: object
            b: object

        with pytest.raises(ValueError, match=r"Missing fields in `field_names`: \{'b'\}") as err:
            p.register_dataclass(Pair, field_names=["a", "c"])
        out.append(str(err.value))
        p.register_dataclass(Pair, field_names=["a"], drop_field_names=["b"])
        out.append(p.tree_leaves(Pair(1, 2)))
        with pytest.raises(ValueError, match="field_names must be specified"):
            p.register_dataclass(type("Plain", (), {}))
        with pytest.raises(TypeError, match="Argument must be a type"):
            p.map_only(3)
        with pytest.raises(ValueError, match="Expected a tuple of TreeSpec values"):
            p.treespec_tuple([1])
        pair = namedtuple("pair", "x")
        out += [
            p.tree_map_only(lambda x: isinstance(x, int) and x > 1, lambda x: -x, [1, 2, "a"]),
            p.tree_map_only(int | str, lambda x: 0, [1, "b", 2.0]),
            p.tree_map_only((int, str), lambda x: 0, [1, "b", 2.0]),
            p.tree_map_only_(int, lambda x: None, [1, "b"]),
            p.treespec_dict({"a": p.treespec_leaf()}, b=p.treespec_leaf())
            == p.tree_structure({"a": 1, "b": 2}),
            p.treespec_tuple([p.treespec_leaf()]) == p.tree_structure((1,)),
            [p.tree_is_leaf(None), p.tree_is_leaf([1]), p.tree_is_leaf((1,), is_leaf=lambda x: True)],
            [p.is_namedtuple(pair(1)), p.is_namedtuple(pair), p.is_namedtuple_class(tuple)],
            [p.is_namedtuple_instance(pair), p.is_namedtuple_instance(pair(1))],
            p.arg_tree_leaves(1, [2], k={"a": 3}),
        ]
        seen.append(out)
    assert seen[0] == seen[1]


@pytest.mark.parametrize(
    ("diagonals", "offsets", "shape"),
    [
        ([[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], [0, -1, 2], (4, 5)),
        ([[1.0, 2, 3]], [1], (3, 2)),
        ([[1.0, 2, 3], [4, 5, 6]], [1, -1], (2, 3)),
        ([[1.0, 2]], [0], (3, 3)),
        ([[1.0, 2, 3, 4, 5]], 1, (3, 3)),
        ([[1.0, 2, 3]], [3], (3, 3)),
        ([[1.0, 2, 3]], [-2], (3, 3)),
        ([1.0, 2, 3, 4], [0], (4, 4)),
    ],
)
def test_sparse_spdiags_matches_pytorch(torch, diagonals, offsets, shape):
    got = []
    for lib in (gg, torch):
        a = lib.sparse.spdiags(lib.tensor(diagonals), lib.tensor(offsets), shape)
        got.append((a._indices().tolist(), a._values().tolist(), tuple(a.shape), a.is_coalesced()))
    assert got[0] == got[1]


def test_sparse_spdiags_errors_match_pytorch(torch):
    d = np.arange(12.0).reshape(3, 4)
    bad = [
        ([0, 0, 1], (4, 4), "duplicate values"),
        ([0, 1], (4, 4), r"Number of diagonals \(3\) does not match the number of offsets \(2\)"),
        ([[0, 1, 2]], (4, 4), "Offsets must be scalar or vector"),
        ([0.0, 1, 2], (4, 4), "must have dtype Long but got Float"),
        ([0, 1, 2], (4, 4, 1), "Output shape must be 2d"),
    ]
    for lib in (gg, torch):
        for offsets, shape, match in bad:
            with pytest.raises(RuntimeError, match=match):
                lib.sparse.spdiags(lib.tensor(d), lib.tensor(offsets), shape)
        with pytest.raises(RuntimeError, match="got Strided"):
            lib.sparse.spdiags(lib.tensor(d), lib.tensor([0, 1, 2]), (4, 4), layout=lib.strided)


def test_sparse_spdiags_gradcheck():
    """Through the dense matrix, with a broadcast product: d/d(diagonals) of sum(A * w)."""
    rng = np.random.default_rng(5)
    d = gg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((4, 1)))  # (4, 1) broadcasts over (4, 5)
    offsets = gg.tensor([0, -2, 1])
    assert gg.autograd.gradcheck(lambda d: gg.sparse.spdiags(d, offsets, (4, 5)).to_dense() * w, (d,))


def test_autograd_grad_inside_vmap_keeps_the_shared_graph_until_the_last_item(torch):
    """torchjd's batched vector-Jacobian products: ``vmap`` over ``autograd.grad(y, x, v)`` with
    the default ``retain_graph``. PyTorch runs that backward once for the batch; glassgrad's loop
    keeps the graph until its last item, then frees it as PyTorch does."""
    got = []
    for lib in (gg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1.5], [-0.5]], dtype=lib.float64)
        y = ((x * x).sin() * w).sum(0)  # (2, 3) broadcast product, reduced to (3,)
        jac = lib.vmap(lambda v, y=y, x=x, lib=lib: lib.autograd.grad(y, x, v)[0])(
            lib.eye(3, dtype=lib.float64)
        )
        got.append(jac.numpy())
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            lib.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(got[0], got[1], rtol=0, atol=1e-12)


def test_autograd_anomaly_mode_module_path(torch):
    import importlib

    for lib in (gg, torch):
        mod = importlib.import_module(lib.__name__ + ".autograd.anomaly_mode")
        assert mod.detect_anomaly is lib.autograd.detect_anomaly
        assert mod.set_detect_anomaly is lib.autograd.set_detect_anomaly
        assert lib.autograd.anomaly_mode is mod
