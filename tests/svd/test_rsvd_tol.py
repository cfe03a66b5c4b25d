"""rsvd stopped on convergence (issue 16): the accuracy report, its honesty, the cap, complex input, Dask."""

import math
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import lowrank_la as la
from lowrank_la import ConvergenceWarning
from lowrank_la._backend import SVDAccuracyResult, as_operator
from lowrank_la.svd import DEFAULT_TOL, randomized_range_finder, rsvd


def _max_rel_error(s, exact):
    return float(np.max(np.abs(np.asarray(s) - exact) / exact))


def _tfidf_like(m=900, n=400, seed=0):
    """Word counts with Zipf-distributed term frequencies, log-scaled and idf-weighted, rows normalised."""
    gen = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n + 1) ** 1.1
    rows, cols = [], []
    for i in range(m):
        terms = gen.choice(n, size=gen.integers(5, 40), p=weights / weights.sum())
        rows.extend([i] * terms.size)
        cols.extend(terms.tolist())
    counts = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(m, n))  # duplicates summed
    counts.data = 1 + np.log(counts.data)
    df = np.bincount(counts.indices, minlength=n)
    tfidf = counts @ sp.diags_array(np.log((1 + m) / (1 + df)) + 1)
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1))).ravel()
    return sp.csr_array(sp.diags_array(1 / np.maximum(norms, 1e-300)) @ tfidf)


def _cases():
    """Real and realistic matrices: digits (fast decay), a TF-IDF-like matrix (flat), power-law sparse (gaps)."""
    out = {"tfidf": _tfidf_like(),
           "power_law": la.datasets.sparse_power_law(3000, 500, nnz=30_000, rng=1)}
    try:
        out["digits"] = la.datasets.digits_matrix()
    except ImportError:  # scikit-learn absent
        pass
    return out


CASES = _cases()
EXACT = {name: np.linalg.svd(A.toarray() if sp.issparse(A) else A, compute_uv=False) for name, A in CASES.items()}


# --------------------------------------------------------------------------- the report is honest

def test_estimate_is_honest_and_useful():
    # over matrices, k and tolerances: the true maximum relative singular-value error never exceeds twice the
    # estimate, and the estimate is within 10x of the true error in the median
    ratios = []
    for name, A in CASES.items():
        for k in (10, 20):
            for tol in (1e-2, 1e-4, 1e-7):
                res = rsvd(A, k, tol=tol, rng=k)
                true = _max_rel_error(res.s, EXACT[name][:k])
                assert res.converged and res.error_estimate <= tol, (name, k, tol)
                assert true <= 2 * res.error_estimate, (name, k, tol, true, res.error_estimate)
                if true > 1e-13:  # below, both are rounding
                    ratios.append(res.error_estimate / true)
    assert 1 / 10 <= np.median(ratios) <= 10


@pytest.mark.parametrize("kind,params", [("polynomial", {"power": 1}), ("polynomial", {"power": 0.5}),
                                         ("exponential", {"scale": 7})])
@pytest.mark.parametrize("method", ["block_krylov", "subspace"])
def test_both_methods_stop_at_tol(kind, params, method):
    s = la.datasets.spectrum(kind, 160, **params)
    A = la.datasets.matrix_with_spectrum(240, 160, s, rng=0)
    for tol in (1e-2, 1e-5):
        res = rsvd(A, 10, tol=tol, method=method, rng=1)
        true = _max_rel_error(res.s, s[:10])
        assert res.converged and res.error_estimate <= tol and true <= 2 * res.error_estimate
        U, Vh = res.U, res.Vh
        assert np.allclose(U.T @ U, np.eye(10), atol=1e-12) and np.allclose(Vh @ Vh.T, np.eye(10), atol=1e-12)
        # residuals: relative to s_1, one side exact by construction
        r = np.maximum(np.linalg.norm(A @ Vh.T - U * res.s, axis=0), np.linalg.norm(A.T @ U - Vh.T * res.s, axis=0))
        assert np.allclose(res.residuals, r / res.s[0], rtol=0.05, atol=1e-12)


