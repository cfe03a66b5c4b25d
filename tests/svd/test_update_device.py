"""svd_update on array-API namespaces other than NumPy (CuPy; array-api-strict here): the dense Zha-Simon form."""

import numpy as np
import pytest

from lowrank_la.svd import TruncatedSVDUpdater, svd_update

xp = pytest.importorskip("array_api_strict")


def _problem(dtype=np.float64, m=40, n=30, k=4, seed=0):
    rng = np.random.default_rng(seed)
    A = (rng.standard_normal((m, k)) @ rng.standard_normal((k, n)) + 1e-3 * rng.standard_normal((m, n))).astype(dtype)
    return A, k


def _top(A, k):
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vh[:k]


@pytest.mark.parametrize("kind", ["rows", "columns"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strict_matches_the_numpy_updater_and_the_dense_svd(kind, dtype):
    A, k = _problem(dtype)
    old, new = (A[:30], A[30:]) if kind == "rows" else (A[:, :20], A[:, 20:])
    U, s, Vh = _top(old, k)
    ref = svd_update(U, s, Vh, new, kind=kind)
    got = svd_update(xp.asarray(U), xp.asarray(s), xp.asarray(Vh), xp.asarray(new), kind=kind)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert all(type(f) is type(xp.asarray(s)) and f.dtype == xp.asarray(s).dtype for f in got)
    Ug, sg, Vhg = (np.asarray(f) for f in got)
    # Zha-Simon is exact: the rank-k SVD of [U S Vh; E] (or [U S Vh, E])
    stacked = (np.vstack if kind == "rows" else np.hstack)([(U * s) @ Vh, new])
    assert np.allclose(sg, np.linalg.svd(stacked.astype(np.float64), compute_uv=False)[:k], rtol=tol, atol=tol)
    assert np.allclose(sg, ref.s, rtol=tol, atol=tol)
    assert np.allclose(Ug, ref.U, atol=10 * tol) and np.allclose(Vhg, ref.Vh, atol=10 * tol)  # one sign rule
    assert np.allclose(Ug.T @ Ug, np.eye(k), atol=10 * tol) and np.allclose(Vhg @ Vhg.T, np.eye(k), atol=10 * tol)


def test_inputs_are_not_modified_and_bad_input_is_refused():
    A, k = _problem()
    U, s, Vh = (xp.asarray(f) for f in _top(A[:30], k))
    E = xp.asarray(A[30:])
    before = [np.asarray(f).copy() for f in (U, s, Vh, E)]
    svd_update(U, s, Vh, E)
    assert all(np.array_equal(np.asarray(f), b) for f, b in zip((U, s, Vh, E), before))
    with pytest.raises(ValueError, match="method"):
        svd_update(U, s, Vh, E, method="gkl")
    with pytest.raises(ValueError, match="E.shape"):
        svd_update(U, s, Vh, xp.asarray(A[30:, :20]))
    with pytest.raises(ValueError, match="finite|NaN"):
        svd_update(U, s, Vh, xp.asarray(np.full((2, 30), np.nan)))
    with pytest.raises(TypeError, match="svd_update"):
        TruncatedSVDUpdater(U=U, s=s, Vh=Vh)


def test_an_exactly_rank_k_stream_stays_exact():
    rng = np.random.default_rng(3)
    L, R = rng.standard_normal((60, 3)), rng.standard_normal((3, 25))
    A = L @ R
    U, s, Vh = (xp.asarray(f) for f in _top(A[:20], 3))
    for start in range(20, 60, 10):
        U, s, Vh = svd_update(U, s, Vh, xp.asarray(A[start:start + 10]))
    Un, sn, Vhn = (np.asarray(f) for f in (U, s, Vh))
    assert np.linalg.norm((Un * sn) @ Vhn - A) <= 1e-12 * np.linalg.norm(A)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy

    A, k = _problem()
    U, s, Vh = _top(A[:30], k)
    ref = svd_update(U, s, Vh, A[30:])
    got = svd_update(*(cupy.asarray(f) for f in (U, s, Vh, A[30:])))
    assert isinstance(got.U, cupy.ndarray)
    assert np.allclose(cupy.asnumpy(got.s), ref.s, rtol=1e-11) and np.allclose(cupy.asnumpy(got.U), ref.U, atol=1e-10)
