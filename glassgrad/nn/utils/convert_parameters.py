"""``torch.nn.utils.convert_parameters``: the module path of ``parameters_to_vector`` and
``vector_to_parameters`` (defined in ``glassgrad.nn.utils``), which programs import by it
(BackPACK's tests: ``from torch.nn.utils.convert_parameters import parameters_to_vector``)."""

from __future__ import annotations

from glassgrad.nn.utils import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "vector_to_parameters"]