def test_default_refines_while_cheap_and_keeps_the_former_accuracy():
    # fast decay: the default goes past DEFAULT_TOL while a block gains 100x, as accurate as the former fixed
    # default (7 power iterations); flat spectra stop near DEFAULT_TOL, more accurate than the former default
    s = la.datasets.spectrum("exponential", 300, scale=7)
    A = la.datasets.matrix_with_spectrum(1500, 300, s, rng=0)
    res, former = rsvd(A, 10, rng=0), rsvd(A, 10, n_iter=7, rng=0)
    assert res.tol == DEFAULT_TOL and res.converged and res.error_estimate < 1e-10
    assert _max_rel_error(res.s, s[:10]) <= max(_max_rel_error(former.s, s[:10]), 1e-12)
    tfidf = CASES["tfidf"]
    res, former = rsvd(tfidf, 20, rng=0), rsvd(tfidf, 20, n_iter=7, rng=0)
    assert _max_rel_error(res.s, EXACT["tfidf"][:20]) <= _max_rel_error(former.s, EXACT["tfidf"][:20])


def test_skipped_checks_and_the_block_tridiagonal_projection_change_nothing(monkeypatch):
    # the Rayleigh-Ritz checks a block skips, and the previous block's estimate recovered from G alone, give the
    # same stopping block as checking every block; with every check made, the estimate of the previous block
    # recovered from G equals the one its own check recorded
    from lowrank_la.svd import _rsvd

    # (no thick restarts: the block after one is always checked, and G holds only the kept vectors before it)
    monkeypatch.setattr(_rsvd, "_RESTART_BLOCKS", math.inf)
    tfidf = CASES["tfidf"]
    recorded, recovered, checks = [], [], []
    check = _rsvd._Monitor.check

    def counted(self, *args, **kwargs):
        checks.append(1)
        return check(self, *args, **kwargs)

    monkeypatch.setattr(_rsvd._Monitor, "check", counted)
    skipping = rsvd(tfidf, 20, rng=0)
    assert 2 * len(checks) < skipping.n_passes - 1  # fewer checks than blocks

    def every_check(self, s, r, mu, *, room=True, block=None, before=None):
        if before is not None and self.history:
            s0, r0, mu0 = before()
            recorded.append(self.estimate)
            recovered.append(self._estimate(s0, r0, mu0)[2])
        return check(self, s, r, mu, room=room, block=block, before=before)

    monkeypatch.setattr(_rsvd._Monitor, "due", lambda self, block: True)
    monkeypatch.setattr(_rsvd._Monitor, "check", every_check)
    full = rsvd(tfidf, 20, rng=0)
    assert len(recorded) >= 3
    np.testing.assert_allclose(recovered, recorded, rtol=1e-6)
    assert skipping.n_passes == full.n_passes
    np.testing.assert_allclose(skipping.s, full.s, rtol=1e-10)
    assert skipping.error_estimate == pytest.approx(full.error_estimate, rel=1e-6)


# --------------------------------------------------------------------------- thick restarts

def _restart_spy(monkeypatch):
    """The widths at which the tolerance-driven block Krylov restarted (a list, filled as it runs)."""
    from lowrank_la.svd import _rsvd

    widths, restart = [], _rsvd._thick_restart
    monkeypatch.setattr(_rsvd, "_thick_restart", lambda *a: widths.append(a[5]) or restart(*a))
    return widths


