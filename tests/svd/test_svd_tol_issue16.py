"""svd_tol and rand_qb, issue 16: the smallest rank that meets the tolerance, the "auto" block and power steps,
progress and callback, implicit centring, complex input, bad input."""

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import lowrank_la as la
from lowrank_la import ConvergenceWarning
from lowrank_la.svd import rand_qb, svd_tol

EPS = np.finfo(np.float64).eps


def _tails(s):
    """``tails[r] = ||A - A_r||_F / ||A||_F`` for the singular values `s`."""
    return np.append(np.sqrt(np.cumsum(s[::-1] ** 2))[::-1], 0.0) / np.linalg.norm(s)


def _optimal_rank(s, tol):
    return int(np.nonzero(_tails(s) <= tol)[0][0])


# --------------------------------------------------------------------------- the rank (item 3)

SPECTRA = [("polynomial", {"power": 2}), ("polynomial", {"power": 1}), ("polynomial", {"power": 0.5}),
           ("exponential", {"scale": 7}), ("cliff", {})]


@pytest.mark.parametrize("shape", [(300, 200), (150, 400)])
@pytest.mark.parametrize("kind, params", SPECTRA)
def test_optimal_rank_whenever_its_error_is_below_0_99_tol(kind, params, shape):
    s = la.datasets.spectrum(kind, min(shape), **params)
    A = la.datasets.matrix_with_spectrum(*shape, s, rng=0)
    tails = _tails(s)
    checked = 0
    for r in (1, 3, 8, 20, 45, 90):
        tol = tails[r] / 0.985  # the optimal rank's error is 0.985 tol: the hardest case the rule covers
        if not (0 < tol < 1 and tails[r - 1] > tol):
            continue
        for seed in (0, 1):
            res = svd_tol(A, tol, rng=seed)
            U, s_hat, Vh = res
            err = np.linalg.norm(A - (U * s_hat) @ Vh) / np.linalg.norm(A)
            assert res.converged and res.rank == r, (tol, seed, res.rank, r)
            # the indicator's absolute error ~ eps ||A||^2 is a relative error ~ eps / tol^2 in err^2
            assert err <= tol and res.error_estimate == pytest.approx(err, rel=max(1e-6, 100 * EPS / tol**2))
            checked += 1
    assert checked >= 6


@pytest.fixture(scope="module")
def small_tfidf():
    """A TF-IDF of the standard library's docstrings with the rarer words dropped (8,483 x 681): flat spectrum,
    and a dense SVD of under a second."""
    X = la.datasets.stdlib_tfidf(min_df=40)
    return X, np.linalg.svd(X.toarray(), compute_uv=False)


@pytest.mark.parametrize("tol", [0.5, 0.3, 0.1])
def test_rank_within_5_percent_of_optimal_on_real_data(small_tfidf, tol):
    panel = la.datasets.real_panel()
    cases = {"tfidf": small_tfidf}
    for name in ("digits", "coffee", "grass"):
        cases[name] = (panel[name], np.linalg.svd(panel[name], compute_uv=False))
    for name, (A, s) in cases.items():
        res = svd_tol(A, tol, rng=0)
        U, s_hat, Vh = res
        dense = A.toarray() if sp.issparse(A) else A
        err = np.linalg.norm(dense - (U * s_hat) @ Vh) / np.linalg.norm(s)
        optimal = _optimal_rank(s, tol)
        assert err <= tol and optimal <= res.rank <= 1.05 * optimal, (name, res.rank, optimal)


