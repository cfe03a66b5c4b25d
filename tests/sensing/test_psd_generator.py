"""datasets.psd_low_rank: rank, condition number, spectrum shape, symmetry, determinism, bad input."""

import numpy as np
import pytest

from lowrank_la import datasets


@pytest.mark.parametrize("shape", ["geometric", "linear", "clustered"])
def test_spectrum_rank_and_condition_number(shape):
    M, U, s = datasets.psd_low_rank(40, 5, condition_number=1e3, shape=shape, rng=1, return_factors=True)
    assert np.array_equal(M, M.T)
    np.testing.assert_allclose(U.T @ U, np.eye(5), atol=1e-12)
    w = np.linalg.eigvalsh(M)[::-1]
    np.testing.assert_allclose(w[:5], s, rtol=1e-10)
    assert np.all(np.abs(w[5:]) < 1e-12) and s[0] == 1.0 and s[-1] == pytest.approx(1e-3)
    gaps = -np.diff(s)
    ratios = s[1:] / s[:-1]
    if shape == "geometric":
        np.testing.assert_allclose(ratios, ratios[0])
    elif shape == "linear":
        np.testing.assert_allclose(gaps, gaps[0])
    else:
        assert s.tolist() == [1.0, 1.0, 1.0, 1e-3, 1e-3]


def test_seed_and_dtype():
    a = datasets.psd_low_rank(12, 3, condition_number=10.0, rng=4)
    assert np.array_equal(a, datasets.psd_low_rank(12, 3, condition_number=10.0, rng=4))
    b = datasets.psd_low_rank(12, 3, condition_number=10.0, rng=4, dtype="float32")
    assert b.dtype == np.float32 and np.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 5, "rank": 0}, "rank"), ({"n": 5, "rank": 6}, "rank"), ({"n": 0, "rank": 1}, "n"),
    ({"n": 5, "rank": 2, "condition_number": 0.5}, "condition_number"),
    ({"n": 5, "rank": 1, "condition_number": 2.0}, "condition_number"),
    ({"n": 5, "rank": 2, "shape": "cubic"}, "shape"),
])
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.psd_low_rank(**kwargs)
