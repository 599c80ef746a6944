"""ember's pytest plugin, registered under ``pytest11``: what a test suite of ember or of a plugin needs.

- ``--ember-device=cpu,ref`` limits device tests (and the conformance kit) to the named devices;
  by default every available device is used. The numpy-backed ``ref`` device is registered for the
  session unless ``--ember-no-reference-device`` is given.
- The ``ember_device_name`` fixture: a test that takes it runs once per device (a string: ``"cpu"``).
  Its name is ember's own, so a project's ``device`` fixture (PyTorch users have theirs) is untouched.
- ``@pytest.mark.ember_device("cuda")``: the test runs only on these devices, and is skipped with a
  reason where one is not available.
- ``--ember-all-plugins`` (or ``EMBER_TEST_ALL_PLUGINS=1``): ember's own suite also checks what
  installed third-party plugins registered; by default it checks only ember's built-in plugins
  (see :func:`ember.testing.suite_names`).
- The ``register_plugin`` fixture registers plugin objects for one test and removes them afterwards.
- The conformance kit as test items: a test that takes the ``ember_case`` fixture and is marked
  ``@pytest.mark.ember_kit("ops")`` runs once per (op, device, dtype), with ids such as
  ``test_op[add-cpu-float32]``; ``"layers"`` gives one item per (layer, device, dtype) and
  ``"optimizers"`` one per (optimizer, device, dtype). The names are ember's suite's (see
  :func:`ember.testing.suite_names`) unless the marker says ``names=[...]`` or ``plugin="swish"``
  (everything of that kind one plugin registered). ``ember_case.check()`` runs the kit on its case
  and reports every failing sample of it::

      @pytest.mark.ember_kit("ops", plugin="swish")
      def test_op(ember_case):
          ember_case.check()
- ``assert_close``, ``gradcheck``, ``gradgradcheck`` and the ``check_*`` functions are re-exported
  here; import them from :mod:`ember.testing`.
"""

from __future__ import annotations

import pytest

from . import devices as _devices
from . import reference_device
from . import suite as _suite
from .cases import KINDS, kit_cases
from .comparison import assert_close  # noqa: F401 - re-exported for plugin authors
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from .conformance import check_op  # noqa: F401
from .layer_checks import check_layer  # noqa: F401
from .optimizer_checks import check_optimizer  # noqa: F401
from .device_checks import check_device  # noqa: F401
from .plugin_checks import check_plugin  # noqa: F401

_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("ember", "ember devices and conformance kit")
    group.addoption("--ember-device", action="append", default=None, metavar="NAMES",
                    help="run device tests and the conformance kit only on these ember devices "
                         "(comma-separated or repeated; default: every available device)")
    group.addoption("--ember-no-reference-device", action="store_true", default=False,
                    help="do not register the numpy-backed 'ref' test device for this session")
    group.addoption("--ember-all-plugins", action="store_true", default=False,
                    help="ember's own suite also checks every installed third-party plugin "
                         "(default: only ember's built-ins; also EMBER_TEST_ALL_PLUGINS=1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "ember_device(*names): run only on these ember devices; skipped, with "
                                       "the reason, where none is available")
    config.addinivalue_line("markers", "ember_kit(kind, names=None, plugin=None): the test takes ember_case and "
                                       "runs once per (name, device, dtype) of kind 'ops', 'layers' or "
                                       "'optimizers'")
    state = {"previous_selection": _devices._selected, "enabled_reference": False,
             "previous_all_plugins": _suite.include_third_party}
    config.stash[_STATE] = state
    if config.getoption("ember_all_plugins"):
        _suite.include_third_party = True
    without_reference = config.getoption("ember_no_reference_device")
    if not without_reference and not reference_device.is_enabled():
        reference_device.enable()
        state["enabled_reference"] = True
    requested = config.getoption("ember_device")
    if without_reference and not requested:  # registered by an enclosing session: leave it out of this one
        _devices.select([n for n in _devices.available_devices() if n != reference_device.DEVICE_TYPE])
    if requested:
        names = [n.strip() for value in requested for n in value.split(",") if n.strip()]
        known = _devices.registered_devices()
        unknown = [n for n in names if n.partition(":")[0] not in known]
        if unknown:
            raise pytest.UsageError(f"--ember-device: unknown device(s) {unknown}; registered: {known}")
        _devices.select(names)


def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    _devices.select(state["previous_selection"])
    _suite.include_third_party = state["previous_all_plugins"]
    if state["enabled_reference"]:
        reference_device.disable()


def pytest_report_header(config):
    import ember
    names = ", ".join(_devices.available_devices()) or "none"
    return f"ember {ember.__version__}: devices {names}"


def _parametrized_elsewhere(metafunc, name) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",")]
        if name in argnames:
            return True
    return False


