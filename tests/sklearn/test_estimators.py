"""What the estimators compute, and how they behave in scikit-learn workflows."""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.random_projection import johnson_lindenstrauss_min_dim

from lowrank_la.sketch import FJLT, SRHT, CountSketch, SparseSign, max_distortion
from lowrank_la.sklearn import (
    CountSketchProjection,
    FJLTProjection,
    IncrementalTruncatedSVD,
    LowRankImputer,
    RandomizedTruncatedSVD,
    SparseSignProjection,
    SRHTProjection,
)
from lowrank_la.svd import rsvd

PROJECTIONS = [FJLTProjection, SRHTProjection, SparseSignProjection, CountSketchProjection]
SKETCHES = {FJLTProjection: FJLT, SRHTProjection: SRHT, SparseSignProjection: SparseSign,
            CountSketchProjection: CountSketch}


def low_rank(m=120, n=40, r=5, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ np.diag(np.linspace(3, 1, r)) @ rng.standard_normal((r, n)) + offset


# --------------------------------------------------------------------------- RandomizedTruncatedSVD

@pytest.mark.parametrize("algorithm", ["auto", "block_krylov", "subspace"])
def test_rtsvd_matches_the_dense_svd(algorithm):
    X = low_rank() + 1e-3 * np.random.default_rng(1).standard_normal((120, 40))
    X0 = X.copy()
    svd = RandomizedTruncatedSVD(5, algorithm=algorithm, random_state=0).fit(X)
    _, s, Vh = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(svd.singular_values_, s[:5], rtol=1e-6)
    np.testing.assert_allclose(np.abs(svd.components_ @ Vh[:5].T), np.eye(5), atol=1e-4)
    np.testing.assert_array_equal(X, X0)


def test_rtsvd_random_state_is_rsvds_rng():
    X = low_rank()
    svd = RandomizedTruncatedSVD(3, random_state=7).fit(X)
    np.testing.assert_array_equal(svd.components_, rsvd(X, 3, rng=7).Vh)


def test_rtsvd_variances_as_truncated_svd():
    X = low_rank(offset=2.0)
    svd = RandomizedTruncatedSVD(5, random_state=0)
    Y = svd.fit_transform(X)
    np.testing.assert_allclose(svd.explained_variance_, Y.var(axis=0), rtol=1e-8)
    np.testing.assert_allclose(svd.explained_variance_ratio_, Y.var(axis=0) / X.var(axis=0).sum(), rtol=1e-8)
    np.testing.assert_allclose(svd.transform(X), Y, atol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_rtsvd_centred_is_pca(sparse):
    X = sp.random(200, 60, density=0.1, format="csr", random_state=0)
    pca = PCA(4, svd_solver="full").fit(X.toarray())
    svd = RandomizedTruncatedSVD(4, center=True, random_state=0).fit(X if sparse else X.toarray())
    np.testing.assert_allclose(svd.explained_variance_, pca.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(svd.explained_variance_ratio_, pca.explained_variance_ratio_, rtol=1e-6)
    np.testing.assert_allclose(svd.mean_, pca.mean_, atol=1e-12)
    Z = svd.transform(X)
    assert isinstance(Z, np.ndarray)
    np.testing.assert_allclose(np.abs(Z), np.abs(pca.transform(X.toarray())), atol=1e-6)


def test_rtsvd_fraction_of_variance():
    X = low_rank(r=8) + 1e-2 * np.random.default_rng(2).standard_normal((120, 40))
    svd = RandomizedTruncatedSVD(0.9, center=True, random_state=0).fit(X)
    pca = PCA(0.9, svd_solver="full").fit(X)
    assert svd.n_components_ == pca.n_components_
    assert svd.explained_variance_ratio_.sum() >= 0.9
    assert svd.components_.shape == (svd.n_components_, 40)


def test_rtsvd_float32_and_inverse_transform():
    X = low_rank().astype(np.float32)
    svd = RandomizedTruncatedSVD(5, center=True, random_state=0).fit(X)
    Y = svd.transform(X)
    assert svd.components_.dtype == Y.dtype == svd.inverse_transform(Y).dtype == np.float32
    np.testing.assert_allclose(svd.inverse_transform(Y), X, atol=1e-4)


@pytest.mark.parametrize("normalizer", ["QR", "LU", "none"])
def test_rtsvd_power_iteration_normalizer_is_rsvds_normalizer(normalizer):
    """scikit-learn's names map onto rsvd's normalisers of the fixed-depth subspace method; others are refused."""
    X = sp.random(300, 80, density=0.1, format="csr", random_state=0)
    svd = RandomizedTruncatedSVD(6, algorithm="subspace", n_iter=3, power_iteration_normalizer=normalizer,
                                 random_state=0).fit(X)
    ref = rsvd(X, 6, method="subspace", n_iter=3, normalizer=normalizer.lower(), rng=0)
    np.testing.assert_array_equal(svd.components_, ref.Vh)
    with pytest.raises(ValueError, match="power_iteration_normalizer='lu' must be one of"):
        RandomizedTruncatedSVD(6, power_iteration_normalizer="lu").fit(X)


@pytest.mark.parametrize("bad, match", [(1.5, "n_components=1.5 must satisfy 0 < n_components < 1"),
                                        (50, "n_components=50 must satisfy 1 <= n_components <= min"),
                                        ("many", "n_components must be an integer")])
def test_rtsvd_refuses_bad_n_components(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        RandomizedTruncatedSVD(bad).fit(low_rank())


def test_fit_and_transform_refuse_nan_and_wrong_shape():
    X = low_rank()
    svd = RandomizedTruncatedSVD(3, random_state=0).fit(X)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RandomizedTruncatedSVD(3).fit(Xn)
    with pytest.raises(ValueError, match="NaN"):
        svd.transform(Xn)
    with pytest.raises(ValueError, match="X has 39 features, but RandomizedTruncatedSVD is expecting 40"):
        svd.transform(X[:, 1:])
    with pytest.raises(ValueError, match="X.shape\\[1\\]=4 must equal n_components_ = 3"):
        svd.inverse_transform(np.ones((2, 4)))


# --------------------------------------------------------------------------- IncrementalTruncatedSVD

@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_incremental_batches_smaller_than_n_components(center, sparse):
    X = low_rank(m=90, n=30, r=4, offset=1.0 if center else 0.0)  # rank 4 (after centring)
    X = sp.csr_matrix(X) if sparse else X
    ipca = IncrementalTruncatedSVD(4, center=center, random_state=0)
    for lo in range(0, 90, 3):  # batches of 3 rows, n_components = 4
        ipca.partial_fit(X[lo:lo + 3])
    dense = X.toarray() if sparse else X
    ref = dense - dense.mean(axis=0) if center else dense
    np.testing.assert_allclose(ipca.singular_values_, np.linalg.svd(ref, compute_uv=False)[:4], rtol=1e-8)
    np.testing.assert_allclose(np.abs(ipca.transform(X)), np.abs(np.linalg.svd(ref)[0][:, :4]
                                                                 * ipca.singular_values_), atol=1e-8)
    assert ipca.n_samples_seen_ == 90


def test_incremental_matches_incremental_pca_on_low_rank_data():
    X = low_rank(m=200, n=30, r=5, offset=3.0)
    ours = IncrementalTruncatedSVD(5, center=True, batch_size=40, random_state=0).fit(X)
    theirs = IncrementalPCA(5, batch_size=40).fit(X)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, atol=1e-12)


@pytest.mark.parametrize("batch_size", [30, 200])  # batches narrower / wider than the direct update's threshold
def test_incremental_dense_is_incremental_pca_on_full_rank_data(batch_size):
    # full-rank rows: every batch truncates, and the first batch's SVD must be exact (IncrementalPCA's is) for the
    # two to agree; a randomized start (the sparse path's) left the variance ~1e-6 below on the benchmark's data
    gen = np.random.default_rng(1)
    X = low_rank(m=1000, n=60, r=8, offset=2.0) + 0.3 * gen.standard_normal((1000, 60))
    ours = IncrementalTruncatedSVD(6, center=True, batch_size=batch_size, random_state=0).fit(X)
    theirs = IncrementalPCA(6, batch_size=batch_size).fit(X)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(ours.components_ @ theirs.components_.T), np.eye(6), atol=1e-8)
    # fit reads the components after its last batch only: the same as partial_fit batch by batch
    stepwise = IncrementalTruncatedSVD(6, center=True, random_state=0)
    for lo in range(0, 1000, batch_size):
        stepwise.partial_fit(X[lo:lo + batch_size])
    for name in ("components_", "singular_values_", "explained_variance_", "mean_"):
        np.testing.assert_array_equal(getattr(stepwise, name), getattr(ours, name))


def test_incremental_dense_first_batch_is_its_exact_svd():
    gen = np.random.default_rng(2)
    X = gen.standard_normal((300, 50)) + 1.0  # full rank: a randomized SVD would not be exact
    for center in (False, True):
        est = IncrementalTruncatedSVD(10, center=center, random_state=0).partial_fit(X)
        ref = X - X.mean(axis=0) if center else X
        np.testing.assert_allclose(est.singular_values_, np.linalg.svd(ref, compute_uv=False)[:10], rtol=1e-12)


def test_incremental_not_ready_before_n_components_rows():
    X = low_rank()
    ipca = IncrementalTruncatedSVD(5).partial_fit(X[:3])
    with pytest.raises(NotFittedError, match="seen 3 row"):
        ipca.transform(X)
    with pytest.raises(ValueError, match="n_samples = 3"):
        IncrementalTruncatedSVD(5).fit(X[:3])


# --------------------------------------------------------------------------- projections

@pytest.mark.parametrize("cls", PROJECTIONS)
def test_projection_is_the_sketch_operator(cls):
    X = np.random.default_rng(0).standard_normal((30, 64))
    proj = cls(16, random_state=3).fit(X)
    sketch = SKETCHES[cls](16, 64, rng=3, **proj._options(16, 30))
    np.testing.assert_allclose(proj.transform(X), sketch.apply(X), rtol=1e-12)


@pytest.mark.parametrize("cls", PROJECTIONS)
def test_projection_auto_dimension_and_distortion(cls):
    X = np.random.default_rng(0).standard_normal((60, 2048))
    proj = cls(eps=0.5, random_state=0).fit(X)
    assert proj.n_components_ == johnson_lindenstrauss_min_dim(60, eps=0.5)
    assert max_distortion(X, proj.transform(X)) < 0.5
    with pytest.raises(ValueError, match="larger than the original space with n_features=20"):
        cls(eps=0.5).fit(X[:, :20])


@pytest.mark.parametrize("cls", PROJECTIONS)
@pytest.mark.parametrize("precompute", [False, True])
def test_projection_inverse_is_the_pseudo_inverse(cls, precompute):
    X = np.random.default_rng(0).standard_normal((10, 50))
    proj = cls(20, compute_inverse_components=precompute, random_state=0).fit(X)
    Y = proj.transform(X)
    pinv = np.linalg.pinv(proj.operator_.todense())
    np.testing.assert_allclose(proj.inverse_transform(Y), Y @ pinv.T, atol=1e-10)
    if precompute:
        np.testing.assert_allclose(proj.inverse_components_, pinv, atol=1e-10)
    else:
        assert not hasattr(proj, "inverse_components_")


@pytest.mark.parametrize("cls, sparse_out", [(FJLTProjection, False), (SRHTProjection, False),
                                             (SparseSignProjection, True), (CountSketchProjection, True)])
def test_projection_sparse_input(cls, sparse_out):
    X = sp.random(40, 300, density=0.02, format="csr", random_state=0, dtype=np.float32)
    proj = cls(32, random_state=0).fit(X)
    Y = proj.transform(X)
    assert sp.issparse(Y) == sparse_out
    dense = Y.toarray() if sparse_out else Y
    assert dense.dtype == np.float32
    np.testing.assert_allclose(dense, proj.transform(X.toarray()), atol=1e-5)
    if sparse_out:
        assert not sp.issparse(cls(32, dense_output=True, random_state=0).fit_transform(X))


@pytest.mark.parametrize("cls", [FJLTProjection, SRHTProjection])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hadamard_projections_never_densify_sparse_input(cls, dtype, monkeypatch):
    X = sp.random(300, 500, density=0.01, format="csr", random_state=1, dtype=dtype)
    proj = cls(64, random_state=0).fit(X)
    S = proj.operator_
    reference = S._reduce(S._spread_rows(X.toarray()))  # the transform path, on the densified copy
    monkeypatch.setattr(S, "_spread_rows", lambda Z: pytest.fail("sparse input was densified"))
    Y = proj.transform(X)
    assert Y.dtype == dtype
    np.testing.assert_allclose(Y, reference, rtol=0, atol=(1e-12 if dtype == np.float64 else 2e-5) * abs(Y).max())
    assert ("explicit", str(np.dtype(dtype))) in S._cache  # the explicit matrix is kept for the next transform


# --------------------------------------------------------------------------- LowRankImputer

@pytest.mark.filterwarnings("ignore:altmin_complete did not reach tol")  # noisy stop at 1e-4: still accurate
def test_imputer_completes_and_transforms_new_rows():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 40)) + 5.0
    X = M.copy()
    X[rng.random(X.shape) < 0.3] = np.nan
    X0 = X.copy()
    imp = LowRankImputer(random_state=0)
    filled = imp.fit_transform(X[:200])
    np.testing.assert_array_equal(X, X0)
    seen = ~np.isnan(X[:200])
    np.testing.assert_array_equal(filled[seen], X[:200][seen])
    assert np.linalg.norm(filled - M[:200]) < 0.02 * np.linalg.norm(M[:200] - 5.0)
    new = imp.transform(X[200:])
    assert not np.isnan(new).any()
    assert np.linalg.norm(new - M[200:]) < 0.02 * np.linalg.norm(M[200:] - 5.0)
    # transform of the training rows agrees with the fitted completion (the same regressions)
    np.testing.assert_allclose(imp.transform(X[:200]), filled, atol=1e-3 * np.abs(M).max())
    # a row without observations gets the model's column values (mean + column offsets)
    empty = imp.transform(np.full((1, 40), np.nan))
    np.testing.assert_allclose(empty[0], imp.result_.mean + imp.result_.col_offsets, rtol=1e-12)


