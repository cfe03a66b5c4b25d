"""AltMin on array-API namespaces other than NumPy (CuPy GPUs; array-api-strict here): the batched half-step."""

import warnings

import numpy as np
import pytest

from lowrank_la._kernels.completion import segment_solve_exact_reference
from lowrank_la.completion import altmin_complete
from lowrank_la.completion._batched import batched_exact_solve, device_segments
from lowrank_la.completion._observations import parse_observations
from lowrank_la.datasets import incoherent_low_rank


def _observed(m, n, k, p, seed, dtype="float64"):
    M, Ut, st, Vt = incoherent_low_rank(m, n, k, rng=seed, dtype=dtype, return_factors=True)
    rows, cols = np.nonzero(np.random.default_rng(seed + 1).random((m, n)) < p)
    return rows, cols, M[rows, cols], M, (Ut, st, Vt)


@pytest.mark.parametrize("max_entries", [2**25, 40])  # one batch per bucket, and buckets split into many
def test_batched_solve_matches_the_per_segment_reference(max_entries):
    from array_api_compat import numpy as xp

    rng = np.random.default_rng(0)
    rows, cols, vals, M, _ = _observed(40, 30, 3, 0.3, 1)
    rows, cols, vals = rows[:-25], cols[:-25], vals[:-25]  # leaves segments of many different counts
    obs = parse_observations(rows, cols, vals, M.shape)
    seg = obs.by_col
    B = rng.standard_normal((40, 3))
    ridge = rng.random(30) * 0.1
    expected = segment_solve_exact_reference(B, seg.indptr, seg.idx, seg.vals, ridge)
    got = batched_exact_solve(B, device_segments(seg, 3, xp, max_entries=max_entries), ridge, xp)
    assert got.shape == (30, 3)
    assert np.allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_array_api_strict_matches_numpy_and_keeps_namespace_and_dtype(dtype):
    xp = pytest.importorskip("array_api_strict")
    rows, cols, vals, M, truth = _observed(90, 70, 2, 0.35, 3, dtype)
    tol = 1e-5 if dtype == "float32" else 1e-10
    ref = altmin_complete(rows, cols, vals, M.shape, 2, solver="exact", tol=tol, rng=0)
    res = altmin_complete(xp.asarray(rows), xp.asarray(cols), xp.asarray(vals), M.shape, 2, tol=tol, rng=0,
                          truth=truth)
    assert res.solver == ("exact", "exact")
    assert type(res.U) is type(xp.asarray(vals)) and res.U.dtype == xp.asarray(vals).dtype
    U, V = np.asarray(res.U), np.asarray(res.V)
    assert res.converged and ref.converged
    assert np.linalg.norm(U @ V.T - ref.U @ ref.V.T) <= 10 * tol * np.linalg.norm(M)
    assert res.history["error"][-1] <= 10 * tol


def test_array_api_strict_rows_without_observations_get_zero_factors():
    xp = pytest.importorskip("array_api_strict")
    rows, cols, vals, M, _ = _observed(50, 40, 2, 0.5, 4)
    keep = rows != 7
    with pytest.warns(UserWarning, match="no observation"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = altmin_complete(xp.asarray(rows[keep]), xp.asarray(cols[keep]), xp.asarray(vals[keep]), M.shape, 2,
                              n_iter=30, tol=1e-9, rng=0)
    U = np.asarray(res.U)
    assert np.all(U[7] == 0) and res.converged


def test_solvers_other_than_exact_are_refused_off_numpy():
    xp = pytest.importorskip("array_api_strict")
    rows, cols, vals, M, _ = _observed(30, 30, 2, 0.5, 5)
    with pytest.raises(ValueError, match="solver"):
        altmin_complete(xp.asarray(rows), xp.asarray(cols), xp.asarray(vals), M.shape, 2, solver="cg")


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy

    rows, cols, vals, M, _ = _observed(300, 200, 4, 0.2, 6)
    ref = altmin_complete(rows, cols, vals, M.shape, 4, solver="exact", tol=1e-10, rng=0)
    res = altmin_complete(cupy.asarray(rows), cupy.asarray(cols), cupy.asarray(vals), M.shape, 4, tol=1e-10, rng=0)
    U, V = cupy.asnumpy(res.U), cupy.asnumpy(res.V)
    assert isinstance(res.U, cupy.ndarray) and res.converged
    assert np.linalg.norm(U @ V.T - ref.U @ ref.V.T) <= 1e-8 * np.linalg.norm(M)
