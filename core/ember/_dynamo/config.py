"""``torch._dynamo.config``'s commonly set values, with PyTorch's defaults; plain settings in ember."""

cache_size_limit = 8
accumulated_cache_size_limit = 256
automatic_dynamic_shapes = True
assume_static_by_default = True
suppress_errors = False
verbose = False
optimize_ddp = True
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
inline_inbuilt_nn_modules = True
