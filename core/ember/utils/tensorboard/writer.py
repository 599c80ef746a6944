"""``SummaryWriter``: ``torch.utils.tensorboard.SummaryWriter``'s interface over tensorboardX's writer,
taking ember tensors wherever PyTorch's takes torch tensors."""

from __future__ import annotations

import numpy as np

__all__ = ["SummaryWriter"]

INSTALL_HINT = "pip install 'ember[tensorboard]' (or pip install tensorboardX)"


def _writer_class():
    try:
        from tensorboardX import SummaryWriter as Writer
    except ImportError:
        raise ImportError(f"ember.utils.tensorboard.SummaryWriter needs tensorboardX, which is not installed "
                          f"here: {INSTALL_HINT}") from None
    return Writer


def _numpy(value):
    """An ember tensor (or anything array-like) as a numpy array on the host, detached."""
    from ...tensor import Tensor
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    return value


def _scalar(value) -> float:
    value = _numpy(value)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"add_scalar: expected a single value, got a tensor of shape {value.shape}")
        return float(value.reshape(()))
    return float(value)


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir`` (default ``runs/<date>_<host><comment>``, as PyTorch).

    ``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120,
    filename_suffix='')``; use it as a context manager or call :meth:`close`. Values may be ember
    tensors, numpy arrays or numbers. ``add_graph`` is not supported (TensorBoard's graph comes from
    PyTorch's JIT tracer, which ember has no counterpart of); it raises NotImplementedError.
    ImportError naming the extra to install when tensorboardX is missing.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        writer_class = _writer_class()
        self._writer = writer_class(logdir=None if log_dir is None else str(log_dir), comment=comment,
                                    purge_step=purge_step, max_queue=max_queue, flush_secs=flush_secs,
                                    filename_suffix=filename_suffix)
        self.log_dir = self._writer.logdir

    def get_logdir(self) -> str:
        """The folder the event files are written to."""
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One value of the curve ``tag`` at ``global_step`` (a number or a one-element tensor)."""
        self._writer.add_scalar(tag, _scalar(scalar_value), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """Several curves on one chart: ``{"train": 0.3, "test": 0.4}`` under ``main_tag``."""
        self._writer.add_scalars(main_tag, {k: _scalar(v) for k, v in tag_scalar_dict.items()}, global_step,
                                 walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None) -> None:
        """A histogram of ``values`` (any shape); ``bins`` as numpy's ``histogram`` or ``"tensorflow"``."""
        values = np.asarray(_numpy(values), dtype=np.float64)
        if values.size == 0:
            raise ValueError(f"add_histogram {tag!r}: the values are empty")
        self._writer.add_histogram(tag, values, global_step, bins=bins, walltime=walltime, max_bins=max_bins)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW") -> None:
        """One image: float values in [0, 1] or uint8 in [0, 255], laid out as ``dataformats`` (CHW, HWC,
        HW...), as PyTorch's writer."""
        self._writer.add_image(tag, _numpy(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "NCHW") -> None:
        """A batch of images shown as a grid (``dataformats`` NCHW or NHWC)."""
        self._writer.add_images(tag, _numpy(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """A text note (markdown) under ``tag``."""
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True):
        """Not supported: TensorBoard's model graph comes from PyTorch's JIT tracer, which ember has no
        counterpart of. Raises NotImplementedError."""
        raise NotImplementedError("SummaryWriter.add_graph: ember has no JIT tracer to draw the model's graph "
                                  "from; log scalars, histograms and images, or print(model) for its structure")

    def flush(self) -> None:
        """Write pending events to disk now."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event files; the writer cannot be used afterwards."""
        self._writer.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
