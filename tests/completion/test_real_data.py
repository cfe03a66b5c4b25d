"""altmin_complete on data as users hold it: missing values, masks, DataFrames; the model chosen from held-out
entries; soft-impute; the divergence guard; the result's fill/predict; bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._backend import ConvergenceWarning
from lowrank_la.completion import CompletionResult, altmin_complete, completion_error
from lowrank_la.datasets import incoherent_low_rank


def _noisy(m=80, n=60, k=3, p=0.5, noise=0.05, seed=0):
    """Rank-k signal with entries of order 1, Gaussian noise, and a random observed mask."""
    M = incoherent_low_rank(m, n, k, rng=seed) * np.sqrt(m * n / k)
    g = np.random.default_rng(seed + 100)
    X = M + noise * g.standard_normal(M.shape)
    observed = g.random(M.shape) < p
    return M, X, observed


def _hidden_error(res, M, observed):
    return np.linalg.norm((res.to_dense() - M)[~observed]) / np.linalg.norm(M[~observed])


# --------------------------------------------------------------------------- input forms

def test_every_input_form_gives_the_same_model():
    M, X, observed = _noisy()
    Xn = np.where(observed, X, np.nan)
    rows, cols = np.nonzero(observed)
    kw = dict(rank=3, reg=0.01, offsets=True, rng=0)
    ref = altmin_complete(rows, cols, X[rows, cols], X.shape, **kw)
    pd = pytest.importorskip("pandas")
    garbage = np.where(observed, X, 1e3)  # unobserved entries hold anything when a mask is given
    for data, extra in ((Xn, {}), (garbage, {"mask": observed}), (pd.DataFrame(Xn), {}), (Xn.tolist(), {}),
                        (sp.csr_array((X[rows, cols], (rows, cols)), shape=X.shape), {})):
        res = altmin_complete(data, **kw, **extra)
        np.testing.assert_allclose(res.to_dense(), ref.to_dense(), rtol=1e-10, atol=1e-12)
    # the rank as the second positional argument of a matrix (dense or sparse), as before
    res = altmin_complete(Xn, 3, reg=0.01, offsets=True, rng=0)
    np.testing.assert_array_equal(res.to_dense(), ref.to_dense())


def test_fill_completes_a_copy_and_keeps_the_observed_entries():
    M, X, observed = _noisy()
    Xn = np.where(observed, X, np.nan)
    before = Xn.copy()
    res = altmin_complete(Xn, rank=3, reg=0.01, rng=0)
    assert isinstance(res, CompletionResult)
    filled = res.fill(Xn)
    np.testing.assert_array_equal(Xn, before)  # never modified
    assert filled is not Xn and np.all(np.isfinite(filled))
    np.testing.assert_array_equal(filled[observed], X[observed])
    np.testing.assert_allclose(filled[~observed], res.to_dense()[~observed], rtol=1e-12)
    rows, cols = np.nonzero(~observed)
    np.testing.assert_allclose(res.predict(rows, cols), filled[rows, cols], rtol=1e-12)
    # with a mask: the unobserved entries are replaced whatever they hold
    np.testing.assert_allclose(res.fill(np.where(observed, X, 7.0), mask=observed), filled, rtol=1e-12)
    # float32 stays float32, the model in float32 too
    res32 = altmin_complete(Xn.astype(np.float32), rank=3, reg=0.01, rng=0)
    assert res32.U.dtype == np.float32 and res32.fill(Xn.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(res32.to_dense(), res.to_dense(), atol=1e-3 * np.abs(M).max())


def test_fill_keeps_dataframes_and_array_namespaces():
    pd = pytest.importorskip("pandas")
    M, X, observed = _noisy(40, 30, 2)
    df = pd.DataFrame(np.where(observed, X, np.nan), index=[f"u{i}" for i in range(40)],
                      columns=[f"i{j}" for j in range(30)])
    res = altmin_complete(df, rank=2, reg=0.01, rng=0)
    out = res.fill(df)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(df.index) and out.notna().all().all()
    assert df.isna().to_numpy().sum() == (~observed).sum()  # the caller's frame still has its NaN
    xp = pytest.importorskip("array_api_strict")
    Xs = xp.asarray(np.where(observed, X, np.nan))
    res = altmin_complete(Xs, rank=2, reg=0.01, rng=0)
    assert type(res.U) is type(Xs)
    filled = res.fill(Xs)
    assert type(filled) is type(Xs)
    np.testing.assert_allclose(np.asarray(filled)[observed], X[observed])


def test_model_with_offsets_fills_with_them():
    # a pure offsets matrix (rank 0 beyond them): the offsets carry it, fill includes them
    g = np.random.default_rng(0)
    a, b = g.standard_normal(50), g.standard_normal(40)
    X = 3.0 + a[:, None] + b[None, :] + 0.01 * g.standard_normal((50, 40))
    observed = g.random(X.shape) < 0.6
    res = altmin_complete(np.where(observed, X, np.nan), offsets=True, rng=0)
    assert res.offsets and abs(res.mean - X[observed].mean()) < 1e-12
    exact = 3.0 + a[:, None] + b[None, :]
    assert np.linalg.norm((res.fill(np.where(observed, X, np.nan)) - exact)[~observed]) \
        < 0.05 * np.linalg.norm((exact - exact.mean())[~observed])


# --------------------------------------------------------------------------- bad input

def test_bad_input_is_refused_naming_the_argument():
    M, X, observed = _noisy(30, 20, 2)
    Xn = np.where(observed, X, np.nan)
    with pytest.raises(ValueError, match="mask has shape"):
        altmin_complete(X, mask=observed[:, :-1])
    with pytest.raises(TypeError, match="mask must be a boolean"):
        altmin_complete(X, mask=observed.astype(int))
    with pytest.raises(ValueError, match="X has no observed entry"):
        altmin_complete(np.full((5, 4), np.nan))
    with pytest.raises(ValueError, match="X has no observed entry"):
        altmin_complete(X, mask=np.zeros_like(observed))
    with pytest.raises(ValueError, match="that mask marks as observed"):
        altmin_complete(Xn, mask=np.ones_like(observed))
    bad = Xn.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="X holds 1 infinite"):
        altmin_complete(bad)
    rows, cols = np.nonzero(observed)
    with pytest.raises(ValueError, match="rows holds the index 30, out of range"):
        altmin_complete(np.append(rows, 30), np.append(cols, 0), np.append(X[rows, cols], 1.0), X.shape)
    vals = X[rows, cols].copy()
    vals[3] = np.nan
    with pytest.raises(ValueError, match="vals must be finite"):
        altmin_complete(rows, cols, vals, X.shape)
    with pytest.raises(ValueError, match=r"rank=21 must satisfy 1 <= rank <= min\(m, n\) = 20"):
        altmin_complete(Xn, rank=21)
    with pytest.raises(ValueError, match="max_rank="):
        altmin_complete(Xn, max_rank=0)
    with pytest.raises(ValueError, match="method="):
        altmin_complete(Xn, method="svt")
    with pytest.raises(ValueError, match="reg="):
        altmin_complete(Xn, reg="best")
    with pytest.raises(ValueError, match="holdout="):
        altmin_complete(Xn, holdout=0.9)
    with pytest.raises(TypeError, match="mask is for a dense matrix"):
        altmin_complete(sp.csr_array(np.nan_to_num(Xn)), mask=observed)
    with pytest.raises(TypeError, match="not both"):
        altmin_complete(Xn, 2, rank=2)
    with pytest.raises(TypeError, match="complex"):
        altmin_complete(Xn + 1j)
    with pytest.raises(ValueError, match="X must be 2-D"):
        altmin_complete(np.ones(5))


def test_rows_and_columns_without_observations_get_zero_factors_never_nan():
    M, X, observed = _noisy(40, 30, 2)
    observed[5] = False
    observed[:, 7] = False
    Xn = np.where(observed, X, np.nan)
    for kw in (dict(rank=2, reg=0.0), dict(rank=2, reg=0.05), dict(), dict(method="softimpute", reg=0.05)):
        with pytest.warns(UserWarning, match="1 row.*1 column"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = altmin_complete(Xn, rng=0, **kw)
        assert np.all(res.U[5] == 0) and np.all(res.V[7] == 0)
        filled = res.fill(Xn)
        assert np.all(np.isfinite(filled))
        # the empty row is completed by the offsets alone (mean + its column offsets), 0 without offsets
        np.testing.assert_allclose(filled[5], res.mean + res.row_offsets[5] + res.col_offsets, atol=1e-12)
        assert res.row_offsets[5] == 0 and res.col_offsets[7] == 0


# --------------------------------------------------------------------------- chosen from the data

def test_auto_beats_unregularised_altmin_and_says_what_it_chose():
    M, X, observed = _noisy(100, 80, 3, p=0.3, noise=0.3, seed=1)
    Xn = np.where(observed, X, np.nan)
    res = altmin_complete(Xn, rng=0)
    assert res.converged and res.holdout_error > 0 and res.selection
    best = min(res.selection, key=lambda c: c["holdout_error"])
    assert (res.method, res.reg) == (best["method"], best["reg"]) and res.reg > 0
    err = _hidden_error(res, M, observed)
    # rank 8 without regularisation over-fits the noise: the guard or the iteration cap warns, the error is larger
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = altmin_complete(Xn, rank=8, reg=0.0, offsets=False, rng=0)
    assert err < 0.5 * _hidden_error(plain, M, observed)
    # and the model is near the truth at this noise level (measured 0.17)
    assert err < 0.3


def test_choice_is_seeded_and_scale_equivariant():
    M, X, observed = _noisy(60, 50, 2, noise=0.1, seed=2)
    Xn = np.where(observed, X, np.nan)
    a = altmin_complete(Xn, rng=3)
    b = altmin_complete(Xn, rng=3)
    np.testing.assert_array_equal(a.to_dense(), b.to_dense())
    c = altmin_complete(Xn * 2.0**-600, rng=3)  # a power of two: exactly the same arithmetic
    assert (c.method, c.rank, c.reg) == (a.method, a.rank, a.reg)
    np.testing.assert_array_equal(c.to_dense(), a.to_dense() * 2.0**-600)


@pytest.mark.parametrize("solver", ["exact", "cg", "sketch"])
def test_default_call_recovers_exact_low_rank_data(solver):
    # the exact-recovery claim holds for the default (everything chosen) call too: the path ends at reg = 0
    # and the offsets are dropped there (they would bias an exactly low-rank fit)
    M = incoherent_low_rank(100, 90, 3, condition_number=3.0, rng=5)
    observed = np.random.default_rng(6).random(M.shape) < 0.35
    Xn = np.where(observed, M, np.nan)
    res = altmin_complete(Xn, solver=solver, solver_tol=1e-12, tol=1e-12, rng=0)
    assert (res.rank, res.reg, res.offsets) == (3, 0.0, False)
    assert np.linalg.norm(res.to_dense() - M) <= 1e-8 * np.linalg.norm(M)
    rows, cols = np.nonzero(observed)
    res = altmin_complete(rows, cols, M[rows, cols], M.shape, 3, solver=solver, solver_tol=1e-12, tol=1e-12, rng=0)
    assert res.reg == 0.0 and np.linalg.norm(res.to_dense() - M) <= 1e-8 * np.linalg.norm(M)


# --------------------------------------------------------------------------- soft-impute

def _dense_softimpute(X, observed, lam, iters=3000):
    """Reference: the soft-impute iteration with dense SVDs, to convergence."""
    Z = np.zeros_like(X)
    for _ in range(iters):
        U, s, Vt = np.linalg.svd(np.where(observed, X, Z), full_matrices=False)
        Z_new = (U * np.maximum(s - lam, 0)) @ Vt
        if np.linalg.norm(Z_new - Z) <= 1e-12 * np.linalg.norm(Z_new):
            return Z_new
        Z = Z_new
    return Z


def test_softimpute_matches_the_dense_iteration_and_never_densifies(monkeypatch):
    from scipy.sparse.linalg import LinearOperator

    import lowrank_la.svd as svd_pkg

    M, X, observed = _noisy(60, 40, 3, p=0.6, noise=0.05, seed=3)
    seen = []
    real_rsvd = svd_pkg.rsvd

    def spy(A, k, **kw):
        seen.append(A if sp.issparse(A) else type(A))
        return real_rsvd(A, k, **kw)

    monkeypatch.setattr(svd_pkg, "rsvd", spy)
    res = altmin_complete(np.where(observed, X, np.nan), method="softimpute", reg=0.05, offsets=False, tol=1e-10,
                          stall_tol=0.0, n_iter=2000, rng=0)
    assert sp.issparse(seen[0])  # sigma_1 of the sparse observations; then every step on an operator
    assert len(seen) == res.n_iter + 1 and all(issubclass(t, LinearOperator) for t in seen[1:])
    assert res.method == "softimpute" and res.converged
    lam = 0.05 * np.linalg.norm(np.where(observed, X, 0.0), 2)
    ref = _dense_softimpute(X, observed, lam)
    assert np.linalg.norm(res.to_dense() - ref) <= 1e-5 * np.linalg.norm(ref)
    assert res.rank == np.linalg.matrix_rank(ref, tol=1e-8 * np.linalg.norm(ref, 2))


def test_auto_method_is_the_held_out_winner():
    M, X, observed = _noisy(70, 60, 4, p=0.4, noise=0.2, seed=4)
    res = altmin_complete(np.where(observed, X, np.nan), rng=1)
    methods = {c["method"] for c in res.selection}
    assert methods == {"altmin", "softimpute"}
    assert res.holdout_error == min(c["holdout_error"] for c in res.selection)


# --------------------------------------------------------------------------- divergence and early stopping

def test_divergence_guard_stops_with_advice():
    # 30 columns, 30% observed, noisy, rank 8 without regularisation: the factors grow without bound (the
    # situation of scikit-learn's digits at rank 10, where the hidden entries came out 182x the data's scale)
    M, X, observed = _noisy(150, 30, 2, p=0.3, noise=0.5, seed=5)
    Xn = np.where(observed, X, np.nan)
    with pytest.warns(ConvergenceWarning, match="grew without bound.*reg='auto'"):
        res = altmin_complete(Xn, rank=8, reg=0.0, n_iter=200, rng=0)
    assert res.stop == "diverged" and not res.converged
    assert np.all(np.isfinite(res.fill(Xn)))
    # the iterate before the growth: within 10x the data's scale
    assert np.linalg.norm(res.s) <= 10 * np.linalg.norm(X[observed]) / np.sqrt(observed.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        auto = altmin_complete(Xn, rng=0)  # what the warning advises: no warning, a far better completion
    assert _hidden_error(auto, M, observed) < 0.2 * _hidden_error(res, M, observed)


def test_holdout_with_given_rank_stops_early_and_warns():
    M, X, observed = _noisy(60, 60, 2, p=0.2, noise=0.5, seed=6)
    Xn = np.where(observed, X, np.nan)
    with pytest.warns(ConvergenceWarning, match="held-out entries rose"):
        res = altmin_complete(Xn, rank=10, reg=0.0, holdout=0.2, n_iter=100, rng=0)
    assert res.stop == "holdout" and res.holdout_error > 0
    history = res.history["holdout"]
    # the returned iterate is the best one (improvements below 1e-4 relative do not count), then it rose
    assert min(history) <= res.holdout_error <= min(history) * (1 + 1e-4) and history[-1] > res.holdout_error


# --------------------------------------------------------------------------- the CG warm start at k >= 12

@pytest.mark.parametrize(("solver", "maxiter"), [("cg", 4), ("sketch", 3), ("exact", 1)])
def test_k12_with_few_inner_steps_recovers(solver, maxiter):
    # k = 12 is where 4 CG steps no longer solve a k x k system from scratch, so CG needs its warm start:
    # measured, the correct one reaches 4e-13; the previous iterate rotated by R instead of R^T stalls at 2e-6
    # (U half-step only) or 3e-6 (both half-steps), while the k <= 4 tests pass with either
    m = n = 150
    k = 12
    M, Ut, st, Vt = incoherent_low_rank(m, n, k, condition_number=2.0, rng=7, return_factors=True)
    lin = np.random.default_rng(8).choice(m * n, int(0.4 * m * n), replace=False)
    rows, cols = np.divmod(lin, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = altmin_complete(rows, cols, M[rows, cols], M.shape, k, reg=0.0, solver=solver, solver_maxiter=maxiter,
                              solver_tol=1e-13, tol=1e-13, n_iter=60, truth=(Ut, st, Vt), rng=0)
    assert min(res.history["error"]) < 1e-8
    assert completion_error(res.U, res.V, (Ut, st, Vt)) < 1e-8


# --------------------------------------------------------------------------- the recommender generator

def test_ratings_matrix_is_the_documented_model():
    from lowrank_la.datasets import ratings_matrix

    R, model = ratings_matrix(3000, 800, 30000, rank=4, noise=0.0, rng=0, return_model=True)
    assert sp.issparse(R) and R.format == "csr" and R.shape == (3000, 800) and R.nnz == 30000
    C = R.tocoo()
    exact = model["mean"] + model["row_offsets"][C.row] + model["col_offsets"][C.col] \
        + np.einsum("tk,tk->t", model["L"][C.row], model["R"][C.col])
    np.testing.assert_allclose(C.data, exact, rtol=1e-12)
    users, items = np.diff(R.indptr), np.bincount(C.col, minlength=800)
    assert users.max() > 20 * users.mean() and items.max() > 5 * items.mean()  # power-law degrees
    noisy = ratings_matrix(3000, 800, 30000, rank=4, noise=0.5, rng=0)
    assert 0.4 < np.std(noisy.data - R.data) < 0.6
    np.testing.assert_array_equal(ratings_matrix(300, 80, 900, rng=1).data, ratings_matrix(300, 80, 900, rng=1).data)
    assert ratings_matrix(300, 80, 900, rng=1, dtype="float32").dtype == np.float32
    with pytest.raises(ValueError, match="n_obs"):
        ratings_matrix(10, 10, 101)
    with pytest.raises(ValueError, match="rank"):
        ratings_matrix(10, 10, 50, rank=11)
    with pytest.raises(ValueError, match="noise"):
        ratings_matrix(10, 10, 50, noise=-1.0)


def test_recommender_default_beats_the_offsets_alone():
    from lowrank_la.datasets import ratings_matrix

    R = ratings_matrix(3000, 600, 45000, rank=5, rng=2).tocoo()
    test = np.random.default_rng(3).random(R.nnz) < 0.1
    train = sp.csr_array((R.data[~test], (R.row[~test], R.col[~test])), shape=R.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # users without a training rating
        res = altmin_complete(train, rng=0)
        base = altmin_complete(train, method="softimpute", reg=1.0, offsets=True, rng=0)  # the offsets alone
    rmse = np.sqrt(np.mean((res.predict(R.row[test], R.col[test]) - R.data[test]) ** 2))
    rmse_base = np.sqrt(np.mean((base.predict(R.row[test], R.col[test]) - R.data[test]) ** 2))
    assert base.rank == 0 and res.offsets and res.rank >= 2
    assert rmse < 0.8 * rmse_base  # measured 0.735 against 1.114 (the noise alone: 0.5)


def test_partial_choices_choose_only_what_is_left():
    M, X, observed = _noisy(100, 80, 3, p=0.4, noise=0.2, seed=1)
    Xn = np.where(observed, X, np.nan)
    res = altmin_complete(Xn, reg=0.05, rng=0)  # the rank from the data, reg given: a rank ladder
    assert res.reg == 0.05 and {c["reg"] for c in res.selection} == {0.05}
    assert len({c["rank"] for c in res.selection}) > 2 and res.rank >= 3
    res = altmin_complete(Xn, rank=4, rng=0)  # reg from the data at the given rank, for both methods
    assert res.rank <= 4 and {c["method"] for c in res.selection} == {"altmin", "softimpute"}
    assert all(c["rank"] <= 4 for c in res.selection)
    res = altmin_complete(Xn, reg=0.05, method="softimpute", rng=0)  # nothing left to choose
    assert res.selection is None and res.method == "softimpute"
    for r in (altmin_complete(Xn, rng=0), res):
        assert _hidden_error(r, M, observed) < 0.2  # measured 0.13 to 0.17
