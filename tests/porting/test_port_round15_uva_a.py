"""Port round 15 (uvadlc notebooks: initialization/optimization, PixelCNN, adversarial attacks)."""

from __future__ import annotations

import warnings

import numpy as np

import glassgrad as gg


def test_meshgrid_warning_text_is_torchs_so_filters_catch_it(torch):
    """The notebook's ``plot_curve`` calls ``meshgrid([x, y])``; a script's
    ``filterwarnings(message="torch.meshgrid")`` (a regex matched from the start) must silence
    glassgrad's warning as it does PyTorch's."""
    import glassgrad.ops.meshgrid as meshgrid_module

    a = np.arange(3.0, dtype=np.float32)
    for lib, reset in ((torch, None), (gg, meshgrid_module)):
        if reset is not None:
            reset._meshgrid_warned[0] = False  # this process may have warned already
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            warnings.filterwarnings("ignore", message="torch.meshgrid: in an upcoming release")
            lib.meshgrid([lib.tensor(a), lib.tensor(a)])
        assert not [w for w in seen if "meshgrid" in str(w.message)], lib.__name__
