"""`ember embed` and `ember classify` end to end."""

import json

import numpy as np
import pytest

from ember.cli import main


def test_embed_prints_the_similarity_table(minilm_path, capsys):
    assert main(["embed", "A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]) == 0
    out = capsys.readouterr().out
    assert "[1] A man is eating food." in out and "cosine similarity" in out
    rows = [line.split()[1:] for line in out.splitlines() if line.startswith("[") and "." not in line.split()[0][3:]]
    table = np.array([[float(v) for v in r] for r in rows[-3:]])
    assert np.allclose(np.diag(table), 1.0) and np.allclose(table, table.T) and table[0, 1] > table[0, 2]


def test_embed_json_has_sentences_similarities_and_unit_embeddings(minilm_path, capsys):
    assert main(["embed", "--json", "hello", "hi there"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sentences"] == ["hello", "hi there"] and len(doc["similarity"]) == 2
    e = np.array(doc["embeddings"])
    assert e.shape == (2, 384) and np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert doc["similarity"][0][1] == pytest.approx(float(e[0] @ e[1]), abs=1e-5)


def test_embed_with_an_unknown_model_is_a_one_line_error(capsys):
    assert main(["embed", "--model", "nope", "x"]) == 2
    assert "no model named 'nope'" in capsys.readouterr().err


def test_classify_prints_top5_with_names_and_probabilities(efficientnet_path, capsys):
    import os
    sklearn = pytest.importorskip("sklearn", reason="the sample photos come with scikit-learn")
    folder = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")
    assert main(["classify", "--json", os.path.join(folder, "china.jpg"), os.path.join(folder, "flower.jpg")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [len(r["top"]) for r in doc] == [5, 5]
    assert doc[1]["top"][0]["label"] == "daisy"
    probs = [t["probability"] for t in doc[0]["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1


def test_classify_a_missing_file_is_a_one_line_error(capsys):
    assert main(["classify", "no/such/photo.jpg"]) == 2
    assert "image file 'no/such/photo.jpg' does not exist" in capsys.readouterr().err
