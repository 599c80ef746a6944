"""Fixtures for the pretrained-model tests: the weights files, or a skip naming the package to install."""

import pytest


def _weights(name):
    import ember
    try:
        return ember.hub.weights_path(name)
    except ember.hub.WeightsNotInstalledError as exc:
        pytest.skip(f"weights not installed ({exc})")


@pytest.fixture(scope="session")
def minilm_path():
    pytest.importorskip("tokenizers", reason="the minilm-l6 tokenizer needs the 'tokenizers' package")
    return _weights("minilm-l6")


@pytest.fixture(scope="session")
def efficientnet_path():
    pytest.importorskip("PIL", reason="image preprocessing needs Pillow")
    return _weights("efficientnet-lite0")


@pytest.fixture(scope="session")
def minilm(minilm_path):
    import ember
    return ember.hub.load("minilm-l6")