@pytest.mark.parametrize("name,center", [("tfidf", False), ("tfidf", True), ("power_law", False)])
def test_thick_restart_converges_to_the_same_answer(monkeypatch, name, center):
    # restarts forced at every chance (a tiny cost factor): same singular values as the unrestarted iteration and
    # LAPACK, orthonormal factors, residuals as reported; the basis never grows past its restart width
    from lowrank_la.svd import _rsvd

    A = CASES[name]
    dense = A.toarray() - (A.toarray().mean(axis=0) if center else 0)
    exact = np.linalg.svd(dense, compute_uv=False)[:10]
    monkeypatch.setattr(_rsvd, "_RESTART_BLOCKS", math.inf)
    plain = rsvd(A, 10, tol=1e-8, center=center, rng=0)
    widths = _restart_spy(monkeypatch)
    monkeypatch.setattr(_rsvd, "_RESTART_BLOCKS", 1e-9)
    res = rsvd(A, 10, tol=1e-8, center=center, rng=0, max_passes=200)
    keep, b = 10 + 2 * 16, 16
    assert len(widths) >= 2 and max(widths) <= keep + 2 * b
    assert res.converged and _max_rel_error(res.s, exact) <= 2 * res.error_estimate + 1e-13
    np.testing.assert_allclose(res.s, plain.s, rtol=1e-8)
    U, Vh = res.U, res.Vh
    assert np.allclose(U.T @ U, np.eye(10), atol=1e-12) and np.allclose(Vh @ Vh.T, np.eye(10), atol=1e-12)
    r = np.linalg.norm(dense.T @ U - Vh.T * res.s, axis=0)
    assert np.allclose(res.residuals, r / res.s[0], rtol=0.05, atol=1e-13)


def test_restarted_estimate_covers_the_error_on_a_flat_spectrum(monkeypatch):
    # a random sparse matrix (flat top), where the basis restarts at its default: the Ritz vectors a restart lets go
    # are the complement's top, which the newest block alone misses; with them as a floor for mu the estimate covers
    # the true error (measured 0.39x-0.64x; without the floor 1.0x-1.4x)
    A = sp.random(6000, 1500, density=0.004, random_state=0, format="csr")
    exact = np.linalg.svd(A.toarray(), compute_uv=False)[:40]
    widths = _restart_spy(monkeypatch)
    for seed in range(4):
        res = rsvd(A, 40, tol=1e-3, rng=seed)
        assert res.converged and _max_rel_error(res.s, exact) <= res.error_estimate, seed
    assert widths


def test_memory_budget_restarts_instead_of_stopping(monkeypatch):
    # a basis budget of 80 columns (k = 10: b = 16, 42 kept): the dense iteration (products kept, so no restart for
    # cost) restarts at the budget and converges where it used to stop with a "memory" warning, also in the last
    # passes (here all of them: max_passes=16); a budget below the kept vectors plus two blocks still stops
    import lowrank_la.svd

    s = la.datasets.spectrum("polynomial", 300, power=0.5)
    A = la.datasets.matrix_with_spectrum(600, 300, s, rng=0)
    per_column = (2 * 300 + 600) * 8
    widths = _restart_spy(monkeypatch)
    monkeypatch.setattr(lowrank_la.svd, "KRYLOV_MEMORY_BUDGET", 80 * per_column)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = rsvd(A, 10, tol=1e-6, rng=0, max_passes=16)
    assert widths and res.converged and _max_rel_error(res.s, s[:10]) <= 2 * res.error_estimate
    monkeypatch.setattr(lowrank_la.svd, "KRYLOV_MEMORY_BUDGET", 70 * per_column)
    with pytest.warns(ConvergenceWarning, match="KRYLOV_MEMORY_BUDGET"):
        rsvd(A, 10, tol=1e-6, rng=0, max_passes=200)


# --------------------------------------------------------------------------- passes, the cap, the warning

def test_passes_counted_and_capped():
    A = CASES["power_law"]
    for kwargs, extra in ((dict(), 0), (dict(center=True), 1)):
        op = as_operator(A)
        res = rsvd(op, 10, tol=1e-6, max_passes=30, rng=0, **kwargs)
        assert res.n_passes == op.n_passes <= 30
        assert res.n_passes % 2 == (1 + extra) % 2  # 2 per block, one for U (sparse, nnz < m w), centring
    with pytest.warns(ConvergenceWarning, match=r"stopped after 5 passes.*above tol=1e-12.*raise max_passes \(now 5\)"):
        res = rsvd(A, 10, tol=1e-12, max_passes=5, rng=0)
    assert not res.converged and res.error_estimate > 1e-12 and res.n_passes <= 5
    assert _max_rel_error(res.s, EXACT["power_law"][:10]) <= 2 * res.error_estimate


