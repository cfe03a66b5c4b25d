"""Dynamic Kronecker projection maintenance: update and query throughput of the three update methods.

``Trace`` runs the interior-point trace of the ``kron-projection`` reproduction (E1) at n in {32, 64, 128},
m = n^2/8 symmetric constraint matrices, ``W = S^-1`` with ``S`` SPD of condition number 1e3, and rank-k steps
``W <- W + U C U^T`` (``U`` orthonormal n x k, ``||C|| = 0.01 lambda_min(W)``), k in {1, 16}. There is no other
implementation to compare with: ``rebuild`` (refactorise at every update) is the reference, ``woodbury`` and
``lazy_pcg`` the maintained methods, all on the same inputs in one class:

* ``time_updates_and_queries``: 10 steps, each an update and a query ``P h`` (the steps go 5 forward then 5 back,
  so that repeated samples stay on the same trace);
* ``time_updates`` / ``time_query``: the 10 updates alone; one query at the set-up state;
* ``track_max_relative_error``: the worst relative error of the 10 answers against an exact factorisation;
* ``peakmem_updates_and_queries``.

Everything runs with one BLAS thread (on a shared machine, multi-threaded BLAS spin-waits and the timings lose
their meaning).

The issue's target: at n = 64, ``time_updates_and_queries`` of ``rebuild`` over that of ``lazy_pcg`` at least 5
(k = 1). Run: ``asv run --python=same --quick --bench projection`` and compare within one run as ratios.
"""

import contextlib

import numpy as np

from lowrank_la._backend import thread_limit
from lowrank_la.projection import KroneckerProjectionMaintainer

METHODS = ["rebuild", "woodbury", "lazy_pcg"]
STEPS = 10


def trace(n, k, seed=0):
    """``(A, W, steps)``: the E1 problem and ``STEPS`` steps ``(U, C, h)``, half forward, then the reverse."""
    gen = np.random.default_rng(seed)
    m = n * n // 8
    A = gen.standard_normal((m, n, n))
    A = (A + A.transpose(0, 2, 1)) / 2
    Q = np.linalg.qr(gen.standard_normal((n, n)))[0]
    W = (Q / np.logspace(0, -3, n)) @ Q.T
    W = (W + W.T) / 2
    lam_min = np.linalg.eigvalsh(W)[0]
    forward = []
    for _ in range(STEPS // 2):
        U = np.linalg.qr(gen.standard_normal((n, k)))[0]
        C = gen.standard_normal((k, k))
        C = C + C.T
        forward.append((U, C * 0.01 * lam_min / np.linalg.norm(C, 2)))
    moves = forward + [(U, -C) for U, C in reversed(forward)]
    return A, W, [(U, C, gen.standard_normal(n * n)) for U, C in moves]


class Trace:
    params = ([32, 64, 128], [1, 16], METHODS)
    param_names = ["n", "k", "method"]
    timeout = 900
    number = 1
    repeat = 3

    def setup(self, n, k, method):
        self._limits = contextlib.ExitStack()
        self._limits.enter_context(thread_limit(1))  # one BLAS thread: the shared machine's cores stay comparable
        self.A, self.W, self.steps = trace(n, k)
        self.pm = KroneckerProjectionMaintainer(self.A, self.W, method=method)
        self.h = self.steps[0][2]

    def teardown(self, n, k, method):
        self._limits.close()

    def time_updates_and_queries(self, n, k, method):
        for U, C, h in self.steps:
            self.pm.update(U, C)
            self.pm.query(h)

    def time_updates(self, n, k, method):
        for U, C, _ in self.steps:
            self.pm.update(U, C)

    def time_query(self, n, k, method):
        self.pm.query(self.h)

    def peakmem_updates_and_queries(self, n, k, method):
        self.time_updates_and_queries(n, k, method)

    def track_max_relative_error(self, n, k, method):
        worst = 0.0
        for U, C, h in self.steps:
            self.pm.update(U, C)
            exact = KroneckerProjectionMaintainer(self.A, self.pm.W, method="rebuild").query(h)
            worst = max(worst, float(np.linalg.norm(self.pm.query(h) - exact) / np.linalg.norm(exact)))
        return worst

    track_max_relative_error.unit = "relative error"
