"""Bundled digits, MNIST-style IDX files, and ember.transforms (checked against torch's arithmetic)."""

import gzip
import os

import numpy as np
import pytest

import ember
from ember import transforms as T
from ember.datasets import MNIST, Digits, FashionMNIST, read_idx
from ember.datasets.idx import IDXFormatError, write_idx


def test_digits_holds_the_1797_uci_images_of_ten_classes():
    digits = Digits()
    assert len(digits) == 1797
    assert tuple(digits.data.shape) == (1797, 8, 8) and int(digits.data.max()) == 16
    counts = np.bincount(digits.targets.numpy())
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    image, target = digits[0]
    assert tuple(image.shape) == (1, 8, 8) and image.dtype == ember.float32 and target == 0
    assert np.allclose(image.numpy()[0], digits.data[0].numpy() / 16)


def test_digits_ships_its_licence_and_is_declared_package_data():
    tomllib = pytest.importorskip("tomllib")
    assert "CC BY 4.0" in Digits.license() and "Alpaydin" in Digits.license()
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["ember.datasets"]
    assert "data/*.npz" in package_data and "data/*.txt" in package_data


def test_digits_applies_transform_and_target_transform():
    digits = Digits(transform=T.Lambda(lambda x: x * 2), target_transform=lambda y: y + 10)
    image, target = digits[1]
    assert target == 11 and float(image.numpy().max()) <= 2.0


def _write_mnist(folder, n=5, gz=True, train=True):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    prefix = "train" if train else "t10k"
    suffix = ".gz" if gz else ""
    write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{suffix}"), images)
    write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{suffix}"), labels)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_raw_and_gzipped_idx_files(tmp_path, gz):
    images, labels = _write_mnist(tmp_path, gz=gz)
    ds = MNIST(tmp_path, train=True)
    assert len(ds) == 5
    image, target = ds[2]
    assert np.array_equal(image, images[2]) and target == labels[2]
    tensor = MNIST(tmp_path, transform=T.ToTensor())[2][0]
    assert tuple(tensor.shape) == (1, 28, 28) and np.allclose(tensor.numpy()[0], images[2] / 255)


def test_mnist_finds_files_in_torchvisions_folder_layout(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_mnist(raw, train=False)
    assert len(FashionMNIST(tmp_path, train=False)) == 5


def test_missing_mnist_files_name_the_expected_files_and_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message and str(tmp_path) in message


def test_corrupt_idx_files_give_a_clear_error(tmp_path):
    _write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IDXFormatError, match="truncated or corrupt"):
        MNIST(tmp_path)
    path.write_bytes(b"garbage!")
    with pytest.raises(IDXFormatError, match="not an IDX file"):
        read_idx(path)
    bad_gz = tmp_path / "x.gz"
    bad_gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abcde")[:-6])
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(bad_gz)


def test_idx_round_trips_wider_dtypes(tmp_path):
    array = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    write_idx(tmp_path / "a", array)
    assert np.array_equal(read_idx(tmp_path / "a"), array)


def test_mnist_refuses_to_download(tmp_path):
    with pytest.raises(ValueError, match="does not download"):
        MNIST(tmp_path, download=True)


def test_to_tensor_and_normalize_compute_what_torchvision_does(torch):
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(3, 3, 2) * 7
    ours = T.Compose([T.ToTensor(), T.Normalize([0.5, 0.25], [0.5, 2.0])])(image)
    chw = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    expected = (chw - torch.tensor([0.5, 0.25]).view(2, 1, 1)) / torch.tensor([0.5, 2.0]).view(2, 1, 1)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_normalize_rejects_a_zero_std():
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.0], [0.0])


def test_random_horizontal_flip_mirrors_the_width_axis():
    x = ember.arange(6).float().reshape(1, 2, 3)
    assert T.RandomHorizontalFlip(p=1.0)(x).tolist() == [[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]]
    assert T.RandomHorizontalFlip(p=0.0)(x) is x


def test_random_crop_with_padding_is_a_window_of_the_padded_image_and_seeded():
    x = ember.arange(16).float().reshape(1, 4, 4)
    crops = [T.RandomCrop(4, padding=1, generator=ember.Generator().manual_seed(s))(x).numpy() for s in range(6)]
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = [padded[:, i:i + 4, j:j + 4] for i in range(3) for j in range(3)]
    assert all(any(np.array_equal(c, w) for w in windows) for c in crops)
    again = T.RandomCrop(4, padding=1, generator=ember.Generator().manual_seed(0))(x).numpy()
    assert np.array_equal(again, crops[0])


def test_random_transforms_follow_ember_manual_seed():
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)
    pipeline = T.Compose([T.RandomCrop(5), T.RandomHorizontalFlip(), T.ToTensor()])
    ember.manual_seed(11)
    a = [pipeline(x).tolist() for _ in range(4)]
    ember.manual_seed(11)
    assert [pipeline(x).tolist() for _ in range(4)] == a


def test_random_crop_larger_than_the_image_is_an_error():
    with pytest.raises(ValueError, match="larger than the input image"):
        T.RandomCrop(5)(np.zeros((3, 3), np.uint8))
