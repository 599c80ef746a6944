"""``ember.nn.functional``: filled at load with every op registered with ``namespaces=("functional", ...)``."""
