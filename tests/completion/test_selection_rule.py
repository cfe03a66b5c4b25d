"""The held-out selection's choice between AltMin and soft-impute candidates (the one-standard-error rule)."""

import math

import pytest

from lowrank_la.completion._complete import _chosen


def _candidate(method, error, rank=10):
    return {"method": method, "holdout_error": error, "rank": rank}


@pytest.mark.parametrize("n_held", [50, 8000])
def test_a_soft_impute_point_within_one_standard_error_yields_to_altmin(n_held):
    se = 1 / math.sqrt(2 * n_held)
    alt = _candidate("altmin", 1.0 * (1 + 0.9 * se))
    log = [_candidate("altmin", 1.2), alt, _candidate("softimpute", 1.0, rank=40)]
    assert _chosen(log, n_held) is alt


@pytest.mark.parametrize("n_held", [50, 8000])
def test_a_soft_impute_point_better_by_more_than_one_standard_error_is_chosen(n_held):
    se = 1 / math.sqrt(2 * n_held)
    soft = _candidate("softimpute", 1.0, rank=40)
    log = [_candidate("altmin", 1.0 * (1 + 1.1 * se)), soft]
    assert _chosen(log, n_held) is soft


def test_the_least_error_wins_otherwise():
    alt = _candidate("altmin", 0.5)
    assert _chosen([_candidate("softimpute", 0.6), alt, _candidate("altmin", 0.7)], 100) is alt
    only = [_candidate("softimpute", 0.9), _candidate("softimpute", 0.8)]
    assert _chosen(only, 100) is only[1]
