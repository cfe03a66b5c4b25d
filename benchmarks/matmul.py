"""Approximate matrix multiplication: single-level estimators at equal cost, and the eps-sweep of mlmc_matmul.

``EqualCost`` multiplies ``A = X^T`` and ``B = X`` for a 200 x 20000 matrix X with exponentially decaying
row norms (a 200 x 200 Gram product with inner dimension 20000), every estimator with the same sample/sketch
size s = 1000, i.e. the same ``O(m p s)`` cost of the small product:

* ``time_product`` / ``peakmem_product``: one estimate (DKM with norm and uniform probabilities, Gaussian,
  CountSketch, SRHT, sparse sign; ``exact`` is NumPy's ``A @ B``, the peer every estimator must beat in time);
* ``track_relative_error``: ``||P - A B||_F / ||A B||_F`` of that estimate (seed 0).

``MLMCSweep`` runs ``mlmc_matmul`` with ``f = tanh`` on a 16 x 8000 x 16 product at eps in {2e-2, 1e-2, 5e-3}
and records the time, the MLMC cost (multiply-adds) and the cost that single-level Monte Carlo on the finest
level would need at the same eps (``track_single_level_cost``).

Run: ``asv run --python=same --quick --bench matmul``; compare the estimators within one run as ratios.
"""

import warnings

import numpy as np

from lowrank_la._backend import ConvergenceWarning
from lowrank_la.matmul import mlmc_matmul, sampled_matmul, sketched_matmul

METHODS = ["exact", "dkm-norm", "dkm-uniform", "gaussian", "countsketch", "srht", "sparse_sign"]


def _run(method, A, B, s):
    if method == "exact":
        return A @ B
    if method.startswith("dkm-"):
        return sampled_matmul(A, B, s, probs=method[4:], rng=0)
    return sketched_matmul(A, B, s, kind=method, rng=0)


class EqualCost:
    params = (METHODS, ["float32", "float64"])
    param_names = ["method", "dtype"]
    timeout = 120

    def setup(self, method, dtype):
        gen = np.random.default_rng(0)
        X = (gen.standard_normal((20000, 200)) * np.exp(-np.arange(20000) / 4000)[:, None]).astype(dtype)
        self.A, self.B, self.s = np.ascontiguousarray(X.T), X, 1000
        self.exact = self.A.astype(np.float64) @ self.B.astype(np.float64)

    def time_product(self, method, dtype):
        _run(method, self.A, self.B, self.s)

    def peakmem_product(self, method, dtype):
        _run(method, self.A, self.B, self.s)

    def track_relative_error(self, method, dtype):
        P = _run(method, self.A, self.B, self.s)
        return float(np.linalg.norm(P - self.exact) / np.linalg.norm(self.exact))


class MLMCSweep:
    params = [[2e-2, 1e-2, 5e-3]]
    param_names = ["eps"]
    timeout = 300

    def setup(self, eps):
        gen = np.random.default_rng(1)
        self.A = gen.standard_normal((16, 8000)) * np.exp(-np.arange(8000) / 3000) / 40
        self.B = np.ascontiguousarray(self.A.T)

    def _info(self, eps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return mlmc_matmul(self.A, self.B, f=np.tanh, atol=eps, c0=4, rng=0, max_cost=np.inf, return_info=True)[1]

    def time_mlmc(self, eps):
        self._info(eps)

    def track_mlmc_cost(self, eps):
        return self._info(eps).total_cost

    def track_single_level_cost(self, eps):
        return self._info(eps).single_level_cost
