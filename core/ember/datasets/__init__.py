"""``ember.datasets``: the bundled 8x8 digits, and MNIST / Fashion-MNIST read from files on disk.

Nothing is downloaded: the digits ship inside the package (``data/digits.npz``, CC BY 4.0, see
``data/digits-LICENSE.txt``); MNIST-style sets are read from the IDX files a user already has.
"""

from .digits import Digits
from .idx import read_idx
from .mnist import MNIST, FashionMNIST

__all__ = ["Digits", "MNIST", "FashionMNIST", "read_idx"]
