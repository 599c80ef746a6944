"""How ember calls plugins' hooks and owns what they register: through pluggy's hook caller (so hook
wrappers run), kernels with owners like every other name, run-time registration that passes its
strictness as an argument, and hookspecs that document their parameters."""

import inspect
import os
import re
import threading

import pytest

import ember
from ember import hookspecs
from ember.ops import Op, Primitive, Sample, apply


def scaled_op(name):
    """An op declaration ``name(x) = 2 * x`` (with its own primitive, so kernels can target it)."""
    prim = type(f"Scale{name.title()}", (Primitive,), {
        "name": f"scale_{name}",
        "forward": staticmethod(lambda xp, x: x * 2),
        "backward": staticmethod(lambda ctx, grad: grad * 2)})

    def fn(input):
        return apply(prim, input)
    fn.__name__ = name
    return prim, Op(fn, namespaces=("ember",), torch=None, expected=lambda x: 2 * x,
                    samples=lambda make: [Sample((make(3),))])


@pytest.fixture
def registered():
    """Register plugins at run time; every one still registered is removed afterwards."""
    names = []

    def register(plugin, name):
        names.append(name)
        return ember.plugins.register(plugin, name=name)
    yield register
    for name in names:
        if name in {i.name for i in ember.plugins.report()}:
            ember.plugins.unregister(name)


# -- hook wrappers ---------------------------------------------------------------------------------

def test_a_new_style_wrapper_implementation_registers_what_it_registers(registered):
    _, op = scaled_op("wrapped_new")

    class Plugin:
        @ember.hookimpl(wrapper=True)
        def ember_register_ops(self, registry):
            registry.register(op)
            return (yield)

    info = registered(Plugin(), "wrapper_new")
    assert info.registered == {"ops": ["wrapped_new"]}
    assert ember.wrapped_new(ember.ones(2)).tolist() == [2.0, 2.0]


def test_an_old_style_hookwrapper_registers_after_its_yield(registered):
    _, op = scaled_op("wrapped_old")

    class Plugin:
        @ember.hookimpl(hookwrapper=True)
        def ember_register_ops(self, registry):
            outcome = yield
            outcome.get_result()
            registry.register(op)

    info = registered(Plugin(), "wrapper_old")
    assert info.registered == {"ops": ["wrapped_old"]}
    assert ember.wrapped_old(ember.ones(1)).item() == 2.0


def test_a_wrapper_that_is_not_a_generator_is_rejected_naming_the_plugin():
    class Plugin:
        @ember.hookimpl(wrapper=True)
        def ember_register_ops(self, registry):
            return None

    with pytest.raises(ember.plugins.PluginError, match="(?s)'wrapper_plain'.*not a generator function"):
        ember.plugins.register(Plugin(), name="wrapper_plain")
    assert "wrapper_plain" not in {i.name for i in ember.plugins.report()}


def test_a_wrapper_that_never_yields_is_an_error_not_a_silent_no_op():
    class Plugin:
        @ember.hookimpl(wrapper=True)
        def ember_register_ops(self, registry):
            return
            yield  # a generator that ends before its yield

    with pytest.raises(ember.plugins.PluginError, match="(?s)'wrapper_no_yield'.*ember_register_ops failed.*did not yield"):
        ember.plugins.register(Plugin(), name="wrapper_no_yield")
    assert "wrapper_no_yield" not in {i.name for i in ember.plugins.report()}


def test_each_plugin_owns_what_it_registers_when_hooks_go_through_pluggy(registered):
    _, first_op = scaled_op("owned_first")
    _, second_op = scaled_op("owned_second")

    class First:
        @ember.hookimpl(tryfirst=True)
        def ember_register_ops(self, registry):
            registry.register(first_op)

    class Second:
        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(second_op)

    registered(First(), "owner_first")
    registered(Second(), "owner_second")
    ops = ember.plugins.registries["ops"]
    assert ops.entries["owned_first"].owner == "owner_first"
    assert ops.entries["owned_second"].owner == "owner_second"


# -- kernels have owners ---------------------------------------------------------------------------

def kernel_plugin(prim, op=None, factor=10.0, override=False):
    class Plugin:
        @ember.hookimpl
        def ember_register_devices(self, registry):
            registry.register_kernel(prim, "cpu", lambda xp, x: x * factor, override=override)

        if op is not None:
            @ember.hookimpl
            def ember_register_ops(self, registry):
                registry.register(op)
    return Plugin()


def test_a_device_kernel_runs_and_is_reported_with_its_owner(registered):
    prim, op = scaled_op("kernelled")
    info = registered(kernel_plugin(prim, op), "kernel_owner")
    assert info.registered == {"kernels": ["scale_kernelled@cpu"], "ops": ["kernelled"]}
    assert ember.kernelled(ember.ones(1)).item() == 10.0  # the kernel, not the generic forward
    entry = ember.plugins.registries["devices"].kernels.entries["scale_kernelled@cpu"]
    assert entry.owner == "kernel_owner"


def test_two_plugins_registering_one_kernel_is_an_error_naming_both(registered):
    prim, op = scaled_op("contested")
    registered(kernel_plugin(prim, op), "kernel_first")
    with pytest.raises(ember.plugins.PluginError,
                       match=r"kernel 'scale_contested@cpu' is registered by both plugin 'kernel_first' and "
                             r"plugin 'kernel_second'"):
        ember.plugins.register(kernel_plugin(prim, factor=3.0), name="kernel_second")
    assert ember.contested(ember.ones(1)).item() == 10.0  # the first plugin's kernel stays


