"""``ember.nn.functional``: filled at load with every op registered with ``where=("functional", ...)``."""
