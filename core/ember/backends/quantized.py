"""``ember.backends.quantized``: the quantized engine setting. ember has no quantized kernels; the
engine name is a plain value that scripts may read and write."""

engine = "none"
supported_engines = ["none"]
