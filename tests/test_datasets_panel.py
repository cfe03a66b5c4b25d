"""Tests of the real-data panel in lowrank_la.datasets, and of the dense reference SVDs the tests share."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import scipy.sparse

from lowrank_la import datasets as ds
from tests.svd import panel_reference

pytest.importorskip("sklearn")
pytest.importorskip("skimage")


# --------------------------------------------------------------------------- the panel


def test_panel_names_shapes_and_dtypes():
    panel = ds.real_panel()
    assert tuple(panel) == ds.PANEL == ("stdlib_tfidf", "digits", "coffee", "grass", "power_law")
    dense = {"digits": (1797, 64), "coffee": (400, 600), "grass": (512, 512)}
    for name, shape in dense.items():
        A = panel[name]
        assert type(A) is np.ndarray and A.shape == shape and A.dtype == np.float64
        assert A.flags.c_contiguous and np.isfinite(A).all()
    for name in ("coffee", "grass"):
        assert 0 <= panel[name].min() < panel[name].max() <= 1
    assert np.array_equal(panel["digits"], np.round(panel["digits"])) and panel["digits"].max() == 16
    assert np.linalg.matrix_rank(panel["digits"]) == 61
    for name in ("stdlib_tfidf", "power_law"):
        A = panel[name]
        assert isinstance(A, scipy.sparse.csr_array) and A.dtype == np.float64 and A.has_canonical_format
    X = panel["stdlib_tfidf"]
    assert X.shape[0] > 3000 and X.shape[1] > 1000  # thousands of docstrings, a sane vocabulary
    P = panel["power_law"]
    assert P.shape == (20_000, 2_000) and P.nnz == 200_000
    assert (P != ds.sparse_power_law(20_000, 2_000, nnz=200_000, exponent=2.0, rng=20240611)).nnz == 0


def test_panel_is_a_fresh_copy_each_call():
    first = ds.real_panel()
    expected_digits = ds.digits_matrix()
    expected_text = ds.stdlib_tfidf()
    first["digits"][:] = -1.0
    first["stdlib_tfidf"].data[:] = -1.0
    first["power_law"].indices[:] = 0
    second = ds.real_panel()
    assert np.array_equal(second["digits"], expected_digits)
    assert (second["stdlib_tfidf"] != expected_text).nnz == 0
    assert second["power_law"].has_canonical_format and np.unique(second["power_law"].indices).size > 1
    assert ds.real_panel()["stdlib_tfidf"] is not second["stdlib_tfidf"]


def test_panel_size_is_validated():
    with pytest.raises(ValueError, match=r"size='medium' must be one of 'small', 'large'"):
        ds.real_panel("medium")


# --------------------------------------------------------------------------- the TF-IDF matrix


def test_tfidf_invariants():
    X, terms, documents = ds.stdlib_tfidf(return_labels=True)
    names, texts = ds._stdlib_docstrings()
    assert X.shape == (len(documents), len(terms))
    assert X.data.min() > 0 and np.isfinite(X.data).all()
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)), 1.0, rtol=1e-14)
    assert list(terms) == sorted(set(terms))  # fixed, sorted vocabulary
    assert all(re.fullmatch(r"[a-z]{2,}", t) and t not in ds._STOP_WORDS for t in terms)
    df = np.bincount(X.indices, minlength=X.shape[1])
    assert df.min() >= 5 and df.max() <= 0.5 * len(texts)  # min_df=5, max_df=0.5 over all docstrings
    assert set(documents) <= set(names) and len(texts) - X.shape[0] < 0.05 * len(texts)
    assert "json.decoder.JSONDecoder.decode" in documents and "antigravity.geohash" in documents
    assert not any(name.startswith(("test.", "site-packages")) or ".tests." in name for name in documents)
    assert (ds.stdlib_tfidf() != X).nnz == 0


@pytest.mark.parametrize(("min_df", "max_df", "sublinear_tf"), [(5, 0.5, True), (2, 1.0, False)])
def test_tfidf_matches_scikit_learn(min_df, max_df, sublinear_tf):
    # an independent implementation: scikit-learn's TfidfVectorizer with the documented tokenizer and stop list
    from sklearn.feature_extraction.text import TfidfVectorizer

    X, terms, documents = ds.stdlib_tfidf(min_df=min_df, max_df=max_df, sublinear_tf=sublinear_tf,
                                          return_labels=True)
    names, texts = ds._stdlib_docstrings()
    vectorizer = TfidfVectorizer(token_pattern=r"[a-z]{2,}", stop_words=sorted(ds._STOP_WORDS), min_df=min_df,
                                 max_df=max_df, sublinear_tf=sublinear_tf, dtype=np.float64)
    Y = vectorizer.fit_transform(texts)
    assert tuple(vectorizer.get_feature_names_out()) == terms
    rows = np.flatnonzero(np.diff(Y.indptr))  # documents with a word left
    assert tuple(names[i] for i in rows) == documents
    assert abs(Y[rows] - X).max() < 1e-14


def test_tfidf_parses_without_importing_and_is_deterministic(monkeypatch):
    # 'this' prints the Zen of Python and 'antigravity' opens a web browser when imported: the builder reads
    # their files (antigravity.geohash is a row) but must import neither. The parse is run afresh (the cached
    # one may predate this test) and must give the cached result again.
    for module in ("this", "antigravity"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    names, texts = ds._stdlib_docstrings.__wrapped__()
    assert "this" not in sys.modules and "antigravity" not in sys.modules
    assert "antigravity.geohash" in names and "this" not in names  # this.py has no docstring
    assert (names, texts) == ds._stdlib_docstrings()


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"min_df": 0}, ValueError, r"min_df=0 must satisfy min_df >= 1"),
    ({"min_df": 2.5}, TypeError, r"min_df must be an integer"),
    ({"max_df": 0.0}, ValueError, r"max_df"),
    ({"max_df": 1.5}, ValueError, r"max_df"),
    ({"sublinear_tf": "yes"}, ValueError, r"sublinear_tf='yes' must be one of True, False"),
    ({"return_labels": "no"}, ValueError, r"return_labels='no' must be one of True, False"),
    ({"min_df": 10**6}, ValueError, r"min_df=1000000 and max_df=0.5 leave no word"),
])
def test_tfidf_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        ds.stdlib_tfidf(**kwargs)


# --------------------------------------------------------------------------- digits and images


def test_images_are_grayscale_in_unit_interval():
    for name in ("brick", "coffee", "grass", "gravel", "moon", "text"):
        X = ds.image_matrix(name)
        assert X.ndim == 2 and X.dtype == np.float64 and 0 <= X.min() < X.max() <= 1
    from skimage import color, data

    np.testing.assert_array_equal(ds.image_matrix("coffee"), color.rgb2gray(data.coffee()))
    np.testing.assert_allclose(ds.image_matrix("grass"), data.grass() / 255.0, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["camera", "astronaut", "nope", 3])
def test_image_name_is_validated(name):
    with pytest.raises(ValueError, match=r"name=.* must be one of 'brick', 'coffee'"):
        ds.image_matrix(name)


@pytest.mark.parametrize(("builder", "module", "package"), [
    (ds.digits_matrix, "sklearn.datasets", "scikit-learn"),
    (lambda: ds.image_matrix("coffee"), "skimage.data", "scikit-image"),
])
def test_missing_optional_dependency_names_the_extra(monkeypatch, builder, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(ImportError, match=re.escape(f"needs {package}") + r".*pip install lowrank_la\[experiments\]"):
        builder()


# --------------------------------------------------------------------------- the shared reference SVDs


def test_reference_svd_is_numpy_svd_and_persists(tmp_path, monkeypatch):
    A = ds.real_panel()["coffee"]
    first = panel_reference._load_or_compute("coffee", tmp_path)
    (path,) = tmp_path.glob("coffee-*.npz")
    U, s, Vh = first
    r = panel_reference.N_VECTORS
    assert U.shape == (400, r) and s.shape == (400,) and Vh.shape == (r, 600)
    np.testing.assert_allclose(s, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(r), atol=1e-12)
    np.testing.assert_allclose(A @ Vh.T, U * s[:r], atol=1e-10)
    assert np.all(np.abs(U).argmax(axis=0) == np.argmax(U, axis=0))  # largest entry of each column positive
    assert not any(array.flags.writeable for array in first)

    def fail(A):
        raise AssertionError("recomputed although the cache file exists")

    monkeypatch.setattr(panel_reference, "_compute", fail)
    second = panel_reference._load_or_compute("coffee", tmp_path)  # read back from the file
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    monkeypatch.undo()
    path.write_bytes(b"damaged")
    third = panel_reference._load_or_compute("coffee", tmp_path)  # a damaged file is recomputed, rewritten
    np.testing.assert_array_equal(third.s, first.s)
    with np.load(path) as stored:
        np.testing.assert_array_equal(stored["s"], first.s)


def test_reference_svd_of_digits_reconstructs_it():
    U, s, Vh = panel_reference.reference_svd("digits")
    assert panel_reference.reference_svd("digits") is panel_reference.reference_svd("digits")
    np.testing.assert_allclose((U * s) @ Vh, ds.digits_matrix(), atol=1e-10)
    with pytest.raises(ValueError, match=r"name='camera' must be one of 'stdlib_tfidf'"):
        panel_reference.reference_svd("camera")
