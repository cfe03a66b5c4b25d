r"""The differential-privacy layer behind robust coordinate queries: a pool of CountSketches, the private median
(exponential mechanism) and the privacy accounting (advanced composition).

A linear sketch ``R`` gives unbiased coordinate estimates ``(R^T R v)_i`` of a *fixed* ``v``; an adversary who
chooses the next query from earlier answers can learn ``R`` and break it. Answering every coordinate with an
``eps0``-DP median of ``K`` independent sketches' estimates makes the answers, by DP's transfer theorem, behave
as if the sketches were fresh (Hassidim et al. 2020; Beimel et al. 2022; Song, Yang, Yang, Zhang 2023). By
advanced composition ``N`` such answers are ``(eps0 sqrt(2 N ln(1/delta)) + N eps0 (e^eps0 - 1), delta)``-DP, so
``eps0 ~ 1/sqrt(N)`` keeps the total constant and ``K = O(sqrt(N) log(.))`` sketches suffice instead of ``N``.
"""

from __future__ import annotations

import math

import numpy as np

from ..sketch import make_sketch

__all__ = ["SketchPool", "composed_epsilon", "per_answer_epsilon", "pool_size", "private_median"]

FAILURE = 1e-3  # probability, over all answers, that a private median falls outside the estimates' quartiles


def composed_epsilon(eps0: float, n_answers: int, delta: float) -> float:
    """Total epsilon of `n_answers` ``eps0``-DP answers by advanced composition (Dwork, Rothblum, Vadhan 2010).

    Examples
    --------
    >>> round(composed_epsilon(0.01, 100, 1e-6), 4)
    0.5356
    """
    if n_answers == 0:
        return 0.0
    return eps0 * math.sqrt(2.0 * n_answers * math.log(1.0 / delta)) + n_answers * eps0 * math.expm1(eps0)


def per_answer_epsilon(eps_total: float, n_answers: int, delta: float) -> float:
    """The largest ``eps0`` whose `n_answers`-fold advanced composition stays within `eps_total` (bisection)."""
    lo, hi = 0.0, eps_total
    for _ in range(200):
        mid = (lo + hi) / 2
        if composed_epsilon(mid, n_answers, delta) <= eps_total:
            lo = mid
        else:
            hi = mid
    return lo


def pool_size(eps0: float, n_bins: int, n_answers: int) -> int:
    """Sketches needed for the private median to land between the quartiles of their estimates.

    The exponential mechanism with the rank score (sensitivity 1) returns, with probability ``1 - beta``, a bin
    whose rank is within ``(2 / eps0) ln(n_bins / beta)`` of ``K/2``; asking that slack to be at most ``K/4`` for
    every one of `n_answers` answers (``beta = FAILURE / n_answers``) gives ``K = ceil(8 ln(n_bins n_answers /
    FAILURE) / eps0)``, which is ``O(sqrt(n_answers) log(.))`` for ``eps0 ~ 1/sqrt(n_answers)``.
    """
    return math.ceil(8.0 * math.log(n_bins * max(n_answers, 1) / FAILURE) / eps0)


def private_median(values, low: float, high: float, eps0: float, n_bins: int, gen) -> float:
    """``eps0``-DP median of `values` over a grid of `n_bins` bins on ``[low, high]`` (exponential mechanism).

    The score of a bin centre ``c`` is ``-|#{values <= c} - K/2|`` (sensitivity 1 when one value changes);
    a centre is drawn with probability proportional to ``exp(eps0 score / 2)`` by the Gumbel-max trick.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(3.0, 1.0, 2001)
    >>> abs(private_median(z, -10, 10, 1.0, 4096, np.random.default_rng(1)) - 3.0) < 0.2
    True
    """
    edges = np.linspace(low, high, n_bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    ranks = np.searchsorted(np.sort(values), centres, side="right")
    score = -np.abs(ranks - values.shape[0] / 2.0)
    noisy = eps0 * score / 2.0 + gen.gumbel(size=n_bins)
    return float(centres[int(np.argmax(noisy))])


class SketchPool:
    """`K` independent CountSketches ``R_k`` (``s x d``, one ``+-1`` per column), drawn with
    :func:`lowrank_la.sketch.make_sketch` and kept as their hash and sign arrays (``K x d`` each).

    ``estimates(v, idx)`` gives ``(R_k^T R_k v)_i`` for every sketch and every ``i`` in `idx`, in ``O(K d)``.
    """

    def __init__(self, hashes, signs, sketch_size):
        self.hashes = hashes
        self.signs = signs
        self.sketch_size = int(sketch_size)

    @classmethod
    def draw(cls, n_sketches: int, sketch_size: int, dim: int, gen) -> SketchPool:
        hashes = np.empty((n_sketches, dim), dtype=np.int32)
        signs = np.empty((n_sketches, dim), dtype=np.int8)
        label = np.arange(1, sketch_size + 1, dtype=np.float64)  # R^T label = sign_j (hash_j + 1)
        for k, seed in enumerate(gen.integers(0, 2**63 - 1, size=n_sketches)):
            R = make_sketch("countsketch", sketch_size, dim, rng=int(seed))
            tagged = R.T @ label
            hashes[k] = np.abs(tagged).astype(np.int32) - 1
            signs[k] = np.sign(tagged).astype(np.int8)
        return cls(hashes, signs, sketch_size)

    @property
    def n_sketches(self) -> int:
        return self.hashes.shape[0]

    def estimates(self, v, idx):
        """``(K, len(idx))`` array of ``(R_k^T R_k v)_i``."""
        K, s = self.n_sketches, self.sketch_size
        flat = (self.hashes + (np.arange(K, dtype=np.int64) * s)[:, None]).ravel()
        buckets = np.bincount(flat, weights=(self.signs * v[None, :]).ravel(), minlength=K * s).reshape(K, s)
        rows = np.arange(K)[:, None]
        return self.signs[:, idx] * buckets[rows, self.hashes[:, idx]]
