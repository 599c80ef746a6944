"""``ember.version``: what PyTorch's ``torch.version`` answers. ``cuda`` and ``hip`` are None: ember is not
built against a CUDA toolkit (its GPU backend uses CuPy's)."""

__version__ = "0.1.0"
cuda = None
hip = None
git_version = "unknown"
debug = False
