"""Regression tests for issue 15 (items 7, 8, 9, 11, 12, 16): validation of MetaFactorization, extreme scales,
accuracy of the interpolative defaults, the cross core's warning, sparse formats, zero matrices, array-API input,
the input rule and rng=."""

import warnings

import array_api_strict as xps
import numpy as np
import pytest
import scipy.linalg.interpolative as sli
import scipy.sparse as sp

from lowrank_la.factor import (
    MetaFactorization,
    RankConditionWarning,
    cur,
    cur_from_indices,
    generalized_nystrom,
    interpolative,
    mf_cpqr,
    mf_svd,
    rank_factorization,
    select_indices,
    utv,
)

from ._problems import decaying, low_rank, rel


def test_item7_metafactorization_checks_its_factors():
    F, G, H = np.ones((3, 1)), np.array([[2.0]]), np.ones((4, 1))
    with pytest.raises(ValueError, match="F must be finite"):
        MetaFactorization(np.full((3, 1), np.nan), G, H)
    with pytest.raises(ValueError, match="H must be 2-D"):
        MetaFactorization(F, G, np.ones(4))
    with pytest.raises(TypeError, match="G must hold numbers"):
        MetaFactorization(F, np.array([["a"]], dtype=object), H)
    with pytest.raises(ValueError, match="F must be non-empty"):
        MetaFactorization(np.ones((3, 0)), np.ones((0, 1)), H)
    with pytest.raises(ValueError, match=r"G.shape\[1\]=2 must equal H.shape\[1\] = 1"):
        MetaFactorization(F, np.ones((1, 2)), H)
    with pytest.raises(ValueError, match=r"Yt.shape\[1\]=4 must equal F.shape\[0\] = 3"):
        MetaFactorization(F, G, H, Yt=np.ones((1, 4)))
    mf = MetaFactorization([[1.0], [1.0], [1.0]], [[2.0]], H)  # lists follow the input rule
    assert mf.matvec(np.ones(4)).tolist() == [8.0, 8.0, 8.0]


@pytest.mark.parametrize("c", [1e-310, 1e-300, 1e300])
def test_item8_extreme_scales_are_equivariant_or_refused(c):
    A = low_rank(40, 30, 6)
    B, D, piv = rank_factorization(c * A)
    B1, D1, piv1 = rank_factorization(A)
    assert np.array_equal(piv, piv1) and np.array_equal(B, c * A[:, piv]) and np.allclose(D, D1, atol=1e-12)
    for f in (lambda M: cur(M, 6, rng=0), lambda M: mf_svd(M, 6), lambda M: mf_cpqr(M, 6),
              lambda M: utv(M, 6, variant="lu"), lambda M: interpolative(M, 6, rng=0),
              lambda M: interpolative(M, 1e-8, rand=False)):
        reference = f(A).reconstruct()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no NaN/Inf RuntimeWarning on the way
                result = f(c * A)
        except ValueError as exc:  # refused: only where a factor scales like 1/A and overflows
            assert c < 1e-300 and "too far from 1" in str(exc)
            continue
        assert np.all(np.isfinite(result.reconstruct()))
        assert rel(result.reconstruct() / c, reference) < 1e-10


def test_item8_cross_core_at_subnormal_scale_is_refused_not_nan():
    A = low_rank(40, 30, 6)
    with pytest.raises(ValueError, match=r"A has largest magnitude .* too far from 1 for the cross core"):
        cur(1e-310 * A, 6, core="cross", select="qr", rng=0)


def test_item9_interpolative_default_not_worse_than_scipy_rand():
    A = decaying(200, 160, decay=0.93, seed=3)
    for k in (10, 30):
        ours = np.mean([interpolative(A, k, rng=s).relative_error(A) for s in range(3)])
        theirs = []
        for s in range(3):
            idx, proj = sli.interp_decomp(A, k, rand=True, rng=np.random.default_rng(s))
            theirs.append(rel(sli.reconstruct_matrix_from_id(A[:, idx[:k]], idx, proj), A))
        assert ours <= 1.02 * np.mean(theirs)