def test_an_overriding_kernel_wins_is_recorded_and_gives_way_when_removed(registered):
    prim, op = scaled_op("overridden")
    registered(kernel_plugin(prim, op), "kernel_base")
    registered(kernel_plugin(prim, factor=3.0, override=True), "kernel_override")
    assert ember.overridden(ember.ones(1)).item() == 3.0
    assert ("kernels", "scale_overridden@cpu", "kernel_override", ["kernel_base"]) in ember.plugins.overrides()
    ember.plugins.unregister("kernel_override")
    assert ember.overridden(ember.ones(1)).item() == 10.0


def test_a_kernel_factory_makes_the_kernel_from_the_primitive_class_it_is_bound_to(registered):
    prim, op = scaled_op("factoried")
    made_for = []

    def factory(cls):
        made_for.append(cls)
        return lambda xp, x: x * 7

    class Plugin:
        @ember.hookimpl
        def ember_register_devices(self, registry):
            registry.register_kernel("scale_factoried", "cpu", factory=factory)

        @ember.hookimpl
        def ember_register_ops(self, registry):
            registry.register(op)
    info = registered(Plugin(), "kernel_factory")
    assert info.registered == {"kernels": ["scale_factoried@cpu"], "ops": ["factoried"]}
    assert ember.factoried(ember.ones(1)).item() == 7.0 and made_for[0] is prim


def test_a_primitive_class_made_after_binding_gets_its_kernels_when_created(registered):
    prim, _ = scaled_op("later")

    class Plugin:
        @ember.hookimpl
        def ember_register_devices(self, registry):
            registry.register_kernel("scale_later", "cpu", factory=lambda cls: (lambda xp, x: x * 5))
    registered(Plugin(), "kernel_later")
    overload = type("ScaleLaterOverload", (prim,), {"name": "scale_later_overload"})  # keeps the base's forward
    assert apply(overload, ember.ones(1)).item() == 5.0


def test_register_kernel_takes_a_fn_or_a_factory_not_both():
    class Plugin:
        @ember.hookimpl
        def ember_register_devices(self, registry):
            registry.register_kernel("relu", "cpu", lambda xp, x: x, factory=lambda cls: None)

    with pytest.raises(ember.plugins.PluginError, match=r"exactly one of them"):
        ember.plugins.register(Plugin(), name="kernel_both")


def test_a_kernel_for_an_unknown_primitive_is_its_plugins_error():
    class Plugin:
        @ember.hookimpl
        def ember_register_devices(self, registry):
            registry.register_kernel("no_such_primitive", "cpu", lambda xp, x: x)

    with pytest.raises(ember.plugins.PluginError, match=r"'kernel_unknown'.*unknown primitive 'no_such_primitive'"):
        ember.plugins.register(Plugin(), name="kernel_unknown")
    assert ember.relu(ember.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]  # everything else still bound


# -- run-time registration -------------------------------------------------------------------------

def test_runtime_register_neither_writes_the_environment_nor_makes_other_loads_strict(registered):
    seen = {}
    other_thread = []

    class Plugin:
        @ember.hookimpl
        def ember_register_layers(self, registry):
            seen["env"] = os.environ.get("EMBER_PLUGINS_STRICT")
            seen["strict"] = ember.plugins.strict()
            thread = threading.Thread(target=lambda: other_thread.append(ember.plugins.strict()))
            thread.start()
            thread.join()

    env_before = dict(os.environ)
    registered(Plugin(), "environment_probe")
    assert seen == {"env": env_before.get("EMBER_PLUGINS_STRICT"), "strict": ember.plugins.strict()}
    assert other_thread == [ember.plugins.strict()]
    assert dict(os.environ) == env_before


def test_runtime_register_of_a_broken_plugin_still_raises():
    class Plugin:
        @ember.hookimpl
        def ember_register_layers(self, registry):
            raise ValueError("broken on purpose")

    with pytest.raises(ember.plugins.PluginError, match="broken on purpose"):
        ember.plugins.register(Plugin(), name="broken_on_purpose")


# -- hookspecs are documentation -------------------------------------------------------------------

def hookspec_functions():
    return [fn for name, fn in vars(hookspecs).items()
            if name.startswith("ember_") and callable(fn) and hasattr(fn, "ember_spec")]


def test_every_hook_is_a_spec_and_is_called_in_a_phase():
    assert sorted(f.__name__ for f in hookspec_functions()) == sorted(name for name, _ in hookspecs.PHASES)


@pytest.mark.parametrize("spec", hookspec_functions(), ids=lambda f: f.__name__)
def test_every_hookspec_documents_each_parameter_and_when_it_is_called(spec):
    doc = inspect.getdoc(spec) or ""
    assert "Parameters:" in doc, f"{spec.__name__}: no 'Parameters:' section"
    documented = doc.split("Parameters:", 1)[1]
    for name in inspect.signature(spec).parameters:
        assert re.search(rf"^\s+{name}:", documented, re.M), f"{spec.__name__}: parameter {name!r} undocumented"
    assert "Called" in doc, f"{spec.__name__}: does not say when it is called"


def test_an_unhashable_plugin_object_is_refused_naming_it():
    import dataclasses

    @dataclasses.dataclass
    class Plugin:  # eq=True: instances are unhashable
        factor: int = 2

        @ember.hookimpl
        def ember_register_layers(self, registry):
            pass

    with pytest.raises(ember.plugins.PluginError, match="'unhashable_plugin' is a Plugin instance that cannot be hashed"):
        ember.plugins.register(Plugin(), name="unhashable_plugin")
    assert ember.relu(ember.tensor([-1.0])).item() == 0.0
