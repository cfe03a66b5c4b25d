"""Where the time of a sparse truncated SVD goes, and how it compares with scikit-learn (the numbers of the docs
pages "Conventions" (Threads) and "scikit-learn estimators", sparse TF-IDF). ::

    python tools/sparse_costs.py products [--rounds 20]
    python tools/sparse_costs.py lsa [--k 20 50 100 300] [--rounds 3]

``products``: ``A^T @ Y`` of a scipy CSR matrix by scipy (one thread) and by the operator's parallel scatter
(``lowrank_la._kernels.csr_dense.csr_rmatmat``, one row slab per Numba thread), on the TF-IDF matrix, its
transpose, a random 20,000 x 5,000 (density 0.01), a random 5,000 x 20,000 and a very sparse 50,000 x 20,000
(density 2e-4), blocks of 16, 50 and 100 columns; median of the rounds, BLAS on one thread (as beside the kernels);
prints the slab count of :func:`~lowrank_la._kernels.csr_dense.scatter_slabs` (1: the operator keeps scipy).

``lsa``: the TF-IDF matrix at each k: scikit-learn's ``TruncatedSVD(k)``, ``RandomizedTruncatedSVD(k)`` at its
default, at ``tol=3e-2`` and with ``n_iter=5, algorithm="subspace", power_iteration_normalizer="LU"``
(scikit-learn's method), best of the rounds in
one process, 0.2 s apart, with the largest relative singular-value error against LAPACK (``scipy.linalg.svd`` of
the dense matrix, once). Run it with freed memory kept (``MALLOC_MMAP_THRESHOLD_=134217728
MALLOC_TRIM_THRESHOLD_=1073741824``; see ``tools/sklearn_memory.py`` for why).
"""

import argparse
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from lowrank_la._backend import one_blas_thread
from lowrank_la._kernels.csr_dense import csr_rmatmat, scatter_slabs
from lowrank_la.datasets import stdlib_tfidf


def _median(call, rounds):
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def products(rounds):
    tfidf = sp.csr_matrix(stdlib_tfidf())
    matrices = {"TF-IDF": tfidf, "TF-IDF^T": tfidf.T.tocsr(),
                "random 20000x5000": sp.random(20000, 5000, density=0.01, format="csr", random_state=0),
                "random 5000x20000": sp.random(5000, 20000, density=0.01, format="csr", random_state=0),
                "sparse 50000x20000": sp.random(50000, 20000, density=2e-4, format="csr", random_state=0)}
    rng = np.random.default_rng(0)
    with one_blas_thread():
        for name, A in matrices.items():
            for width in (16, 50, 100):
                Y = rng.standard_normal((A.shape[0], width))
                scipy_ms = _median(lambda: A.T @ Y, rounds)
                kernel_ms = _median(lambda: csr_rmatmat(A, Y), rounds)
                print(f"{name:20s} l={width:3d} slabs {scatter_slabs(A, width)}  scipy {scipy_ms:7.2f} ms  "
                      f"scatter {kernel_ms:7.2f} ms  ratio {kernel_ms / scipy_ms:4.2f}", flush=True)


def lsa(ks, rounds):
    from sklearn.decomposition import TruncatedSVD

    from lowrank_la.sklearn import RandomizedTruncatedSVD

    warnings.simplefilter("ignore")
    X = sp.csr_matrix(stdlib_tfidf())
    exact = scipy.linalg.svd(X.toarray(), compute_uv=False)
    makers = {"TruncatedSVD": lambda k: TruncatedSVD(k, random_state=0),
              "RandomizedTruncatedSVD": lambda k: RandomizedTruncatedSVD(k, random_state=0),
              "  tol=3e-2": lambda k: RandomizedTruncatedSVD(k, tol=3e-2, random_state=0),
              "  n_iter=5 subspace LU": lambda k: RandomizedTruncatedSVD(k, n_iter=5, algorithm="subspace",
                                                                         power_iteration_normalizer="LU",
                                                                         random_state=0)}
    for k in ks:
        for name, make in makers.items():
            make(k).fit(X)
            best, model = float("inf"), None
            for _ in range(rounds):
                time.sleep(0.2)
                start = time.perf_counter()
                model = make(k).fit(X)
                best = min(best, time.perf_counter() - start)
            s = np.sort(model.singular_values_)[::-1]
            error = float(np.max((exact[:k] - s) / exact[:k]))
            print(f"k={k:3d} {name:24s} {best * 1e3:8.0f} ms  max relative error {error:.1e}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("products", "lsa"))
    parser.add_argument("--k", type=int, nargs="+", default=[20, 50, 100, 300])
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    if args.what == "products":
        products(args.rounds or 20)
    else:
        lsa(args.k, args.rounds or 3)


if __name__ == "__main__":
    main()
