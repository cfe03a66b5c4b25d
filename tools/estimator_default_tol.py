"""Why ``RandomizedTruncatedSVD`` keeps ``rsvd``'s default tolerance (the numbers in the docs page "scikit-learn
estimators"). ::

    OPENBLAS_NUM_THREADS=1 python tools/estimator_default_tol.py

On the real-data panel (``la.datasets.real_panel("small")``), k in {10, 20, 50}, not centred and centred (dense
matrices only: the sparse centred peer is ARPACK's exact PCA), seeds 0-4, compares the fraction of ``||X||_F^2``
(of the centred X) in the span of the components of ``RandomizedTruncatedSVD(k, tol=t)`` with that of
scikit-learn's ``TruncatedSVD(algorithm="randomized")`` / ``PCA(svd_solver="randomized")`` on the same seed, and
prints for each ``t`` how many cases capture less than scikit-learn, the largest relative shortfall and the
matrices where it happens.
"""

import sys
import warnings
from pathlib import Path

import scipy.sparse as sp
from sklearn.decomposition import PCA, TruncatedSVD

import lowrank_la as la
from lowrank_la.sklearn import RandomizedTruncatedSVD

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.sklearn_layer import _captured  # noqa: E402

TOLS = (None, 3e-2, 5e-2, 1e-1)

warnings.simplefilter("ignore")
short = {tol: [] for tol in TOLS}
cases = 0
for name, X in la.datasets.real_panel("small").items():
    for k in (10, 20, 50):
        for center in (False, True):
            if k >= min(X.shape) or (center and sp.issparse(X)):
                continue
            for seed in range(5):
                peer = (PCA(k, svd_solver="randomized", random_state=seed) if center
                        else TruncatedSVD(k, algorithm="randomized", random_state=seed))
                theirs = _captured(X, peer.fit(X).components_, center)
                cases += 1
                for tol in TOLS:
                    ours = _captured(X, RandomizedTruncatedSVD(k, center=center, tol=tol, random_state=seed)
                                     .fit(X).components_, center)
                    if ours < theirs:
                        short[tol].append(((theirs - ours) / theirs, name))
for tol, lost in short.items():
    worst = max((d for d, _ in lost), default=0.0)
    print(f"tol={tol}: below scikit-learn in {len(lost)} of {cases} cases, largest shortfall {worst:.2e} (relative), "
          f"on {sorted({n for _, n in lost})}")
