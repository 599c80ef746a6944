"""ember.hub: models that plugins register, found by name, with a clear error when weights are missing."""

import pytest

import ember
from ember.hub import Pretrained, Weights


class _PluginWithAbsentWeights:
    @staticmethod
    @ember.hookimpl
    def ember_register_models(registry):
        registry.register(Pretrained("tiny-absent", builder="no_such_module:build",
                                     weights=Weights("ember-test-absent-weights", "ember_test_absent_weights",
                                                     "w.safetensors", install="pip install --no-deps ember-test-absent-weights"),
                                     description="a model whose weights package is not installed"))


@pytest.fixture
def absent_model():
    ember.plugins.register(_PluginWithAbsentWeights, name="absent-weights-plugin")
    yield "tiny-absent"
    ember.plugins.unregister("absent-weights-plugin")


def test_list_shows_the_built_in_models():
    assert {"minilm-l6", "efficientnet-lite0"} <= set(ember.hub.list())


def test_a_plugin_registers_a_model_and_unregistering_removes_it(absent_model):
    assert absent_model in ember.hub.list()
    assert ember.hub.info(absent_model).weights.package == "ember-test-absent-weights"
    ember.plugins.unregister("absent-weights-plugin")
    assert absent_model not in ember.hub.list()
    ember.plugins.register(_PluginWithAbsentWeights, name="absent-weights-plugin")


def test_load_names_the_package_and_the_pip_command_when_weights_are_absent(absent_model):
    with pytest.raises(ember.hub.WeightsNotInstalledError,
                       match=r"'ember-test-absent-weights', which is not installed; install it with: "
                             r"pip install --no-deps ember-test-absent-weights"):
        ember.hub.load(absent_model)
    assert "not installed: pip install --no-deps" in ember.hub.help(absent_model)


def test_an_unknown_name_lists_the_known_models():
    with pytest.raises(KeyError, match="no model named 'nope' is registered; registered: .*minilm-l6"):
        ember.hub.load("nope")


def test_the_registry_accepts_only_pretrained_declarations():
    class Bad:
        @staticmethod
        @ember.hookimpl
        def ember_register_models(registry):
            registry.register(object(), name="x")

    with pytest.raises(ember.plugins.PluginError, match="must be an ember.hub.Pretrained declaration"):
        ember.plugins.register(Bad, name="bad-model-plugin")


def test_a_builder_must_be_module_colon_function():
    with pytest.raises(ValueError, match="builder must be 'module:function'"):
        Pretrained("x", builder="just_a_module", weights=Weights("p", "m", "f"))