def test_exact_low_rank_and_k_above_the_rank_converge_quietly():
    A = la.datasets.low_rank_matrix(300, 120, 6, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in (6, 9):
            for method in ("block_krylov", "subspace"):
                res = rsvd(A, k, rng=0, method=method)
                assert res.converged and res.n_passes <= 6
                assert np.linalg.norm(A - (res.U * res.s) @ res.Vh) <= 1e-13 * np.linalg.norm(A)
        res = rsvd(A, 120, rng=0)  # the whole space
        assert np.allclose(res.s, np.linalg.svd(A, compute_uv=False), atol=1e-14)


@pytest.mark.parametrize("shape", [(600, 48), (48, 600)])
def test_narrow_dense_input_in_one_block_to_rounding(shape):
    # a short side of at most 4 default blocks (48 <= 4 * 16) is factored in one block of all of it: 2 passes,
    # the singular values to rounding (eps s_1 / s_i), the estimate honest
    A = la.datasets.matrix_with_spectrum(600, 48, np.logspace(0, -3, 48), rng=3)
    A = A if shape[0] == 600 else A.T.copy()
    exact = np.linalg.svd(A, compute_uv=False)
    eps = np.finfo(np.float64).eps
    for k in (12, 30):
        res = rsvd(A, k, rng=0)
        rel = np.abs(res.s - exact[:k]) / exact[:k]
        assert res.n_passes == 2 and res.converged
        assert np.all(rel <= 20 * eps * exact[0] / exact[:k]) and rel.max() <= 2 * res.error_estimate
        assert np.allclose(res.U.T @ res.U, np.eye(k), atol=1e-12)
        assert np.linalg.norm(A - (res.U * res.s) @ res.Vh) <= (1 + 1e-10) * np.sqrt(np.sum(exact[k:] ** 2))
    assert rsvd(A, 12, block_size=16, rng=0).n_passes > 2  # an explicit block size keeps the Krylov blocks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_no_warnings_on_ordinary_input(dtype):
    s = la.datasets.spectrum("polynomial", 200, power=1)
    A = la.datasets.matrix_with_spectrum(500, 200, s, rng=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for X in (A, sp.csr_array(A), A.T):
            res = rsvd(X, 12, rng=0)
            assert res.U.dtype == res.s.dtype == res.Vh.dtype == dtype
            assert res.converged and _max_rel_error(res.s, s[:12]) <= 2 * res.error_estimate


def test_float32_tol_below_what_it_can_verify_warns():
    s = la.datasets.spectrum("exponential", 200, scale=20)  # s_1 / s_20 = e^-1: fine; asking 1e-9 in float32 is not
    A = la.datasets.matrix_with_spectrum(400, 200, s, rng=0, dtype=np.float32)
    with pytest.warns(ConvergenceWarning, match="below what float32 can verify.*float64"):
        res = rsvd(A, 20, tol=1e-9, rng=0)
    assert not res.converged and res.n_passes < 40  # stopped when iterating could not help


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_scale_invariant(c):
    A = la.datasets.matrix_with_spectrum(200, 120, la.datasets.spectrum("polynomial", 120, power=1), rng=0)
    ref = rsvd(A, 8, tol=1e-8, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = rsvd(A * c, 8, tol=1e-8, rng=0)
    np.testing.assert_allclose(res.s / c, ref.s, rtol=1e-8)
    assert res.n_passes == ref.n_passes and np.allclose(res.residuals, ref.residuals, rtol=1e-6, atol=1e-15)


def test_same_seed_same_bits_and_input_untouched():
    A = CASES["tfidf"]
    data = A.data.copy()
    a, b = rsvd(A, 10, rng=4), rsvd(A, 10, rng=np.random.default_rng(4))
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and a.error_estimate == b.error_estimate
    assert np.array_equal(A.data, data)


# --------------------------------------------------------------------------- the result type

def test_result_unpacks_pickles_and_reports():
    A = CASES["power_law"]
    res = rsvd(A, 5, rng=0)
    U, s, Vh = res
    assert isinstance(res, la.SVDResult) and isinstance(res, SVDAccuracyResult) and len(res) == 3
    assert res.residuals.shape == (5,) and res.residuals.dtype == np.float64
    back = pickle.loads(pickle.dumps(res))
    assert type(back) is SVDAccuracyResult and back.error_estimate == res.error_estimate
    assert back.n_passes == res.n_passes and back.tol == res.tol and np.array_equal(back.residuals, res.residuals)
    assert all(np.array_equal(x, y) for x, y in zip(back, res))
    assert "error_estimate=" in repr(res) and "converged=True" in repr(res)
    fixed = rsvd(A, 5, n_iter=3, rng=0)  # a fixed depth measures nothing but its passes
    assert fixed.n_passes == 8 and fixed.error_estimate is None and fixed.converged is None
    assert fixed.residuals is None and fixed.tol is None


# --------------------------------------------------------------------------- complex input

def _complex_low_rank(m, n, r, dtype, seed=0):
    gen = np.random.default_rng(seed)
    U = np.linalg.qr(gen.standard_normal((m, r)) + 1j * gen.standard_normal((m, r)))[0]
    V = np.linalg.qr(gen.standard_normal((n, r)) + 1j * gen.standard_normal((n, r)))[0]
    s = np.linspace(1.0, 0.5, r)
    return ((U * s) @ V.conj().T).astype(dtype), s


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_exact_low_rank_recovered(dtype):
    A, s0 = _complex_low_rank(150, 90, 6, dtype)
    tol = 1e-10 if dtype == np.complex128 else 1e-5
    for X in (A, A.T.copy(), sp.csr_array(A)):
        dense = X.toarray() if sp.issparse(X) else X
        for kwargs in ({}, dict(method="subspace"), dict(n_iter=3), dict(method="block_krylov", n_iter=2),
                       dict(center=True, n_iter=4)):
            U, s, Vh = rsvd(X, 6, rng=0, **kwargs)
            assert U.dtype == Vh.dtype == dtype and s.dtype == np.finfo(dtype).dtype
            target = dense - dense.mean(axis=0) if kwargs.get("center") else dense
            assert np.linalg.norm(target - (U * s) @ Vh) <= tol * np.linalg.norm(target), kwargs
            lead = U[np.argmax(np.abs(U), axis=0), np.arange(6)]  # the sign rule: largest entry real positive
            assert np.all(lead.real > 0) and np.allclose(lead.imag, 0, atol=1e-6)
            assert np.allclose(U.conj().T @ U, np.eye(6), atol=10 * tol)
    Q = randomized_range_finder(A, 8, rng=0)
    assert Q.dtype == dtype and np.linalg.norm(A - Q @ (Q.conj().T @ A)) <= tol * np.linalg.norm(A)


def test_complex_array_api_and_refusals():
    xps = pytest.importorskip("array_api_strict")
    A, s0 = _complex_low_rank(80, 50, 4, np.complex128, seed=1)
    for kwargs in ({}, dict(n_iter=2)):
        U, s, Vh = rsvd(xps.asarray(A), 4, rng=0, **kwargs)
        assert U.dtype == xps.complex128 and np.allclose(np.asarray(s), s0, atol=1e-12)
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="A is a complex Dask array"):
        rsvd(da.from_array(A, chunks=(40, 50)), 2)
    with pytest.raises(TypeError, match="A is a complex Dask array"):
        randomized_range_finder(da.from_array(A, chunks=(40, 50)), 2)


# --------------------------------------------------------------------------- Dask

def test_dask_default_stays_lazy_and_tol_computes_per_pass():
    da = pytest.importorskip("dask.array")
    import dask

    s = la.datasets.spectrum("polynomial", 120, power=1)
    A = la.datasets.matrix_with_spectrum(300, 120, s, rng=0)
    D = da.from_array(A, chunks=(75, 120))
    lazy = rsvd(D, 8, rng=0)  # the Dask default: block Krylov at q = 4, 2 (q + 1) passes (issue 21)
    assert all(isinstance(x, da.Array) for x in lazy) and lazy.error_estimate is None and lazy.n_passes == 10
    res = rsvd(D, 8, tol=1e-6, rng=0)
    assert all(isinstance(x, da.Array) for x in res) and res.converged
    U, sv, Vh = dask.compute(*res)
    assert _max_rel_error(sv, s[:8]) <= 2 * res.error_estimate
    assert np.allclose(U.T @ U, np.eye(8), atol=1e-8) and np.allclose(U.T @ A @ Vh.T, np.diag(sv), atol=1e-8)
    local = rsvd(A, 8, tol=1e-6, rng=0)  # the same iteration in memory
    assert np.allclose(sv, local.s, rtol=1e-10) and res.n_passes >= local.n_passes


# --------------------------------------------------------------------------- the stopping test itself (_Monitor)
_EPS = float(np.finfo(np.float64).eps)


def _ritz(r1):
    """Ritz values (1, 0.1), the top one's residual `r1`, and mu = 0.01: a quadratic estimate of about r1^2."""
    return np.array([1.0, 0.1]), np.array([r1]), 0.01


def test_refinement_stops_once_the_estimate_is_below_1000_eps():
    from lowrank_la.svd._rsvd import _Monitor

    mon = _Monitor(1, 1e-3, 100, _EPS, refine=True)
    assert mon.check(*_ritz(1.5e-7))  # about 100 eps: stop, although the one check gives no gain to compare
    assert 10 * _EPS < mon.estimate <= 1000 * _EPS and not mon.limited
    fresh = _Monitor(1, 1e-3, 100, _EPS, refine=True)
    assert not fresh.check(*_ritz(1e-5))  # about 1e-10, met tol, far above 1000 eps: refine on (gain unknown)


def test_a_skipped_check_compares_against_the_block_before_it():
    from lowrank_la.svd._rsvd import _Monitor

    mon = _Monitor(1, 1e-3, 100, _EPS, refine=True)
    mon.check(*_ritz(1e-2), block=1)  # estimate about 1e-4
    calls = []

    def before():  # block 2, unchecked: estimate about 1e-9
        calls.append(2)
        return _ritz(3.2e-5)

    # block 3 (about 1e-10) gained less than REFINE_GAIN over block 2: stop, though it gained 1e6 over block 1
    assert mon.check(*_ritz(1e-5), block=3, before=before)
    assert calls == [2]
    checked = _Monitor(1, 1e-3, 100, _EPS, refine=True)
    checked.check(*_ritz(1e-2), block=1)
    assert not checked.check(*_ritz(1e-5), block=2, before=before)  # nothing skipped: a 1e6 gain, refine on
    assert calls == [2]


def test_dense_input_skips_no_check(monkeypatch):
    # on dense input a block's two products (4 m n b flops) cost more than the check of a narrow basis: no check
    # is skipped, where the sparse TF-IDF case above skips some
    from lowrank_la.svd import _rsvd

    gen = np.random.default_rng(0)
    m, n = 1200, 400
    A = (np.linalg.qr(gen.standard_normal((m, n)))[0] / np.arange(1, n + 1)) @ np.linalg.qr(
        gen.standard_normal((n, n)))[0].T
    checks = []
    check = _rsvd._Monitor.check

    def counted(self, *args, **kwargs):
        checks.append(1)
        return check(self, *args, **kwargs)

    monkeypatch.setattr(_rsvd._Monitor, "check", counted)
    res = rsvd(A, 10, tol=1e-8, method="block_krylov", rng=0)
    made = len(checks)
    checks.clear()
    monkeypatch.setattr(_rsvd._Monitor, "due", lambda self, block: True)
    every = rsvd(A, 10, tol=1e-8, method="block_krylov", rng=0)
    assert made == len(checks) >= 3 and res.n_passes == every.n_passes


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_left_vectors_stay_orthonormal_when_s_k_is_far_below_s_1(scale):
    # s_k / s_1 = 1e-4: U = A V_k / s from the Gram matrix would be orthonormal to eps s_1^2 / s_k^2 only (about
    # 2e-8), so U comes from the QR-based SVD of A V_k, whatever the scale of A
    n = 300
    s = np.concatenate([np.geomspace(1, 1e-4, 6), np.full(n - 6, 1e-7)])
    A = scale * la.datasets.matrix_with_spectrum(1000, n, s, rng=0)
    res = rsvd(A, 6, tol=1e-6, method="block_krylov", rng=0)
    assert np.abs(res.U.T @ res.U - np.eye(6)).max() < 1e-14
    np.testing.assert_allclose(res.s, scale * s[:6], rtol=1e-9)


def test_a_check_is_skipped_while_the_extrapolated_estimate_stays_above_10_tol():
    from lowrank_la.svd._rsvd import SKIP_MARGIN, _Monitor

    mon = _Monitor(1, 2e-4, 100, _EPS)
    mon.history, mon.estimate = [(1, 1e-1), (2, 1e-2)], 1e-2  # (block, estimate) of the two checks made
    # at their rate (10x per block) block 3 extrapolates to 1e-3 <= SKIP_MARGIN * tol = 2e-3: due
    assert SKIP_MARGIN * mon.tol == pytest.approx(2e-3) and mon.due(3)
    mon.history = [(1, 1e-1), (3, 1e-2)]  # 10x in two blocks: block 4 extrapolates to 10^-2.5 > 2e-3: skip it
    assert not mon.due(4)
    assert mon.due(5)  # at most one block in a row unchecked


# --------------------------------------------------------------------------- the probe of the complement

def _grid_laplacian(n):
    L1 = sp.diags_array([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], offsets=[-1, 0, 1])
    return sp.csr_array(sp.kron(L1, sp.eye_array(n)) + sp.kron(sp.eye_array(n), L1))


def test_probe_estimates_the_complements_top_from_below():
    # A = diag(d): the complement of e_1..e_5 has top d_6; four steps of the probe find it closely (a clear gap)
    from lowrank_la.svd._common import Products
    from lowrank_la.svd._rsvd import _complement_top

    d = np.concatenate([[100.0, 90, 80, 70, 60, 50], np.linspace(10, 1, 994)])
    D = sp.diags_array(d).tocsr()
    prod = Products(as_operator(D), D)
    top = _complement_top(prod, np.eye(1000)[:, :5], np.random.default_rng(0))
    assert 0.99 * 50**2 <= top <= 50**2 * (1 + 1e-12)


def test_probe_makes_the_estimate_cover_the_error_on_a_flat_spectrum(monkeypatch):
    # the 60 x 60 grid Laplacian (flat top, repeated values): the newest block's mu was about half the complement's
    # top and the true error 2.8x-4.5x the estimate (k = 10, tol=1e-3); with the probe 0.62x-0.74x, and the run says
    # that it did not reach tol within the default passes
    import lowrank_la.svd._rsvd as impl

    A = _grid_laplacian(60)
    exact = np.linalg.eigvalsh(A.toarray())[::-1][:10]
    probe, probes = impl._complement_top, []
    monkeypatch.setattr(impl, "_complement_top", lambda *args: probes.append(1) or probe(*args))
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = rsvd(A, 10, tol=1e-3, rng=seed)
        assert _max_rel_error(res.s, exact) <= 2 * res.error_estimate, seed
        assert res.n_passes <= 40  # the default cap
    assert len(probes) == 3  # once a run


def test_probe_runs_once_on_a_flat_top_only(monkeypatch):
    import lowrank_la.svd._rsvd as impl

    probes = []
    monkeypatch.setattr(impl, "_complement_top", lambda *args: probes.append(1) or 0.0)
    flat = _grid_laplacian(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rsvd(flat, 10, tol=1e-3, rng=0)
        assert len(probes) == 1
        rsvd(flat.toarray(), 10, tol=1e-3, rng=0)  # dense too
        assert len(probes) == 2
        rsvd(flat, 10, tol=1e-3, max_passes=31, rng=0)  # a cap below 32 leaves the probe no room
    rsvd(CASES["power_law"], 10, tol=1e-6, rng=0)  # a decaying top: the newest block's mu is credible
    assert len(probes) == 2
