"""EfficientNet-Lite0 in ember against a PyTorch implementation of the same network with the same weights,
on scikit-learn's bundled photos (china.jpg, flower.jpg) preprocessed as the weights were trained."""

import math

import numpy as np
import pytest

# (repeats, kernel, stride, expansion, in, out) of the seven stages, as TensorFlow's 'r1_k3_s11_e1_i32_o16' ...
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


def torch_efficientnet_lite0(torch, sd, images):
    """The reference, written directly from the architecture: TF 'SAME' padding, BN eps 1e-3, ReLU6, no SE.
    ``sd`` is the checkpoint's state dict (``torch.load(path, weights_only=True)``)."""
    F = torch.nn.functional

    def conv_bn(x, conv, bn, stride=1, groups=1, act=True):
        w = sd[conv + ".weight"]
        k = w.shape[-1]
        pad = max((math.ceil(x.shape[-1] / stride) - 1) * stride + k - x.shape[-1], 0)
        x = F.pad(x, [pad // 2, pad - pad // 2, pad // 2, pad - pad // 2])
        x = F.conv2d(x, w, None, stride, 0, 1, groups)
        x = F.batch_norm(x, sd[bn + ".running_mean"], sd[bn + ".running_var"], sd[bn + ".weight"],
                         sd[bn + ".bias"], False, 0.0, 1e-3)
        return F.relu6(x) if act else x

    x = conv_bn(torch.as_tensor(images), "_conv_stem", "_bn0", stride=2)
    index = 0
    for repeats, k, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            p = f"_blocks.{index}."
            inputs, s, c = x, (stride if r == 0 else 1), (cin if r == 0 else cout)
            if expand != 1:
                x = conv_bn(x, p + "_expand_conv", p + "_bn0")
            x = conv_bn(x, p + "_depthwise_conv", p + "_bn1", stride=s, groups=c * expand)
            x = conv_bn(x, p + "_project_conv", p + "_bn2", act=False)
            if s == 1 and c == cout:
                x = x + inputs
            index += 1
    x = conv_bn(x, "_conv_head", "_bn1").mean((2, 3))
    return F.linear(x, sd["_fc.weight"], sd["_fc.bias"])


@pytest.fixture(scope="module")
def photos():
    datasets = pytest.importorskip("sklearn.datasets", reason="the sample photos come with scikit-learn")
    return datasets.load_sample_images().images  # china.jpg, flower.jpg: uint8 (427, 640, 3)


@pytest.fixture(scope="module")
def lite0(efficientnet_path):
    import ember
    return ember.hub.load("efficientnet-lite0")  # the legacy-format .pth, read by ember.load


def test_logits_equal_pytorch_and_top5_identical(torch, lite0, efficientnet_path, photos):
    import ember
    from ember_models.imagenet import preprocess
    batch = np.stack([preprocess(p) for p in photos] + [preprocess(p[::-1, ::-1].copy()) for p in photos])
    with ember.no_grad():
        ours = lite0(ember.from_numpy(batch)).numpy()
    with torch.no_grad():
        ref = torch_efficientnet_lite0(torch, torch.load(efficientnet_path, weights_only=True), batch).numpy()
    assert ours.shape == (4, 1000)
    assert np.abs(ours - ref).max() <= 1e-4
    assert (np.argsort(-ours, 1)[:, :5] == np.argsort(-ref, 1)[:, :5]).all()


def test_the_sample_photos_get_sensible_classes(lite0, photos):
    import ember
    from ember_models.imagenet import preprocess
    with ember.no_grad():
        logits = lite0(ember.from_numpy(np.stack([preprocess(p) for p in photos]))).numpy()
    top5 = [{lite0.classes[i] for i in np.argsort(-row)[:5]} for row in logits]
    assert top5[0] & {"palace", "monastery", "pagoda", "temple", "dome", "cinema", "bell cote", "stupa", "bannister"}
    assert top5[1] & {"daisy", "pot", "bee", "vase", "hip", "rapeseed", "cardoon", "mushroom", "sea anemone"}


def test_a_one_grey_level_shift_moves_the_logits(lite0, photos):
    """Why preprocessing must be exact: one grey level (1/128 after normalising) is visible in the output."""
    import ember
    from ember_models.imagenet import preprocess
    x = preprocess(photos[0])[None]
    with ember.no_grad():
        a, b = lite0(ember.from_numpy(x)).numpy(), lite0(ember.from_numpy(x + np.float32(1 / 128))).numpy()
    assert np.abs(a - b).max() > 1e-2


def test_center_crop_and_resize_follow_tensorflows_eval_pipeline():
    from ember_models.imagenet import center_crop, resize_bicubic_tf1
    image = np.arange(427 * 640 * 3, dtype=np.uint8).reshape(427, 640, 3)
    crop = center_crop(image)
    assert crop.shape == (373, 373, 3)  # int(224 / 256 * 427)
    assert (crop == image[27:400, 134:507]).all()  # offsets ((427 - 373) + 1) // 2 and ((640 - 373) + 1) // 2
    same = resize_bicubic_tf1(image[:50, :60], 50)[:, :50]
    assert same.dtype == np.float32
    identity = resize_bicubic_tf1(image[:50, :50], 50)
    np.testing.assert_array_equal(identity, image[:50, :50].astype(np.float32))


def test_class_names_are_the_1000_imagenet_classes():
    from ember_models.imagenet import class_names
    names = class_names()
    assert len(names) == 1000 and names[0] == "tench" and names[281] == "tabby" and names[999] == "toilet tissue"