FIXTURE = "ember_device_name"


def _uses_our_device_fixture(metafunc) -> bool:
    definitions = getattr(metafunc, "_arg2fixturedefs", {}).get(FIXTURE)
    return bool(definitions) and getattr(definitions[-1].func, "__module__", None) == __name__


def _marked_devices(node) -> list[str] | None:
    marker = node.get_closest_marker("ember_device")
    if marker is None:
        return None
    return [str(n) for n in marker.args]


def _skip_reason(name) -> str | None:
    reason = _devices.unavailable_reason(name)
    if reason is not None:
        return (f"needs ember device {name!r}, which is not available here: {reason} "
                f"(available: {', '.join(_devices.available_devices()) or 'none'})")
    if name.partition(":")[0] not in _devices.available_devices():
        return f"ember device {name!r} is not selected (--ember-device={','.join(_devices._selected or [])})"
    return None


CASE_FIXTURE = "ember_case"


def _kit_names(kind, names, plugin) -> list[str]:
    if names is not None:
        return [names] if isinstance(names, str) else list(names)
    if plugin is not None:
        from .plugin_checks import plugin_items
        return [name for k, name in plugin_items(plugin) if k == kind]
    return _suite.suite_names(kind)


def _parametrize_kit_cases(metafunc):
    """One item per kit case of the ``ember_kit`` marker, each id ``name-device-dtype``."""
    marker = metafunc.definition.get_closest_marker("ember_kit")
    where = metafunc.definition.nodeid
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{where}: a test taking {CASE_FIXTURE!r} needs @pytest.mark.ember_kit(kind), "
                                f"kind one of {KINDS}")
    kind = marker.args[0]
    if kind not in KINDS:
        raise pytest.UsageError(f"{where}: @pytest.mark.ember_kit({kind!r}): kind must be one of {KINDS}")
    names = marker.args[1] if len(marker.args) > 1 else marker.kwargs.get("names")
    cases = kit_cases(kind, _kit_names(kind, names, marker.kwargs.get("plugin")))
    params = [pytest.param(case, id=case.id) for case in cases]
    if not params:
        params = [pytest.param(None, id="nothing", marks=pytest.mark.skip(
            reason=f"no {kind} to check on the selected devices "
                   f"({', '.join(_devices.available_devices()) or 'none'})"))]
    metafunc.parametrize(CASE_FIXTURE, params, indirect=True)


def pytest_generate_tests(metafunc):
    if CASE_FIXTURE in metafunc.fixturenames and not _parametrized_elsewhere(metafunc, CASE_FIXTURE):
        _parametrize_kit_cases(metafunc)
    if FIXTURE not in metafunc.fixturenames or _parametrized_elsewhere(metafunc, FIXTURE):
        return
    if not _uses_our_device_fixture(metafunc):
        return
    names = _marked_devices(metafunc.definition) or _devices.available_devices()
    params = []
    for name in names:
        reason = _skip_reason(name)
        params.append(pytest.param(name, id=name, marks=pytest.mark.skip(reason=reason)) if reason
                      else pytest.param(name, id=name))
    if not params:
        params = [pytest.param(None, id="no-device", marks=pytest.mark.skip(reason="no ember device selected"))]
    metafunc.parametrize(FIXTURE, params, indirect=True)


def pytest_runtest_setup(item):
    marked = _marked_devices(item)
    if marked is None or FIXTURE in getattr(item, "fixturenames", ()):
        return
    reasons = [r for r in (_skip_reason(n) for n in marked) if r]
    if len(reasons) == len(marked):
        pytest.skip("; ".join(reasons))


@pytest.fixture
def ember_device_name(request):
    """The ember device under test, as a string (``"cpu"``, ``"ref"``, ``"cuda"``): a test taking it runs
    once per available (or ``--ember-device``-selected) device. Given as PyTorch names a tensor's
    device: with its index (``"ref:0"``), since a tensor made on ``"ref"`` lives on ``"ref:0"``."""
    if request.param is None:
        return None
    from ..device import resolve
    return str(resolve(request.param))


@pytest.fixture
def ember_case(request):
    """One case of the conformance kit (:class:`ember.testing.cases.KitCase`: kind, name, device, dtype);
    ``ember_case.check()`` runs it. A test taking it is parametrized by its ``ember_kit`` marker."""
    return request.param


@pytest.fixture
def register_plugin():
    """``register_plugin(obj, name=None)`` registers a plugin for this test; it is unregistered after."""
    from .. import plugins
    names = []

    def register(plugin, name=None):
        info = plugins.register(plugin, name=name)
        names.append(info.name)
        return info

    yield register
    known = {i.name for i in plugins.report()}
    for name in reversed(names):
        if name in known:
            plugins.unregister(name)
