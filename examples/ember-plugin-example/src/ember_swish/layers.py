"""``ember.nn.Swish``: the swish activation with a learnable ``beta``, one per channel or shared."""

import ember
from ember.nn import LayerSample, Module, Parameter


class Swish(Module):
    """``x * sigmoid(beta * x)`` with ``beta`` a Parameter of ``num_parameters`` values (initialised to
    ``init``); with several, ``beta`` is per channel (dimension 1), as ``nn.PReLU`` does its slopes."""

    def __init__(self, num_parameters: int = 1, init: float = 1.0, device=None, dtype=None):
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"Swish: num_parameters must be at least 1, got {num_parameters}")
        self.num_parameters = num_parameters
        self.beta = Parameter(ember.full((num_parameters,), float(init), device=device, dtype=dtype))

    def forward(self, input):
        beta = self.beta
        if self.num_parameters > 1:
            if input.dim() < 2 or input.shape[1] != self.num_parameters:
                raise ember.ops.ShapeError(f"Swish(num_parameters={self.num_parameters}): expected input with "
                                           f"{self.num_parameters} channels in dimension 1, got shape "
                                           f"{tuple(input.shape)}")
            beta = beta.reshape((self.num_parameters,) + (1,) * (input.dim() - 2))
        else:
            beta = beta.reshape(())
        return ember.swish(input, beta)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

    @staticmethod
    def samples(make):
        return [LayerSample(inputs=(make(3, 4),), name="shared beta"),
                LayerSample((4,), {"init": 0.5}, inputs=(make(2, 4, 3),), name="beta per channel"),
                LayerSample(inputs=(make(5),), name="1-D input")]
