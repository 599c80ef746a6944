"""``ember.backends.cuda``: CUDA matmul and attention switches, as plain flags. ember's attention has one
implementation (the math one), which is what every backend choice runs."""

import contextlib
import enum
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)
cufft_plan_cache = SimpleNamespace(max_size=0, size=0, clear=lambda: None)
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


def is_built() -> bool:
    """False: ember is not built against CUDA (its GPU backend is CuPy's)."""
    return False


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


class SDPAParams:
    """The arguments of one attention call, as PyTorch passes them to ``can_use_*``."""

    def __init__(self, query, key, value, attn_mask=None, dropout=0.0, is_causal=False, enable_gqa=False):
        self.query, self.key, self.value = query, key, value
        self.attn_mask, self.dropout, self.is_causal, self.enable_gqa = attn_mask, dropout, is_causal, enable_gqa


def can_use_flash_attention(params, debug: bool = False) -> bool:
    """False: ember has no fused flash-attention kernel."""
    return False


def can_use_efficient_attention(params, debug: bool = False) -> bool:
    """False: ember has no memory-efficient attention kernel."""
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Set the attention switches inside a ``with`` block (deprecated in PyTorch; still used)."""
    saved = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield
    finally:
        _sdp.update(saved)
