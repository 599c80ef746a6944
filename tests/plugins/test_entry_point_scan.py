"""ember's fast entry-point scan finds what importlib.metadata finds, in the same order."""

import sys

import importlib_metadata
import pytest

from ember import entry_points


def as_rows(found):
    return [(ep.name, ep.value, ep.group) for ep in found]


@pytest.mark.parametrize("group", ["ember.plugins", "console_scripts", "pytest11"])
def test_the_scan_agrees_with_importlib_metadata_on_this_environment(group):
    fast = entry_points.find(group)
    assert fast is not None, "the fast scan gave up on this environment's sys.path"
    assert as_rows(fast) == as_rows(importlib_metadata.entry_points(group=group))


def write_dist(directory, dirname, entry_points_text, name=None, version="1.0"):
    info = directory / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name or dirname.split('-')[0]}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points_text)


def test_first_distribution_of_a_name_on_the_path_wins_and_sections_parse_as_importlib_reads_them(tmp_path,
                                                                                                   monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    write_dist(first, "Demo_Plugin-2.0.dist-info",
               "# a comment\n[other]\nx = y\n\n[ember.plugins]\n"
               "# another comment\ndemo = demo_pkg.plugin:Hooks.instance [extra]\n  spaced   =   spaced_mod  \n", version="2.0")
    write_dist(second, "demo_plugin-1.0.dist-info", "[ember.plugins]\nshadowed = old_module\n")
    write_dist(second, "unrelated-1.0.dist-info", "[console_scripts]\ntool = unrelated:main\n")
    monkeypatch.setattr(sys, "path", [str(first), str(second)])
    fast = entry_points.find("ember.plugins")
    expected = importlib_metadata.entry_points(group="ember.plugins")
    assert as_rows(fast) == as_rows(expected) == [
        ("demo", "demo_pkg.plugin:Hooks.instance [extra]", "ember.plugins"), ("spaced", "spaced_mod", "ember.plugins")]
    assert (fast[0].dist.name, fast[0].dist.version) == ("Demo_Plugin", "2.0")


def test_load_follows_the_module_and_attribute_path(tmp_path, monkeypatch):
    (tmp_path / "scan_demo_module.py").write_text("class Hooks:\n    class instance:\n        marker = 42\n")
    write_dist(tmp_path, "scan_demo-1.0.dist-info", "[ember.plugins]\ndemo = scan_demo_module:Hooks.instance\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    monkeypatch.delitem(sys.modules, "scan_demo_module", raising=False)
    (ep,) = [ep for ep in entry_points.find("ember.plugins") if ep.name == "demo"]
    assert ep.load().marker == 42


def test_a_zip_on_the_path_hands_over_to_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
    monkeypatch.setattr(sys, "path", [str(archive)] + sys.path)
    assert entry_points.find("ember.plugins") is None
