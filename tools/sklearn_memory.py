"""How much of the estimators' margin over scikit-learn is this machine's memory (the numbers in the docs page
"scikit-learn estimators", sparse TF-IDF not centred). ::

    python tools/sklearn_memory.py [--rounds 7]

Times ``TruncatedSVD(50)`` and ``RandomizedTruncatedSVD(50)`` (default and ``tol=3e-2``) on the TF-IDF matrix of
the real-data panel and on scikit-learn's ``make_low_rank_matrix(20000, 2000)``, each in its own fresh process that
unpickles the matrix (as asv's benchmarks receive ``setup_cache``'s data; building it in the process, e.g. with
``stdlib_tfidf()``, has already raised glibc's dynamic threshold and keeps memory), best of the rounds, 0.3 s
apart, default threads: once with glibc's defaults (freed blocks go back to the OS and are faulted in again) and
once with freed memory kept (``MALLOC_MMAP_THRESHOLD_`` 128 MiB and ``MALLOC_TRIM_THRESHOLD_`` 1 GiB).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

KEEP = {"MALLOC_MMAP_THRESHOLD_": str(2**27), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def _matrices(folder):
    """The two matrices, pickled into `folder` (as asv's ``setup_cache`` hands its data to the benchmarks)."""
    import pickle

    import scipy.sparse as sp
    from sklearn.datasets import make_low_rank_matrix

    from lowrank_la.datasets import stdlib_tfidf

    for name, X in (("tfidf", sp.csr_matrix(stdlib_tfidf())),
                    ("dense", make_low_rank_matrix(20000, 2000, effective_rank=100, tail_strength=0.5,
                                                   random_state=0))):
        with open(os.path.join(folder, name + ".pkl"), "wb") as f:
            pickle.dump(X, f)


def _one(path, impl, rounds):
    import pickle
    import warnings

    warnings.simplefilter("ignore")
    with open(path, "rb") as f:
        X = pickle.load(f)
    from sklearn.decomposition import TruncatedSVD

    from lowrank_la.sklearn import RandomizedTruncatedSVD

    make = {"sklearn": lambda: TruncatedSVD(50, random_state=0),
            "lowrank_la": lambda: RandomizedTruncatedSVD(50, random_state=0),
            "lowrank_la_tol3e-2": lambda: RandomizedTruncatedSVD(50, tol=3e-2, random_state=0)}[impl]
    make().fit(X)
    best = float("inf")
    for _ in range(rounds):
        time.sleep(0.3)
        start = time.perf_counter()
        make().fit(X)
        best = min(best, time.perf_counter() - start)
    print(f"{best * 1e3:.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # pickle, impl: one measurement, in this process
    args = parser.parse_args()
    if args.one:
        _one(*args.one, args.rounds)
        return
    with tempfile.TemporaryDirectory() as folder:
        _matrices(folder)
        for data in ("tfidf", "dense"):
            for impl in ("sklearn", "lowrank_la", "lowrank_la_tol3e-2"):
                times = []
                for label, extra in (("default", {}), ("memory kept", KEEP)):
                    command = [sys.executable, __file__, "--one", os.path.join(folder, data + ".pkl"), impl,
                               "--rounds", str(args.rounds)]
                    out = subprocess.run(command, env={**os.environ, **extra}, capture_output=True, text=True,
                                         check=True)
                    times.append(f"{label} {out.stdout.strip()} ms")
                print(f"{data:6s} {impl:20s} " + ", ".join(times), flush=True)


if __name__ == "__main__":
    main()
