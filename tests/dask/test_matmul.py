"""Sampled, sketched and MLMC products, and their variance, on Dask operands chunked along the inner dimension:
the NumPy result on the same seed, and no task gathers A or B."""

import math

import numpy as np
import pytest

from lowrank_la.matmul import matmul_variance, mlmc_matmul, sampled_matmul, sketched_matmul
from tests.dask_tools import chunked, guarded_call

da = pytest.importorskip("dask")


def _problem(m=12, n=640, p=6, seed=0):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((m, n)), gen.standard_normal((n, p))


@pytest.mark.parametrize("probs, replace", [("norm", True), ("uniform", True), ("uniform", False)])
def test_sampled_matmul_reads_picked_columns_chunk_by_chunk(probs, replace):
    A, B = _problem()
    Ad, Bd = chunked(A, (12, 80)), chunked(B, (80, 6))
    P, var = guarded_call(lambda: sampled_matmul(Ad, Bd, 300, probs=probs, replace=replace, rng=1,
                                           return_variance=True), Ad)
    ref, ref_var = sampled_matmul(A, B, 300, probs=probs, replace=replace, rng=1, return_variance=True)
    np.testing.assert_allclose(P, ref, rtol=1e-12, atol=1e-12)
    assert math.isclose(var, ref_var, rel_tol=1e-9)


@pytest.mark.parametrize("kind", ["gaussian", "countsketch", "srht", "sparse_sign"])
def test_sketched_matmul_sketches_per_chunk(kind):
    A, B = _problem(seed=1)
    Ad, Bd = chunked(A, (12, 80)), chunked(B, (160, 6))  # A and B chunked differently along n
    P, var = guarded_call(lambda: sketched_matmul(Ad, Bd, 64, kind=kind, rng=2, return_variance=True), Ad)
    ref, ref_var = sketched_matmul(A, B, 64, kind=kind, rng=2, return_variance=True)
    np.testing.assert_allclose(P, ref, rtol=1e-9, atol=1e-9)  # the same draws, summed chunk by chunk
    assert math.isclose(var, ref_var, rel_tol=1e-9)


def test_float32_dask_stays_float32():
    A, B = (X.astype(np.float32) for X in _problem(seed=2))
    Ad, Bd = chunked(A, (12, 160)), chunked(B, (160, 6))
    for P in (sampled_matmul(Ad, Bd, 50, rng=0), sketched_matmul(Ad, Bd, 50, kind="gaussian", rng=0)):
        assert P.dtype == np.float32


def test_mlmc_matmul_batches_never_gather():
    A, B = _problem(m=4, n=320, p=3, seed=3)
    A, B = A / 20, B / 20
    Ad, Bd = chunked(A, (4, 40)), chunked(B, (40, 3))
    F = guarded_call(lambda: mlmc_matmul(Ad, Bd, f=np.tanh, atol=2e-2, c0=4, rng=0, max_cost=math.inf), Ad)
    ref = mlmc_matmul(A, B, f=np.tanh, atol=2e-2, c0=4, rng=0, max_cost=math.inf)
    np.testing.assert_allclose(F, ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("method", ["norm", "gaussian", "countsketch"])
def test_matmul_variance_by_reductions(method):
    A, B = _problem(seed=4)
    Ad, Bd = chunked(A, (12, 80)), chunked(B, (80, 6))
    value = guarded_call(lambda: matmul_variance(Ad, Bd, 40, method=method), Ad)
    assert math.isclose(value, matmul_variance(A, B, 40, method=method), rel_tol=1e-10)


def test_on_the_cluster(dask_client):
    A, B = _problem(seed=5)
    Ad, Bd = chunked(A, (12, 160)), chunked(B, (160, 6))
    np.testing.assert_allclose(sketched_matmul(Ad, Bd, 32, kind="sparse_sign", rng=3),
                               sketched_matmul(A, B, 32, kind="sparse_sign", rng=3), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sampled_matmul(Ad, Bd, 40, rng=3), sampled_matmul(A, B, 40, rng=3), rtol=1e-12)


def test_operands_chunked_along_the_outer_dimensions_are_not_gathered():
    A, B = _problem(m=64, n=200, p=32, seed=6)
    Ad, Bd = chunked(A, (16, 200)), chunked(B, (200, 8))  # whole inner dimension per chunk: no split of n at all
    P = guarded_call(lambda: sketched_matmul(Ad, Bd, 40, kind="sparse_sign", rng=4), Ad)
    np.testing.assert_allclose(P, sketched_matmul(A, B, 40, kind="sparse_sign", rng=4), rtol=1e-9, atol=1e-9)
    P = guarded_call(lambda: sampled_matmul(Ad, Bd, 40, rng=4), Ad)
    np.testing.assert_allclose(P, sampled_matmul(A, B, 40, rng=4), rtol=1e-12, atol=1e-12)
