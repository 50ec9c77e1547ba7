"""``Chi2``: the sum of squares of ``df`` independent standard normals (a Gamma(df/2, 1/2))."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import check_properties
from glassgrad.distributions.gamma import Gamma
from glassgrad.tensor import Tensor

__all__ = ["Chi2"]


class Chi2(Gamma):
    r"""The chi-squared distribution χ²(k) = Γ(k/2, ½), as ``torch.distributions.Chi2``; log_prob,
    entropy and the moments are the Gamma's. ``rsample`` is differentiable in ``df`` (see
    ``Gamma``).

    Args:
        df: k > 0 (degrees of freedom, real).
        validate_args: check k > 0 now and that log_prob's values are >= 0.

    Shape:
        ``batch_shape`` = ``df.shape``; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = utils.broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)
        check_properties(self, ("df",))

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2
