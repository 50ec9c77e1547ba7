"""``torch.__config__``: how this build was configured, as text.

PyTorch's ``torch.__config__.show()`` lists its compiler flags and math libraries, and
``parallel_info()`` its threading back ends; programs search these strings (PyTorch Geometric
checks ``'USE_MKL=OFF' in torch.__config__.show()``). glassgrad is NumPy, so both describe that.
"""

from __future__ import annotations

__all__ = ["show", "parallel_info"]


def show() -> str:
    """The build configuration: glassgrad's version and the array library it runs on."""
    import numpy

    import glassgrad

    return (
        f"glassgrad {glassgrad.__version__} (pure Python on NumPy {numpy.__version__})\n"
        "  - no compiled extensions: USE_CUDA=OFF, USE_MKLDNN=OFF, USE_MKL=OFF\n"
    )


def parallel_info() -> str:
    """The threading settings: glassgrad's own thread counts (``get_num_threads``)."""
    import glassgrad

    return (
        "glassgrad parallel info:\n"
        f"  at::get_num_threads() : {glassgrad.get_num_threads()}\n"
        f"  at::get_num_interop_threads() : {glassgrad.get_num_interop_threads()}\n"
    )
