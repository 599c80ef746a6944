"""The hooks a plugin may implement, one per kind of thing it registers.

Each hook receives a registry and calls ``registry.register(...)`` on it; hooks return nothing.
ember calls them once per plugin, in this order: devices, ops, layers, optimizers, process-group
backends, models (so ops may rely on devices, layers on ops, and models on layers). Implement them with
``ember.hookimpl``::

    import ember

    @ember.hookimpl
    def ember_register_ops(registry):
        registry.register(ember.ops.Op(my_function, namespaces=("ember", "Tensor")))
"""

import pluggy

hookspec = pluggy.HookspecMarker("ember")
hookimpl = pluggy.HookimplMarker("ember")


@hookspec
def ember_register_devices(registry):
    """Register device backends (``registry.register(MyBackend())``, an ``ember.device.Backend``) and
    faster kernels for primitives on them (``registry.register_kernel(primitive, "cuda", fn)``)."""


@hookspec
def ember_register_ops(registry):
    """Register ops: ``registry.register(ember.ops.Op(fn, namespaces=..., samples=...))``. A name another
    plugin already registered is a conflict unless ``override=True`` is passed."""


@hookspec
def ember_register_layers(registry):
    """Register layers and losses: subclasses of ``ember.nn.Module``, bound as ``ember.nn.<Name>``."""


@hookspec
def ember_register_optimizers(registry):
    """Register optimizers (``ember.optim.Optimizer`` subclasses, bound as ``ember.optim.<Name>``) and
    LR schedulers (``ember.optim.lr_scheduler.LRScheduler`` subclasses)."""


@hookspec
def ember_register_process_group_backends(registry):
    """Register process-group backends for ``ember.distributed`` (an
    ``ember.distributed.ProcessGroupBackend`` instance, found by ``init_process_group(backend=name)``);
    ``registry.register(backend, name="gloo")`` registers it under an alias too."""


@hookspec
def ember_register_models(registry):
    """Register pretrained models: ``registry.register(ember.hub.Pretrained(name, builder=..., weights=...))``.

    A registration names the architecture's builder (``"module:function"``, imported only when the model
    is loaded, so registering costs nothing at ``import ember``) and where its weights come from (an
    ``ember.hub.Weights``: the pip package that ships them and the file inside it). ``ember.hub.list()``
    shows them and ``ember.hub.load(name)`` builds one with its weights."""


# The order in which ember calls the hooks of each plugin, with the registry each one fills.
PHASES = (
    ("ember_register_devices", "devices"),
    ("ember_register_ops", "ops"),
    ("ember_register_layers", "layers"),
    ("ember_register_optimizers", "optimizers"),
    ("ember_register_process_group_backends", "process_group_backends"),
    ("ember_register_models", "models"),
)