def test_auto_block_grows_with_the_rank_and_fixed_blocks_stay_fixed():
    s = la.datasets.spectrum("exponential", 300, scale=30)  # steep: no flat-spectrum sizing
    A = la.datasets.matrix_with_spectrum(400, 300, s, rng=0)
    seen = []
    res = svd_tol(A, 1e-4, callback=lambda rank, err: seen.append((rank, err)), rng=0)
    ranks = [r for r, _ in seen]
    widths = np.diff([0] + ranks)
    # max(10, ceil(rank / 4)) while the tolerance is not met, then the QB-optimal rank + 10
    assert list(widths[:6]) == [10, 10, 10, 10, 10, 13]
    assert all(w == max(10, -(-r // 4)) for r, w in zip(ranks[:-2], widths[1:-1]))
    errors = [e for _, e in seen]
    met = int(np.argmax(np.array(errors) <= 1e-4))  # the first block meeting the tolerance
    assert np.all(np.diff(errors) < 0) and errors[met - 1] > 1e-4 and met >= len(seen) - 2
    assert res.rank == _optimal_rank(s, 1e-4) and ranks[-1] >= res.rank + 10
    seen.clear()
    svd_tol(A, 1e-4, block_size=10, n_power=1, callback=lambda rank, err: seen.append(rank), rng=0)
    assert all(r % 10 == 0 for r in seen[:-1])


def test_callback_and_progress(monkeypatch, capsys):
    A = la.datasets.matrix_with_spectrum(200, 120, la.datasets.spectrum("polynomial", 120, power=1), rng=0)
    seen = []
    res = svd_tol(A, 0.05, callback=lambda rank, err: seen.append((rank, err)), rng=0)
    assert seen[0][1] > 0.05 >= res.error_estimate >= seen[-1][1]  # the truncation adds to the QB error
    with pytest.raises(TypeError, match="callback must be callable"):
        svd_tol(A, 0.05, callback=3)
    pytest.importorskip("tqdm")
    svd_tol(A, 0.05, progress=True, rng=0)
    assert "svd_tol" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # tqdm not installed: one line per block
    again = svd_tol(A, 0.05, progress=True, rng=0)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(seen) and lines[-1].startswith(f"svd_tol: rank {seen[-1][0]}, error estimate")
    assert again.rank == res.rank


# --------------------------------------------------------------------------- centring (item 4)

def _offset_low_rank(m=150, n=80, rank=8, dtype=np.float64):
    rng = np.random.default_rng(1)
    A = la.datasets.low_rank_matrix(m, n, rank, rng=0) + 3.0 + rng.standard_normal(n)  # column offsets
    return A.astype(dtype)


@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "operator"])
def test_center_matches_the_explicitly_centred_matrix(kind):
    A = _offset_low_rank()
    Ac = A - A.mean(axis=0)
    X = {"dense": A, "csr": sp.csr_array(A), "csc": sp.csc_array(A), "operator": aslinearoperator(A)}[kind]
    copy = A.copy()
    for tol in (1e-6, 0.3):
        got, want = svd_tol(X, tol, center=True, rng=3), svd_tol(Ac, tol, rng=3)
        assert got.rank == want.rank and got.rank == (8 if tol == 1e-6 else got.rank)
        for x, y in zip(got, want):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
        # at 1e-6 the error is rounding (~sqrt(eps) through the indicator), at 0.3 an error of the approximation
        assert got.error_estimate == pytest.approx(want.error_estimate, rel=1e-6, abs=1e-7)
    for kw in ({"rank": 8}, {"tol": 1e-6}, {"tol": 0.3, "n_power": 1}):
        got, want = rand_qb(X, center=True, rng=3, **kw), rand_qb(Ac, rng=3, **kw)
        assert got.rank == want.rank
        np.testing.assert_allclose(got.Q, want.Q, rtol=0, atol=1e-10)
        np.testing.assert_allclose(got.B, want.B, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(A, copy)


def test_centred_norm_of_sparse_input_has_no_cancellation():
    # columns of mean 1e6 and spread 1: ||A||_F^2 - m ||mu||^2 would lose every digit; the stored entries
    # summed as |a_ij - mu_j|^2, with (m - nnz_j) mu_j^2 for the absent ones, lose none
    rng = np.random.default_rng(0)
    m, n = 300, 40
    A = sp.random_array((m, n), density=0.3, format="csr", random_state=rng, dtype=np.float64)
    A.data = 1e6 + rng.standard_normal(A.nnz)
    Ac = A.toarray() - A.toarray().mean(axis=0)
    res = rand_qb(A, tol=0.5, center=True, block_size=1, rng=0)
    true = np.linalg.norm(Ac - res.Q @ res.B) / np.linalg.norm(Ac)
    assert res.error_estimate == pytest.approx(true, rel=1e-6)
    A.data[:5] = 0.0  # explicit zeros are entries like the others
    Ac = A.toarray() - A.toarray().mean(axis=0)
    res = svd_tol(A, 0.5, center=True, rng=0)
    true = np.linalg.norm(Ac - (res.U * res.s) @ res.Vh) / np.linalg.norm(Ac)
    assert res.error_estimate == pytest.approx(true, rel=1e-6)


def test_center_on_dask():
    da = pytest.importorskip("dask.array")
    A = _offset_low_rank()
    Ac = A - A.mean(axis=0)
    D = da.from_array(A, chunks=(50, 40))
    res = svd_tol(D, 1e-6, center=True, rng=0)
    U, s, Vh = (np.asarray(x) for x in res)
    assert res.rank == 8 and np.linalg.norm(Ac - (U * s) @ Vh) <= 1e-12 * np.linalg.norm(Ac)
    qb = rand_qb(D, tol=1e-6, center=True, rng=0)
    assert qb.rank == 8 and np.linalg.norm(Ac - np.asarray(qb.Q @ qb.B)) <= 1e-12 * np.linalg.norm(Ac)


# --------------------------------------------------------------------------- complex input (item 5)

def _complex_low_rank(dtype=np.complex128, m=120, n=90, rank=7):
    rng = np.random.default_rng(2)
    L = rng.standard_normal((m, rank)) + 1j * rng.standard_normal((m, rank))
    R = rng.standard_normal((rank, n)) + 1j * rng.standard_normal((rank, n))
    return (L @ R).astype(dtype)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
@pytest.mark.parametrize("kind", ["dense", "csr", "operator"])
def test_complex_low_rank_recovered_with_dtype_kept(dtype, kind):
    A = _complex_low_rank(dtype)
    X = {"dense": A, "csr": sp.csr_array(A), "operator": aslinearoperator(A)}[kind]
    acc = 1e-10 if dtype == np.complex128 else 1e-5
    real = np.float64 if dtype == np.complex128 else np.float32
    res = svd_tol(X, 1e-4, rng=0)
    U, s, Vh = res
    assert res.rank == 7 and U.dtype == Vh.dtype == dtype and s.dtype == real
    A128 = A.astype(np.complex128)
    assert np.linalg.norm(A128 - (U * s) @ Vh) <= acc * np.linalg.norm(A128)
    np.testing.assert_allclose(s, np.linalg.svd(A128, compute_uv=False)[:7], rtol=acc)
    assert np.allclose(U.conj().T @ U, np.eye(7), atol=10 * acc)
    # the sign rule: the largest-magnitude entry of each column of U is real and positive
    top = U[np.argmax(np.abs(U), axis=0), np.arange(7)]
    assert np.all(np.abs(top.imag) <= acc) and np.all(top.real > 0)
    for kw in ({"tol": 1e-4}, {"rank": 7, "n_power": 1}):
        qb = rand_qb(X, rng=0, **kw)
        assert qb.rank == 7 and qb.Q.dtype == qb.B.dtype == dtype
        assert np.linalg.norm(A128 - qb.Q @ qb.B) <= acc * np.linalg.norm(A128)
        np.testing.assert_allclose(qb.B, qb.Q.conj().T @ A, atol=10 * acc * np.abs(A).max())


def test_complex_generic_backends(xp_dense_backend):
    A = _complex_low_rank()
    X = xp_dense_backend.asarray(A)
    res = svd_tol(X, 1e-6, rng=0)
    U, s, Vh = (xp_dense_backend.tonumpy(x) for x in res)
    assert res.rank == 7 and U.dtype == np.complex128
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1e-10 * np.linalg.norm(A)
    qb = rand_qb(X, tol=1e-6, rng=0)
    QB = xp_dense_backend.tonumpy(qb.Q) @ xp_dense_backend.tonumpy(qb.B)
    assert np.linalg.norm(A - QB) <= 1e-10 * np.linalg.norm(A)


def test_complex_dask_is_refused_like_rsvd():
    da = pytest.importorskip("dask.array")
    D = da.from_array(_complex_low_rank(), chunks=(40, 30))
    with pytest.raises(TypeError, match="complex Dask array"):
        svd_tol(D, 1e-6)
    with pytest.raises(TypeError, match="complex Dask array"):
        rand_qb(D, rank=3)


def test_complex_centred():
    A = _complex_low_rank() + (1 + 2j)
    Ac = A - A.mean(axis=0)
    for X in (A, sp.csr_array(A)):
        got, want = svd_tol(X, 1e-6, center=True, rng=1), svd_tol(Ac, 1e-6, rng=1)
        assert got.rank == want.rank == 7
        for x, y in zip(got, want):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)
        got, want = rand_qb(X, rank=7, center=True, rng=1), rand_qb(Ac, rank=7, rng=1)
        np.testing.assert_allclose(got.Q @ got.B, want.Q @ want.B, rtol=0, atol=1e-10 * np.abs(Ac).max())


# --------------------------------------------------------------------------- bad input

def test_bad_input_names_the_argument_and_the_range():
    A = _offset_low_rank(40, 30)
    for tol in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"tol={tol!r} must satisfy 0 < tol < 1"):
            svd_tol(A, tol)
        with pytest.raises(ValueError, match=rf"tol={tol!r} must satisfy 0 < tol < 1"):
            rand_qb(A, tol=tol)
    with pytest.raises(ValueError, match="tol=0.0 must satisfy 0 < tol"):
        svd_tol(A, 0.0, relative=False)
    with pytest.raises(ValueError, match="block_size=0 must satisfy block_size >= 1"):
        svd_tol(A, 0.1, block_size=0)
    with pytest.raises(ValueError, match="block_size=0 must satisfy block_size >= 1"):
        rand_qb(A, rank=3, block_size=0)
    with pytest.raises(ValueError, match="block_size='big' must be one of 'auto'"):
        svd_tol(A, 0.1, block_size="big")
    with pytest.raises(ValueError, match="n_power=-1 must satisfy n_power >= 0"):
        svd_tol(A, 0.1, n_power=-1)
    with pytest.raises(ValueError, match="max_rank=0 must satisfy 1 <= max_rank <= min"):
        svd_tol(A, 0.1, max_rank=0)
    with pytest.raises(ValueError, match="center='yes' must be one of False, True"):
        svd_tol(A, 0.1, center="yes")
    with pytest.raises(ValueError, match="center=None must be one of False, True"):
        rand_qb(A, rank=2, center=None)
    with pytest.raises(ValueError, match="progress='yes' must be one of False, True"):
        svd_tol(A, 0.1, progress="yes")
    with pytest.raises(TypeError, match="block_size must be an integer"):
        rand_qb(A, rank=2, block_size="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert svd_tol(A, 0.1, block_size=1, n_power=0, rng=0).converged
