"""The public fwht: against the dense Hadamard matrix, on every axis, backend and dtype."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from lowrank_la.sketch import fwht, next_pow2, pad_pow2

TOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0, 1, 2, 3, 5, 8, 11])
def test_equals_the_dense_hadamard_product(p, dtype, rng):
    d = 2**p
    H = scipy.linalg.hadamard(d) / np.sqrt(d)
    X = rng.standard_normal((d, 5)).astype(dtype)
    for axis, expected, x in ((0, H @ X, X), (1, (H @ X).T, X.T.copy()), (-1, (H @ X).T, X.T.copy())):
        out = fwht(x, axis=axis)
        assert out.dtype == dtype and out.shape == x.shape
        assert np.linalg.norm(out - expected) <= TOL[dtype] * np.linalg.norm(expected)
    one_d = fwht(X[:, 0])
    assert np.linalg.norm(one_d - H @ X[:, 0]) <= TOL[dtype] * np.linalg.norm(X[:, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_involution_norm_and_unnormalised_scale(dtype, rng):
    X = rng.standard_normal((7, 4096)).astype(dtype)
    Y = fwht(X)
    assert np.allclose(fwht(Y), X, rtol=0, atol=10 * TOL[dtype] * np.abs(X).max())
    assert np.allclose(np.linalg.norm(Y, axis=1), np.linalg.norm(X, axis=1), rtol=10 * TOL[dtype])
    assert np.allclose(fwht(X, normalized=False), Y * np.sqrt(4096), rtol=10 * TOL[dtype], atol=1e-3)


def test_input_is_untouched_unless_overwrite_is_asked(rng):
    X = rng.standard_normal((3, 64))
    before = X.copy()
    Y = fwht(X)
    assert np.array_equal(X, before)
    Z = fwht(X, overwrite_x=True)
    assert np.allclose(Z, Y) and np.allclose(X, Y)  # written into X, as asked
    XF = np.asfortranarray(before)
    out = fwht(XF, axis=0 if False else -1, overwrite_x=True)
    assert np.allclose(out, Y) and np.allclose(XF, Y)


def test_integers_promote_to_float64_and_float16_computes_in_float32():
    assert fwht(np.arange(8)).dtype == np.float64
    assert fwht(np.ones(8, dtype=np.float16)).dtype == np.float32
    assert np.allclose(fwht(np.arange(8)), fwht(np.arange(8.0)))


def test_other_backends_agree_with_numpy(xp_backend, rng):
    X = rng.standard_normal((6, 256))
    expected = fwht(X)
    for axis, x, ref in ((-1, X, expected), (0, X.T.copy(), expected.T)):
        out = fwht(xp_backend.asarray(x), axis=axis)
        assert np.allclose(xp_backend.tonumpy(out), ref, rtol=1e-12, atol=1e-12)


def test_dask_stays_lazy(rng):
    da = pytest.importorskip("dask.array")
    X = rng.standard_normal((40, 128))
    lazy = fwht(da.from_array(X, chunks=(10, 32)))
    assert isinstance(lazy, da.Array)
    assert np.allclose(lazy.compute(), fwht(X))


def test_bad_input_is_refused_with_clear_messages():
    with pytest.raises(ValueError, match=r"^x.shape\[1\]=12 must be a power of two; pad with "
                                         r"lowrank_la.sketch.pad_pow2\(x, axis=1\) to 16$"):
        fwht(np.ones((3, 12)))
    with pytest.raises(ValueError, match=r"^x must be finite"):
        fwht(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"^x must be 1-D or 2-D"):
        fwht(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"^x must be non-empty"):
        fwht(np.ones((0, 4)))
    with pytest.raises(ValueError, match=r"^axis=2 must satisfy -2 <= axis <= 1$"):
        fwht(np.ones((2, 4)), axis=2)
    with pytest.raises(TypeError, match=r"^x has complex dtype"):
        fwht(np.ones(4, complex))
    with pytest.raises(TypeError, match=r"^x must be a NumPy or other array-API array"):
        fwht({"x": 1.0})
    with pytest.raises(TypeError, match=r"^x must be a dense array"):
        fwht(sp.csr_array(np.ones((2, 4))))


def test_item16_lists_are_accepted():
    np.testing.assert_allclose(fwht([1.0, 2.0]), fwht(np.array([1.0, 2.0])))
    np.testing.assert_allclose(pad_pow2([[1, 2, 3]]), [[1.0, 2.0, 3.0, 0.0]])


def test_item11_overwrite_x_on_a_read_only_array_copies():
    """A Numba TypingError before: overwrite_x is a permission (scipy), so a read-only x is copied."""
    x = np.arange(8.0)
    x.flags.writeable = False
    y = fwht(x, overwrite_x=True)
    np.testing.assert_allclose(y, fwht(np.arange(8.0)))
    np.testing.assert_array_equal(x, np.arange(8.0))
    X = np.arange(16.0).reshape(4, 4)
    X.flags.writeable = False
    np.testing.assert_allclose(fwht(X, axis=0, overwrite_x=True), fwht(np.arange(16.0).reshape(4, 4), axis=0))
    z = np.arange(8.0)
    assert fwht(z, overwrite_x=True) is z  # writeable: still in place


def test_padding():
    assert [next_pow2(d) for d in (1, 2, 3, 1000, 1025)] == [1, 2, 4, 1024, 2048]
    X = np.arange(6.0).reshape(2, 3)
    P = pad_pow2(X, axis=0)
    assert P.shape == (2, 3) and np.array_equal(P, X) and P is not X
    P = pad_pow2(X)
    assert P.shape == (2, 4) and np.array_equal(P[:, :3], X) and not P[:, 3].any()
    with pytest.raises(ValueError, match=r"^d=0 must satisfy d >= 1$"):
        next_pow2(0)


def test_check_finite_can_be_turned_off():
    x = np.array([1.0, np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"^x must be finite"):
        fwht(x)
    assert np.isnan(fwht(x, check_finite=False)).any()
    with pytest.raises(ValueError, match=r"^check_finite='yes' must be one of True, False$"):
        fwht(x, check_finite="yes")