def test_imputer_refuses_sparse_and_inf():
    with pytest.raises(TypeError, match="[Ss]parse"):
        LowRankImputer().fit(sp.random(20, 10, density=0.5, format="csr", random_state=0))
    X = low_rank(m=20, n=10)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LowRankImputer().fit(X)


# --------------------------------------------------------------------------- scikit-learn workflows

def test_clone_pickle_and_set_output_pandas():
    X = pd.DataFrame(low_rank(), columns=[f"f{i}" for i in range(40)])
    for est in (RandomizedTruncatedSVD(3, random_state=0), IncrementalTruncatedSVD(3, random_state=0),
                SparseSignProjection(8, random_state=0), LowRankImputer(rank=5, reg=0.0, random_state=0)):
        twin = clone(est)
        assert twin.get_params() == est.get_params() and twin is not est
        out = est.set_output(transform="pandas").fit_transform(X)
        assert isinstance(out, pd.DataFrame) and list(out.columns) == list(est.get_feature_names_out())
        restored = pickle.loads(pickle.dumps(est))
        pd.testing.assert_frame_equal(restored.transform(X), est.transform(X))


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_grid_search_over_a_pipeline():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    pipe = make_pipeline(RandomizedTruncatedSVD(random_state=0), LogisticRegression(max_iter=500))
    grid = GridSearchCV(pipe, {"randomizedtruncatedsvd__n_components": [2, 20]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"randomizedtruncatedsvd__n_components": 20}
    assert grid.best_score_ > 0.8


def test_import_lowrank_la_does_not_import_sklearn():
    code = "import sys, lowrank_la, lowrank_la.svd, lowrank_la.sketch; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]
