"""The alias-table kernel against its Python reference, and the law of its draws."""

import numpy as np
import pytest

from lowrank_la._kernels.alias import alias_draw, alias_table, alias_table_numba, alias_table_reference


def implied_probs(prob, alias):
    """The distribution a table encodes: (prob[j] + sum over k aliased to j of (1 - prob[k])) / n."""
    n = prob.size
    out = prob.copy()
    np.add.at(out, alias, 1 - prob)
    return out / n


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1000])
def test_numba_matches_reference_and_encodes_p(n):
    gen = np.random.default_rng(n)
    p = gen.random(n) ** 3
    p[gen.random(n) < 0.2] = 0.0
    p[0] = max(p[0], 0.1)
    ref = alias_table_reference(p)
    ker = alias_table_numba(p)
    np.testing.assert_array_equal(ref[1], ker[1])
    np.testing.assert_allclose(ref[0], ker[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(implied_probs(*ker), p / p.sum(), atol=1e-12)


def test_zero_probability_outcomes_are_never_drawn_and_frequencies_match():
    p = np.array([0.5, 0.0, 0.2, 0.3, 0.0])
    draws = alias_draw(*alias_table(p), 200_000, np.random.default_rng(0))
    counts = np.bincount(draws, minlength=5)
    assert counts[1] == counts[4] == 0
    expected = 200_000 * p
    # chi-square with 2 degrees of freedom over the positive outcomes: P(chi2_2 > 20) = 4.5e-5
    chi2 = np.sum((counts[[0, 2, 3]] - expected[[0, 2, 3]]) ** 2 / expected[[0, 2, 3]])
    assert chi2 < 20


def test_bad_probabilities_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        alias_table_reference(np.array([0.5, -0.1]))
    with pytest.raises(ValueError, match="1-D"):
        alias_table(np.ones((2, 2)))


def test_the_probabilities_are_not_modified():
    for n in (5, 500):  # the Python loop and the Numba kernel
        p = np.random.default_rng(n).random(n)
        p0 = p.copy()
        alias_table(p)
        alias_table_reference(p)
        np.testing.assert_array_equal(p, p0)
