"""The fast Walsh-Hadamard kernels against their NumPy reference and against scipy.linalg.hadamard."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.linalg

from lowrank_la._kernels.fwht import cuda_source_path, fwht_cupy, fwht_numba, fwht_reference

RTOL = {np.float32: 1e-5, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a, np.float64) - b) / max(np.linalg.norm(b), 1e-300)


def data(rows, d, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, d)).astype(dtype)


# -- the reference -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_d", range(0, 9))
def test_reference_is_hadamard_product(log_d):
    d = 1 << log_d
    x = data(3, d, np.float64)
    y = fwht_reference(x)
    np.testing.assert_allclose(y, x @ scipy.linalg.hadamard(d), rtol=1e-12, atol=1e-12)
    assert y.dtype == x.dtype and y is not x


def test_reference_leaves_input_untouched_and_keeps_float32():
    x = data(2, 16, np.float32)
    x0 = x.copy()
    y = fwht_reference(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(x, x0)


# -- the Numba kernel ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_d", range(0, 13))
@pytest.mark.parametrize("rows", [1, 3, 64])
def test_numba_matches_hadamard(dtype, log_d, rows):
    d = 1 << log_d
    x = data(rows, d, dtype, seed=log_d)
    expected = x.astype(np.float64) @ scipy.linalg.hadamard(d)
    y = x.copy()
    out = fwht_numba(y, 1.0)
    assert out is y and y.dtype == dtype
    assert rel_err(y, expected) <= RTOL[dtype]
    assert rel_err(y, fwht_reference(x)) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_d,rows", [(13, 3), (14, 3), (15, 2), (16, 2), (17, 1)])
def test_numba_matches_reference_large(dtype, log_d, rows):
    # beyond the 16 KiB cache block: blocked low levels, then merged passes over the whole row
    x = data(rows, 1 << log_d, dtype, seed=log_d)
    y = fwht_numba(x.copy(), 1.0)
    assert rel_err(y, fwht_reference(x.astype(np.float64))) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_d", [0, 3, 5, 9, 12, 14])
def test_numba_scale(dtype, log_d):
    d = 1 << log_d
    x = data(3, d, dtype)
    y = fwht_numba(x.copy(), 0.375)
    assert rel_err(y, 0.375 * fwht_reference(x.astype(np.float64))) <= RTOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_d", [0, 1, 4, 7, 10, 13, 16])
def test_numba_normalised_is_an_isometric_involution(dtype, log_d):
    d = 1 << log_d
    rows = 3 if log_d < 16 else 1
    x = data(rows, d, dtype)
    s = 1.0 / np.sqrt(d)
    y = fwht_numba(x.copy(), s)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(x, axis=1), rtol=10 * RTOL[dtype])
    z = fwht_numba(y, s)
    assert rel_err(z, x.astype(np.float64)) <= 10 * RTOL[dtype]


def test_numba_basis_vectors_give_hadamard_rows():
    d = 64
    y = fwht_numba(np.eye(d), 1.0)
    np.testing.assert_array_equal(y, scipy.linalg.hadamard(d).astype(np.float64))


def test_numba_unaligned_rows_and_empty():
    # a row start that is not on a vector boundary (offset by one element)
    buf = data(1, 3 * 256 + 1, np.float32).ravel()
    x = buf[1:].reshape(3, 256)
    x0 = x.copy()
    fwht_numba(x, 1.0)
    assert rel_err(x, fwht_reference(x0.astype(np.float64))) <= RTOL[np.float32]
    e = np.empty((0, 8))
    assert fwht_numba(e, 1.0) is e


@pytest.mark.parametrize(
    "x,exc",
    [
        (np.zeros((2, 6)), ValueError),
        (np.zeros(8), ValueError),
        (np.zeros((2, 8), dtype=np.int64), TypeError),
        (np.zeros((8, 2)).T, ValueError),
    ],
)
def test_numba_refuses_bad_input(x, exc):
    with pytest.raises(exc):
        fwht_numba(x, 1.0)


# -- the CUDA source and the CuPy kernel ---------------------------------------------------------------------


def test_cuda_source_is_found():
    path = cuda_source_path("fwht.cu")
    assert path.is_file() and "fwht_pass_f32" in path.read_text()


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not on the PATH")
def test_cuda_source_compiles_with_nvcc(tmp_path):
    out = tmp_path / "fwht.ptx"
    res = subprocess.run(
        ["nvcc", "-ptx", "-arch=sm_90", str(cuda_source_path("fwht.cu")), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "warning" not in (res.stdout + res.stderr).lower(), res.stderr
    ptx = out.read_text()
    for name in ("fwht_block_f32_e0", "fwht_block_f64_e5", "fwht_pass_f32", "fwht_pass_f64"):
        assert name in ptx


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_d,rows", [(0, 3), (2, 3), (3, 5), (5, 4), (6, 3), (10, 7), (11, 3), (12, 2),
                                        (13, 2), (14, 2), (15, 2), (16, 2), (17, 1)])
def test_cupy_matches_reference(dtype, log_d, rows):
    cupy = pytest.importorskip("cupy")
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("no GPU visible")
    x = data(rows, 1 << log_d, dtype, seed=log_d)
    s = 1.0 / np.sqrt(1 << log_d)
    xg = cupy.asarray(x)
    out = fwht_cupy(xg, s)
    assert out is xg
    assert rel_err(cupy.asnumpy(xg), s * fwht_reference(x.astype(np.float64))) <= 10 * RTOL[dtype]
    # the unaligned path: rows that start one element past a 16-byte boundary
    buf = cupy.asarray(data(1, rows * (1 << log_d) + 1, dtype, seed=1).ravel())
    xu = buf[1:].reshape(rows, 1 << log_d)
    xu0 = cupy.asnumpy(xu)
    fwht_cupy(xu, 1.0)
    assert rel_err(cupy.asnumpy(xu), fwht_reference(xu0.astype(np.float64))) <= 10 * RTOL[dtype]
