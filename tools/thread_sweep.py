"""Each representative call on one thread and at the machine's default threads (the numbers in the docs'
"Threads" section and in ``lowrank_la._backend.KERNEL_THREADS_NOTE``). ::

    python tools/thread_sweep.py [CASE ...]

Every case runs in two fresh processes: one with ``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=NUMBA_NUM_THREADS=1``, one
with the environment as it is. Each times the call 3 times after a warm-up and reports the fastest; the last
column is the default-thread time over the one-thread time (above 1: the threads cost time instead of saving it,
as when BLAS pools spin against each other or against the Numba kernels).
"""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp


def _tfidf():
    from lowrank_la.datasets import stdlib_tfidf

    return sp.csr_matrix(stdlib_tfidf())


def _dense_low_rank(m, n, rank=30):
    rng = np.random.default_rng(0)
    return ((rng.standard_normal((m, rank)) / np.arange(1, rank + 1)) @ rng.standard_normal((rank, n))
            + 1e-3 * rng.standard_normal((m, n)))


def _psd(n):
    B = _dense_low_rank(n, n)
    return B @ B.T / n


def _digits_kernel():
    from sklearn.datasets import load_digits

    X = load_digits().data
    return np.exp(-((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / (2 * 40.0**2))


def _completion_input():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((2000, 10)) @ rng.standard_normal((10, 1000))
    return np.where(rng.random(M.shape) < 0.1, M, np.nan)


def _updater_rows(A):
    import lowrank_la as la

    up = la.svd.TruncatedSVDUpdater(A[:2000], 20, rng=0)
    for start in range(2000, 6000, 100):
        up.add_rows(A[start:start + 100])


def _sketch(kind):
    import lowrank_la as la

    A = np.random.default_rng(0).standard_normal((4096, 2000))
    S = la.make_sketch(kind, 200, 4096, rng=0)
    return lambda: S @ A


def case(name):
    """The call of case `name`, its input built."""
    import lowrank_la as la
    from lowrank_la import factor, psd

    if name == "rsvd_dense":
        A = _dense_low_rank(4000, 1000)
        return lambda: la.rsvd(A, 20, rng=0)
    if name == "rsvd_sparse":
        A = _tfidf()
        return lambda: la.rsvd(A, 20, rng=0)
    if name == "svd_tol":
        A = _tfidf()
        return lambda: la.svd_tol(A, 0.5, rng=0)
    if name == "updater_sparse_rows":
        A = _tfidf()
        return lambda: _updater_rows(A)
    if name == "psd_eigh":
        A = _psd(2000)
        return lambda: psd.eigh(A, 20, psd=True, rng=0)
    if name == "psd_xtrace":
        A = _psd(2000)
        return lambda: psd.xtrace(A, 100, rng=0)
    if name == "psd_pcg":
        K = _digits_kernel()
        b = np.random.default_rng(0).standard_normal(K.shape[0])
        return lambda: psd.nystrom_pcg(K, b, 1e-4, rng=0)
    if name == "altmin":
        X = _completion_input()
        return lambda: la.altmin_complete(X, rank=10, rng=0)
    if name == "cur":
        A = _dense_low_rank(3000, 1500)
        return lambda: factor.cur(A, 20, rng=0)
    if name == "interpolative":
        A = _dense_low_rank(3000, 1500)
        return lambda: factor.interpolative(A, 20, rng=0)
    if name in ("fjlt", "srht", "gaussian"):
        return _sketch(name)
    raise KeyError(f"unknown case {name!r}; the cases: {', '.join(CASES)}")


CASES = ["rsvd_dense", "rsvd_sparse", "svd_tol", "updater_sparse_rows", "psd_eigh", "psd_xtrace", "psd_pcg",
         "altmin", "cur", "interpolative", "fjlt", "srht", "gaussian"]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def _time_here(name):
    warnings.simplefilter("ignore")
    call = case(name)
    call()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(min(times))


def _time_in_process(name, extra_env):
    out = subprocess.run([sys.executable, __file__, "--time", name], env={**os.environ, **extra_env},
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main(names):
    for name in names or CASES:
        one, default = _time_in_process(name, ONE_THREAD), _time_in_process(name, {})
        print(f"{name:20s} one thread {one * 1e3:9.1f} ms  default {default * 1e3:9.1f} ms  "
              f"default / one {default / one:5.2f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--time"]:
        _time_here(sys.argv[2])
    else:
        main(sys.argv[1:])
