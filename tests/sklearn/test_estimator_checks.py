"""scikit-learn's own estimator checks, run on every estimator of lowrank_la.sklearn.

Expected failures, per estimator (at most 3 each):

* every estimator / ``check_dtype_object``: scikit-learn wants a NumPy array of dtype object holding numbers to be
  accepted; the library's one input rule (``lowrank_la._validate.as_matrix``) refuses object arrays with a
  ``TypeError`` naming ``X``, here as everywhere in lowrank_la (a pandas DataFrame with object columns of numbers
  is accepted: its values are read as float64).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from lowrank_la.sklearn import (
    CountSketchProjection,
    FJLTProjection,
    IncrementalTruncatedSVD,
    LowRankImputer,
    RandomizedTruncatedSVD,
    SparseSignProjection,
    SRHTProjection,
)

ESTIMATORS = [
    RandomizedTruncatedSVD(random_state=0),
    RandomizedTruncatedSVD(center=True, algorithm="subspace", random_state=0),
    IncrementalTruncatedSVD(random_state=0),
    IncrementalTruncatedSVD(center=True, batch_size=7, random_state=0),
    FJLTProjection(n_components=2, random_state=0),
    SRHTProjection(n_components=2, random_state=0),
    SparseSignProjection(n_components=2, random_state=0),
    CountSketchProjection(n_components=2, random_state=0),
    LowRankImputer(random_state=0),
]

OBJECT_DTYPE = "the library's input rule refuses object arrays (TypeError naming X); see the module docstring"


def expected_failed_checks(estimator):
    return {"check_dtype_object": OBJECT_DTYPE}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
