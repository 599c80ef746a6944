"""``Op(namespaces=...)`` names the public namespaces an op is bound in; ``where=``, its old spelling
(it read as the op ``where``), still loads a plugin written before the rename, with a DeprecationWarning."""

import pytest

from ember.ops import Op


def _double(input):
    return input * 2


def test_namespaces_default_to_ember_and_tensor():
    assert Op(_double, torch=None).namespaces == ("ember", "Tensor")


def test_unknown_namespace_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"unknown namespaces \['nn'\]"):
        Op(_double, namespaces=("nn",), torch=None)


def test_old_where_keyword_still_declares_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="namespaces"):
        op = Op(_double, where=("ember",), torch=None)
    assert op.namespaces == ("ember",)
    with pytest.warns(DeprecationWarning, match="namespaces"):
        assert op.where == ("ember",)

