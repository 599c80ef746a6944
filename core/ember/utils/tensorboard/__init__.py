"""``ember.utils.tensorboard``: TensorBoard logging as ``torch.utils.tensorboard``.

:class:`SummaryWriter` writes real TensorBoard event files through tensorboardX (a torch-free,
widely used writer of TensorBoard's protobuf format; PyTorch's own writer needs the ``tensorboard``
package and torch), installed with the extra ``pip install ember[tensorboard]``. Importing this
module is cheap; tensorboardX is imported when the first writer is made.
"""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
