"""Round 36, Pyro (pyro-ppl/pyro) on glassgrad as ``torch``, continued: Pyro's flows mix
``Transform`` into ``nn.Module`` (a cooperative ``__init__``, the ``_cached_x_y`` cache, ``event_dim``
from the domain, ``bijective`` False unless declared), ``PyroModule`` calls ``Module._named_members``
with a function, indexes through ``ModuleList._get_abs_string_index`` and compares ``Tensor._cdata``,
and its Wishart-like draws reach ``linalg.cholesky_ex`` near underflow. Each test pins one against
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.distributions as D
from glassgrad.distributions import constraints as C


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# ------------------------------------------------------------------ Transform as an nn.Module
def _flow(lib, nn, t):
    class Shift(lib.transforms.Transform, nn.Module):  # Pyro's TransformModule pattern
        domain = lib.constraints.real_vector
        codomain = lib.constraints.real_vector
        bijective = True

        def __init__(self, shift):
            super().__init__(cache_size=1)
            self.shift = nn.Parameter(shift)

        def _call(self, x):
            return x + self.shift

        def _inverse(self, y):
            return y - self.shift

        def log_abs_det_jacobian(self, x, y):
            return (x * 0).sum(-1)

        __hash__ = object.__hash__

    class ComposeModule(lib.transforms.ComposeTransform, nn.ModuleList):  # ComposeTransformModule
        def __init__(self, parts):
            super().__init__(parts)
            for p in parts:
                self.append(p)

        __hash__ = object.__hash__

    return Shift(t([0.5, -1.0])), ComposeModule


def test_transform_module_cooperative_init_cache_and_event_dim(torch):
    outs = []
    for lib, nn, t in ((D, gg.nn, gg.tensor), (torch.distributions, torch.nn, torch.tensor)):
        shift, compose = _flow(lib, nn, t)
        assert [n for n, _ in shift.named_parameters()] == ["shift"] and shift.event_dim == 1
        assert shift._cached_x_y == (None, None)
        x = t([[1.0, 2.0], [3.0, 4.0]])
        y = shift(x)
        assert shift._cached_x_y[0] is x and shift(x) is y and shift.inv(y) is x
        chain = compose([shift])
        assert len(list(chain.parameters())) == 1 and chain.event_dim == 1
        flow = lib.TransformedDistribution(lib.Independent(lib.Normal(t([0.0, 0.0]), 1.0), 1), [shift])
        lp = flow.log_prob(x).sum()
        lp.backward()
        outs.append((_np(lp), _np(shift.shift.grad)))
        mixed = type(
            "M",
            (lib.transforms.Transform,),
            {"domain": lib.constraints.real, "codomain": lib.constraints.simplex},
        )()
        with pytest.raises(ValueError):
            _ = mixed.event_dim
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-15)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-15)


# ------------------------------------------------------------------ cholesky_ex near underflow
def test_cholesky_ex_reports_what_lapack_refuses_near_underflow(torch):
    # float32 entries ~1e-30 (a Wishart draw with a tiny covariance): one eigenvalue is −7e-39, the
    # column-by-column pass accepts it but LAPACK (and PyTorch) report the minor of order 3
    a = np.array(
        [
            [1.8134908e-30, 3.1124205e-30, 2.4626417e-30],
            [3.1124205e-30, 5.4449222e-30, 4.7477822e-30],
            [2.4626417e-30, 4.7477822e-30, 5.9768956e-30],
        ],
        dtype=np.float32,
    )
    batch = np.stack([a, np.eye(3, dtype=np.float32), -np.eye(3, dtype=np.float32)])
    got = gg.linalg.cholesky_ex(gg.tensor(batch))
    want = torch.linalg.cholesky_ex(torch.tensor(batch))
    np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
    np.testing.assert_array_equal(got.L.numpy()[1], want.L.numpy()[1])
    np.testing.assert_array_equal(C.positive_definite.check(gg.tensor(batch)).numpy(), [False, True, False])


# ------------------------------------------------------------------ nn internals Pyro calls
def test_named_members_takes_a_function_as_pytorch(torch):
    names = []
    for nn in (gg.nn, torch.nn):
        net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
        net[0].register_buffer("tag", (gg if nn is gg.nn else torch).zeros(1))
        got = net._named_members(lambda m: m._buffers.items(), prefix="net")
        names.append([n for n, _ in got])
        names.append([n for n, _ in net._named_members(lambda m: m._parameters.items(), recurse=False)])
    assert names[0] == names[2] == ["net.0.tag"] and names[1] == names[3] == []


def test_module_list_abs_string_index_and_cdata(torch):
    for nn, lib in ((gg.nn, gg), (torch.nn, torch)):
        layers = nn.ModuleList([nn.Identity(), nn.Identity(), nn.Identity()])
        assert layers._get_abs_string_index(-1) == "2" and layers._get_abs_string_index(1) == "1"
        with pytest.raises(IndexError):
            layers._get_abs_string_index(3)
        a = lib.zeros(2)
        p = nn.Parameter(a)
        assert isinstance(a._cdata, int) and a._cdata == a._cdata
        assert a.detach()._cdata != a._cdata and p._cdata != a._cdata


def test_jit_internal_copy_to_script_wrapper():
    from glassgrad._jit_internal import _copy_to_script_wrapper

    def f(x):
        return x + 1

    assert _copy_to_script_wrapper(f) is f and f(1) == 2


def test_independent_support_spans_the_reinterpreted_dims(torch):
    for lib, t in ((D, gg.tensor), (torch.distributions, torch.tensor)):
        d = lib.Independent(lib.Normal(t([[0.0, 1.0]]), 1.0), 1)
        assert repr(d.support) == "IndependentConstraint(Real(), 1)" and d.support.event_dim == 1
        assert lib.Independent(lib.Normal(t([0.0]), 1.0), 0).support.event_dim == 0
        # AutoNormalMessenger's posterior: biject_to(support) spans the event, so its batch is the prior's
        post = lib.TransformedDistribution(
            lib.Independent(lib.Normal(t([0.0, 1.0]), 1.0), 1), lib.biject_to(d.support)
        )
        assert tuple(post.batch_shape) == () and tuple(post.event_shape) == (2,)
