"""``ember.linalg``: filled at load with every op registered with ``where=("linalg", ...)``."""
