"""``ember.backends.mkldnn``: oneDNN's switches, as plain flags (ember uses numpy's BLAS, not oneDNN)."""

enabled = True


def is_available() -> bool:
    return False