@pytest.mark.parametrize("rand", [True, False])
def test_item9_precision_mode_meets_eps_in_the_spectral_norm(rand):
    A = decaying(150, 120, decay=0.9, seed=1) + 1e-3 * low_rank(150, 120, 120, seed=2) / 120
    norm = np.linalg.norm(A, 2)
    for eps in (1e-1, 1e-2, 1e-3):
        d = interpolative(A, eps, rand=rand, rng=0)
        assert np.linalg.norm(A - d.reconstruct(), 2) <= eps * norm


def test_item9_ill_conditioned_cross_core_warns():
    A = decaying(120, 100, decay=0.8, seed=1)
    with pytest.warns(RankConditionWarning, match="cross core .* is ill-conditioned"):
        d = cur(A, 20, select="uniform", core="cross", rng=0)
    assert d.info["cross_amplification"] > 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = cur_from_indices(low_rank(30, 20, 3), [0, 1, 2], [0, 1, 2], core="cross")
    assert exact.info["cross_amplification"] < 1e3


@pytest.mark.parametrize("fmt", ["coo", "dia", "bsr", "dok", "lil", "csc"])
def test_item11_every_sparse_format(fmt):
    A = low_rank(30, 20, 3)
    S = sp.csr_array(A).asformat(fmt)
    assert rel(cur(S, 3, select="qr", rng=0).reconstruct(), A) < 1e-10
    assert rel(interpolative(S, 3, rng=0).reconstruct(), A) < 1e-10
    assert rel(interpolative(S, 3, rand=False).reconstruct(), A) < 1e-10


def test_item11_zero_matrix():
    Z = np.zeros((6, 5))
    B, D, piv = rank_factorization(Z)
    assert B.shape == (6, 0) and D.shape == (0, 5) and piv.shape == (0,)
    for d in (interpolative(Z, 2, rng=0), interpolative(Z, 2, rand=False), interpolative(Z, 0.1, rng=0)):
        assert np.all(d.proj == 0) and np.all(d.reconstruct() == 0)
    assert interpolative(Z, 0.1, rand=False).k == 1  # scipy's rank for a zero matrix (its proj is NaN)


def test_item12_array_api_strict():
    A = low_rank(30, 20, 3)
    X = xps.asarray(A)
    for d in (interpolative(X, 3, rng=0), interpolative(X, 1e-8, rand=False), cur(X, 3, rng=0),
              cur(X, 3, core="cross", select="qr", rng=0), utv(X, 3), mf_svd(X, 3)):
        R = d.reconstruct()
        assert type(R) is type(X) and R.dtype == xps.float64
        assert rel(np.asarray(R), A) < 1e-10
    B, D, _ = rank_factorization(X)
    assert type(B) is type(X) and rel(np.asarray(B @ D), A) < 1e-10
    rows, cols = select_indices(X, 3, method="qr", rng=0)
    assert type(rows) is type(X)


def test_item16_input_rule():
    pd = pytest.importorskip("pandas")
    A = low_rank(20, 12, 2)
    reference = cur(A, 2, select="qr", rng=0).reconstruct()
    for given in (A.tolist(), pd.DataFrame(A), np.asmatrix(A)):
        assert rel(cur(given, 2, select="qr", rng=0).reconstruct(), reference) < 1e-12
        assert rel(interpolative(given, 2, rand=False).reconstruct(), A) < 1e-10
    for f in (lambda M: cur(M, 2), lambda M: interpolative(M, 2), lambda M: utv(M, 2),
              lambda M: rank_factorization(M)):
        with pytest.raises(TypeError, match="A must be"):
            f({"a": 1})
        with pytest.raises(TypeError, match="A must hold numbers"):
            f(np.array([["x", "y"]], dtype=object))


def test_random_state_is_refused_with_a_pointer_to_rng():
    A = low_rank(20, 12, 2)
    for f in (cur, interpolative, generalized_nystrom, select_indices):
        with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\), not random_state="):
            f(A, 2, random_state=0)
