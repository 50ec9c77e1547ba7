"""The Sobol direction numbers behind ``torch.quasirandom.SobolEngine`` (quasirandom.py).

They are Joe and Kuo's ``new-joe-kuo-6.21201`` numbers (search criterion D(6), dimensions 1 to 21201),
the table PyTorch compiles into ``_sobol_engine_initialize_state_``. SciPy ships the same table
(``scipy/stats/_sobol_direction_numbers.npz``: each dimension's primitive polynomial, its degree read
from its highest bit, and initial numbers ``m_1 .. m_s``), so it is read from there once, on first use,
rather than kept here: SobolEngine needs SciPy (installed with scikit-learn), and says so without it.

``sobol_state(dimension)`` expands them to the ``(dimension, MAXBIT)`` integer state PyTorch keeps in
``SobolEngine.sobolstate``: column ``j`` is direction number ``v_{j+1}`` shifted to a 30-bit fraction.
``scramble_state`` is ``_sobol_engine_scramble_``: Owen's linear matrix scrambling with lower-triangular
bit matrices.
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

MAXBIT = 30
MAXDIM = 21201
_TABLE: dict[str, np.ndarray] = {}


def _scipy_table() -> pathlib.Path:
    """SciPy's file of the table, found without importing SciPy."""
    spec = importlib.util.find_spec("scipy")
    roots = list(spec.submodule_search_locations or ()) if spec is not None else []
    for root in roots:
        path = pathlib.Path(root) / "stats" / "_sobol_direction_numbers.npz"
        if path.is_file():
            return path
    raise ModuleNotFoundError(
        "quasirandom.SobolEngine: expected SciPy's table of Sobol direction numbers "
        "(scipy/stats/_sobol_direction_numbers.npz, Joe and Kuo's, as PyTorch's); install SciPy "
        "(pip install scipy; scikit-learn installs it too)"
    )


def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Degrees ``(MAXDIM,)``, polynomials ``(MAXDIM,)`` and initial numbers ``(MAXDIM, 18)``."""
    if not _TABLE:
        with np.load(_scipy_table()) as data:
            poly = data["poly"].astype(np.int64)
            vinit = data["vinit"].astype(np.int64)
        deg = (np.frexp(poly)[1] - 1).astype(np.int64)  # the highest bit (dimension 1: 0)
        vinit[0] = 0  # dimension 1 has no polynomial: its direction numbers are all 1 (sobol_state)
        _TABLE.update(deg=deg, poly=poly, vinit=vinit[:, : int(deg.max())])
    return _TABLE["deg"], _TABLE["poly"], _TABLE["vinit"]


def sobol_state(dimension: int) -> np.ndarray:
    """The int64 ``(dimension, MAXBIT)`` direction numbers of ``_sobol_engine_initialize_state_``."""
    deg, poly, vinit = (a[:dimension] for a in _table())
    state = np.zeros((dimension, MAXBIT), dtype=np.int64)
    state[0] = 1
    rows = np.arange(1, dimension)
    m, p = deg[1:], poly[1:]
    for j in range(MAXBIT):
        init = j < m
        if init.any():
            state[rows[init], j] = vinit[rows[init], j]
        rec = ~init
        if not rec.any():
            continue
        r, mr, pr = rows[rec], m[rec], p[rec]
        newv = state[r, j - mr]
        for k in range(int(mr.max())):
            use = (k < mr) & (((pr >> np.maximum(mr - 1 - k, 0)) & 1) == 1)
            newv = np.where(use, newv ^ ((2 << k) * state[r, j - k - 1]), newv)
        state[r, j] = newv
    return state * (np.int64(1) << np.arange(MAXBIT - 1, -1, -1, dtype=np.int64))


def _parity(x: np.ndarray) -> np.ndarray:
    for shift in (32, 16, 8, 4, 2, 1):
        x = x ^ (x >> shift)
    return x & 1


def scramble_state(state: np.ndarray, ltm: np.ndarray) -> np.ndarray:
    """``_sobol_engine_scramble_``: ``state`` ``(d, MAXBIT)`` by the 0/1 lower-triangular ``ltm``
    ``(d, MAXBIT, MAXBIT)`` (its diagonal taken as ones)."""
    bitsq = ltm.astype(np.int64).copy()
    idx = np.arange(MAXBIT)
    bitsq[:, idx, idx] = 1
    dots = (bitsq << np.arange(MAXBIT - 1, -1, -1, dtype=np.int64)).sum(-1)  # (d, p)
    # bit (MAXBIT - 1 - p) of the new number is the parity of dots[p] & v
    par = _parity(dots[:, None, :] & state[:, :, None])  # (d, j, p)
    return (par << np.arange(MAXBIT - 1, -1, -1, dtype=np.int64)).sum(-1)
