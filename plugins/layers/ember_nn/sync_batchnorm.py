"""``SyncBatchNorm``: batch normalization whose statistics are reduced over a process group.

In a single process (no ``ember.distributed`` group initialised, or a world of one) there is nothing to
synchronise and it is batch normalization over any rank >= 2, as PyTorch's is then. Across processes the
statistics are not yet reduced by ember: a clear error says so rather than silently normalising locally.
"""

from __future__ import annotations

import ember
from ember.nn import LayerSample

from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _world_size(process_group) -> int:
    dist = getattr(ember, "distributed", None)
    try:
        if dist is not None and dist.is_available() and dist.is_initialized():
            return dist.get_world_size(process_group) if process_group is not None else dist.get_world_size()
    except (AttributeError, ImportError):
        pass
    return 1


class SyncBatchNorm(_BatchNorm):
    """Batch normalization synchronised over ``process_group`` (``torch.nn.SyncBatchNorm``).

    Shape:
        - input: ``(N, C, *)``, 2-D to 6-D, floating point.
        - output: the shape and dtype of ``input``.

    Raises:
        TypeError: ``input`` is not a Tensor (a list, a numpy array, None).
        NotImplementedError: training with a process group of more than one process (statistics are not reduced
            across processes yet; use BatchNorm under DistributedDataParallel).
        ShapeError: ``input`` is not 2-D to 6-D, or its dim 1 is not ``num_features``.
        DTypeError: ``input`` is not floating point.

    PyTorch: ``torch.nn.SyncBatchNorm``."""

    _ranks, _describe = (2, 3, 4, 5, 6), "at least 2-D"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.process_group = process_group

    def forward(self, input):
        if self.training and _world_size(self.process_group) > 1:
            raise NotImplementedError("SyncBatchNorm: ember does not reduce batch statistics across processes yet; "
                                      "use BatchNorm (per-process statistics) under DistributedDataParallel")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*d replaced by a SyncBatchNorm holding the same parameters and
        running statistics (recursively), as PyTorch's."""
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group)
            if module.affine:
                with ember.no_grad():
                    output.weight, output.bias = module.weight, module.bias
            output.running_mean, output.running_var = module.running_mean, module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output

    @staticmethod
    def samples(make):
        return [LayerSample((3,), inputs=(make(4, 3, 2),)), LayerSample((2,), inputs=(make(2, 2, 3, 3),), name="4-D")]
