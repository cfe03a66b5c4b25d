"""Every validator's messages name the argument, the value given and the range allowed."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._validate import (
    check_dtype,
    check_finite,
    check_int,
    check_matrix,
    check_option,
    check_rank,
    check_real,
    check_shape_agrees,
    check_tolerance,
)


def test_check_rank_message_is_the_documented_one():
    with pytest.raises(ValueError, match=r"^k=80 must satisfy 1 <= k <= min\(m, n\) = 50$"):
        check_rank(80, (100, 50))
    with pytest.raises(ValueError, match=r"k=0 must satisfy 1 <= k"):
        check_rank(0, (100, 50))
    assert check_rank(np.int64(50), (100, 50)) == 50
    assert type(check_rank(np.int32(3), (10, 10))) is int


def test_check_rank_with_an_explicit_upper_bound():
    with pytest.raises(ValueError, match=r"rank=9 must satisfy 1 <= rank <= n_features = 8"):
        check_rank(9, (100, 50), "rank", upper=8, upper_text="n_features = 8")


@pytest.mark.parametrize("bad", [2.0, "3", None, True, np.bool_(True), 1 + 0j])
def test_check_int_refuses_non_integers(bad):
    with pytest.raises(TypeError, match=r"^n_iter must be an integer"):
        check_int(bad, "n_iter", low=0)


def test_check_int_bounds():
    assert check_int(0, "p", low=0) == 0
    with pytest.raises(ValueError, match=r"^p=-1 must satisfy p >= 0$"):
        check_int(-1, "p", low=0)
    with pytest.raises(ValueError, match=r"^p=11 must satisfy p <= 10$"):
        check_int(11, "p", high=10)
    with pytest.raises(ValueError, match=r"^p=11 must satisfy 0 <= p <= 10$"):
        check_int(11, "p", low=0, high=10)


def test_check_real_bounds_and_finiteness():
    assert check_real(np.float32(0.5), "eps", low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"^eps=1.0 must satisfy 0 < eps < 1$"):
        check_real(1, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
    with pytest.raises(ValueError, match=r"^eps=0.0 must satisfy 0 < eps$"):
        check_real(0.0, "eps", low=0, low_inclusive=False)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"^eps=.* must be a finite number$"):
            check_real(bad, "eps")
    with pytest.raises(TypeError, match=r"^eps must be a real number"):
        check_real("0.1", "eps")
    with pytest.raises(TypeError, match=r"^eps must be a real number"):
        check_real(True, "eps")


def test_check_tolerance():
    assert check_tolerance(1e-8) == 1e-8
    with pytest.raises(ValueError, match=r"^tol=-1.0 must satisfy 0 < tol$"):
        check_tolerance(-1.0)
    with pytest.raises(ValueError, match=r"^tol=1.0 must satisfy 0 < tol < 1$"):
        check_tolerance(1.0, high=1)


def test_check_option():
    assert check_option("lu", "normalizer", ["qr", "lu"]) == "lu"
    with pytest.raises(ValueError, match=r"^normalizer='svd' must be one of 'qr', 'lu'$"):
        check_option("svd", "normalizer", ["qr", "lu"])
    with pytest.raises(ValueError, match=r"^n_iter=True must be one of 'auto', 1$"):
        check_option(True, "n_iter", ["auto", 1])
    with pytest.raises(ValueError, match=r"^size=\[1\] must be one of 'a'$"):
        check_option([1], "size", ["a"])


def test_check_dtype():
    assert check_dtype(np.float64) == np.float64
    with pytest.raises(TypeError, match=r"^dtype=int8 is not supported; allowed: float32, float64$"):
        check_dtype("int8")
    with pytest.raises(TypeError, match=r"^dtype='nonsense' is not a dtype"):
        check_dtype("nonsense")


def test_check_matrix_messages():
    with pytest.raises(ValueError, match=r"^A must be 2-D, got an array of shape \(3,\)$"):
        check_matrix(np.ones(3))
    with pytest.raises(ValueError, match=r"^B must be 2-D, got an array of shape \(2, 2, 2\)$"):
        check_matrix(np.ones((2, 2, 2)), "B")
    with pytest.raises(ValueError, match=r"^A must be non-empty, got shape \(0, 3\)$"):
        check_matrix(np.ones((0, 3)))
    with pytest.raises(TypeError, match=r"^A must be an array, a sparse matrix or a LinearOperator, got str$"):
        check_matrix("abc")
    with pytest.raises(TypeError, match=r"^A has complex dtype complex128"):
        check_matrix(np.ones((2, 2), complex))
    check_matrix(np.ones((2, 2), complex), allow_complex=True)
    with pytest.raises(TypeError, match=r"^A must hold numbers, got dtype <U1$"):
        check_matrix(np.array([["a"]]))


def test_check_finite_counts_bad_values_dense_and_sparse():
    A = np.ones((3, 3))
    A[0, 0], A[1, 2] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"^A must be finite, but it holds 2 NaN or Inf value\(s\)$"):
        check_finite(A, "A")
    S = sp.csr_array(np.eye(3))
    S.data[1] = np.nan
    with pytest.raises(ValueError, match=r"^S must be finite, but it holds 1 NaN or Inf"):
        check_finite(S, "S")
    check_finite(np.arange(4), "ints")  # integers are always finite


def test_check_shape_agrees():
    check_shape_agrees("X.shape[0]", 4, 4, "A.shape[1]")
    with pytest.raises(ValueError, match=r"^X.shape\[0\]=3 must equal A.shape\[1\] = 4$"):
        check_shape_agrees("X.shape[0]", 3, 4, "A.shape[1]")
