"""The hooks a plugin may implement, one per kind of thing it registers.

Each hook receives a registry and calls ``registry.register(...)`` on it; hooks return nothing.
ember calls them once per plugin, in this order: devices, ops, layers, optimizers, process-group
backends, models (so ops may rely on devices, layers on ops, and models on layers). Each plugin's
implementation is called through pluggy's hook caller with a registry of its own, which records the
plugin as the owner of what it registers; ``tryfirst``/``trylast`` order the plugins, and a
``wrapper=True`` (or ``hookwrapper=True``) implementation wraps its own plugin's call (it may register
before or after its ``yield``). Implement them with ``ember.hookimpl``::

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
    """Register device backends and faster kernels for primitives on them.

    Called first, once per plugin, when ``import ember`` loads the plugin (or when it is registered at
    run time with ``ember.plugins.register``).

    Parameters:
        registry: the device registry for this plugin (a :class:`ember.registry.Registrar`).
            ``registry.register(backend)`` adds an :class:`ember.device.Backend` instance under its
            ``type`` (``"cuda"``); ``registry.register_kernel(primitive, device_type, fn,
            override=False)`` makes ``fn`` (same arguments as ``primitive.forward``: ``xp``, arrays,
            attributes) run instead of the primitive's generic forward on tensors of that device type.
            Each kernel is owned by the plugin as ``"<primitive>@<device type>"``: a second plugin's kernel
            for the same pair is a conflict naming both, unless it passes ``override=True``.

    Returns nothing; what was registered is read from the registry.
    """


@hookspec
def ember_register_ops(registry):
    """Register ops, bound as ``ember.<name>``, ``Tensor.<name>``, ``ember.nn.functional.<name>`` or
    ``ember.linalg.<name>`` (as each declaration's ``namespaces`` say).

    Called after every plugin's devices are registered.

    Parameters:
        registry: the op registry for this plugin (a :class:`ember.registry.Registrar`).
            ``registry.register(op, override=False)`` adds an :class:`ember.ops.Op` declaration (``Op(fn, namespaces=..., samples=...)``);
            ``registry.register_all(ops)`` adds a list of them (an :class:`ember.ops.OpTable`). A name
            another plugin already registered is a conflict naming both plugins, unless one of them
            passes ``override=True`` (recorded, shown by ``ember plugins``).

    Returns nothing.
    """


@hookspec
def ember_register_layers(registry):
    """Register layers and losses, bound as ``ember.nn.<Name>``.

    Called after every plugin's ops are registered (layers may call them).

    Parameters:
        registry: the layer registry for this plugin (a :class:`ember.registry.Registrar`).
            ``registry.register(cls, name=None, override=False)`` adds a subclass of
            :class:`ember.nn.Module` under its class name (or ``name``).

    Returns nothing.
    """


@hookspec
def ember_register_optimizers(registry):
    """Register optimizers, bound as ``ember.optim.<Name>``, and LR schedulers, bound as
    ``ember.optim.lr_scheduler.<Name>``.

    Called after every plugin's layers are registered.

    Parameters:
        registry: the optimizer registry for this plugin (a :class:`ember.registry.Registrar`).
            ``registry.register(cls, name=None, override=False)`` adds a subclass of
            :class:`ember.optim.Optimizer` or :class:`ember.optim.lr_scheduler.LRScheduler`.

    Returns nothing.
    """


@hookspec
def ember_register_process_group_backends(registry):
    """Register process-group backends for ``ember.distributed``, found by
    ``ember.distributed.init_process_group(backend=name)``.

    Called after every plugin's optimizers are registered.

    Parameters:
        registry: the process-group backend registry for this plugin (a
            :class:`ember.registry.Registrar`). ``registry.register(backend, name=None, override=False)``
            adds an :class:`ember.distributed.ProcessGroupBackend` instance under its ``name`` or, given
            ``name`` (``"gloo"``), under that alias too.

    Returns nothing.
    """


@hookspec
def ember_register_models(registry):
    """Register pretrained models, listed by ``ember.hub.list()`` and built by ``ember.hub.load(name)``.

    Called last. A registration names the architecture's builder (``"module:function"``, imported only
    when the model is loaded, so registering costs nothing at ``import ember``) and where its weights
    come from (an ``ember.hub.Weights``: the pip package that ships them and the file inside it).

    Parameters:
        registry: the model registry for this plugin (a :class:`ember.registry.Registrar`).
            ``registry.register(ember.hub.Pretrained(name, builder=..., weights=...))`` adds one model.

    Returns nothing.
    """


# The order in which ember calls the hooks of each plugin, with the registry each one fills.
PHASES = (
    ("ember_register_devices", "devices"),
    ("ember_register_ops", "ops"),
    ("ember_register_layers", "layers"),
    ("ember_register_optimizers", "optimizers"),
    ("ember_register_process_group_backends", "process_group_backends"),
    ("ember_register_models", "models"),
)
