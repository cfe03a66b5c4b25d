"""Tensor trains: TT-SVD, the TT parameter count, and the TT-rank search under a budget by the same surrogate.

The tensor train is the chain special case of the tree tensor networks to which Ghadiri et al. extend the
core-shape search: bond k (between modes k and k + 1) carries a rank ``r_k``, and the relevant singular values are
those of the sequential unfolding ``X_<k>`` of shape ``(I_1 ... I_k, I_{k+1} ... I_N)``.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from .._backend import array_namespace, as_rng
from .._backend.linalg import refuse_dask
from .._validate import as_matrix, check_int, check_option, refuse_random_state
from ._spectrum import HosvdSpectrum, _squared_singular_values
from ._tucker import (
    _check_count,
    _check_shape,
    _check_subspace_method,
    _check_tensor,
    _leading_left_vectors,
    _normalise,
    _unscale,
    _unscale_squares,
)

__all__ = ["TTRankResult", "tt_rank_search", "tt_size", "tt_spectrum", "tt_svd", "tt_to_tensor"]


def _check_tt_tensor(X, fn):
    """:func:`_check_tensor`, refusing a Dask tensor: the sequential unfoldings ``X_<k>`` are reshapes across
    every mode, and each is factorized whole."""
    refuse_dask(X, "X", f"{fn} (sequential unfoldings of X)", "use hosvd or st_hosvd, which work on Dask chunk "
                "by chunk")
    return _check_tensor(X)

#: The most partial rank tuples the exact TT-rank enumeration keeps before it refuses.
TT_EXACT_STATE_LIMIT = 4_000_000


class TTRankResult(NamedTuple):
    """TT ranks chosen under a parameter budget, with the surrogate bounds.

    Attributes
    ----------
    ranks : tuple of int
        The bond ranks ``(r_1, ..., r_{N-1})``.
    n_params : int
        ``tt_size(shape, ranks) <= budget``.
    budget : int
        The budget.
    surrogate_tail : float
        ``sum_k tail_k(r_k)``, ``tail_k(r) = sum_{i > r} sigma_i(X_<k>)^2``: an upper bound on the TT-SVD error
        ``||X - X_hat||_F^2`` (Oseledets 2011).
    lower_bound : float
        ``max_k tail_k(r_k)``, a lower bound on the error of any tensor train with these ranks.
    norm_sq : float
        ``||X||_F^2``.
    solve_time : float
        Seconds of the search (the spectrum excluded).
    method : str
        ``"exact"`` or ``"greedy"``.

    See Also
    --------
    tt_rank_search : Returns a TTRankResult.
    tt_svd : The tensor train at these ranks.
    """

    ranks: tuple
    n_params: int
    budget: int
    surrogate_tail: float
    lower_bound: float
    norm_sq: float
    solve_time: float
    method: str


def _max_ranks(shape):
    return [min(math.prod(shape[:k + 1]), math.prod(shape[k + 1:])) for k in range(len(shape) - 1)]


def _check_tt_ranks(ranks, shape, name="ranks", *, of="X."):
    """Check bond ranks against a tensor shape; `of` prefixes the shape in messages (``""`` for a `shape`)."""
    if isinstance(ranks, np.ndarray) and ranks.ndim == 1:
        ranks = ranks.tolist()
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, (list, tuple)):
        raise TypeError(f"{name} must be a sequence of N - 1 ints (the bond ranks), got {type(ranks).__name__}")
    if len(ranks) != len(shape) - 1:
        order = f"{of}ndim" if of else "len(shape)"
        raise ValueError(f"len({name})={len(ranks)} must equal the number of bonds, {order} - 1 = {len(shape) - 1}")
    top = _max_ranks(shape)
    return tuple(check_int(r, f"{name}[{k}]", low=1, high=top[k],
                           high_text=f"min(prod({of}shape[:{k + 1}]), prod({of}shape[{k + 1}:])) = {top[k]}")
                 for k, r in enumerate(ranks))


def tt_size(shape, ranks):
    """Number of parameters of a tensor train: ``sum_k r_{k-1} I_k r_k`` with ``r_0 = r_N = 1``.

    Parameters
    ----------
    shape : sequence of int
        ``(I_1, ..., I_N)``, ``N >= 2``.
    ranks : sequence of int
        The N - 1 bond ranks, ``1 <= r_k <= min(I_1 ... I_k, I_{k+1} ... I_N)``.

    Returns
    -------
    int
        The number of entries of the cores.

    See Also
    --------
    tucker_size : The parameter count of a Tucker decomposition.
    tt_rank_search : Bond ranks within a budget of this size.

    Examples
    --------
    >>> tt_size((10, 20, 30), (5, 6))
    830
    """
    shape = _check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 modes, got {shape}")
    ranks = _check_tt_ranks(ranks, shape, of="")
    full = (1, *ranks, 1)
    return sum(full[k] * shape[k] * full[k + 1] for k in range(len(shape)))


@refuse_random_state
def tt_svd(X, ranks, *, svd="auto", rng=None):
    """TT-SVD (Oseledets 2011): a tensor train with bond ranks `ranks` by sequential truncated SVDs.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite, in any array-API namespace. A Dask array is refused with a ``TypeError``:
        the sequential unfoldings need the whole tensor in one place.
    ranks : sequence of int
        The N - 1 bond ranks, ``1 <= r_k <= min(I_1 ... I_k, I_{k+1} ... I_N)``.
    svd : {"auto", "gram", "svd", "randomized"}
        How each leading subspace is computed (as in :func:`hosvd`).
    rng : None, int or numpy.random.Generator
        Randomness of the randomized SVD.

    Returns
    -------
    list of arrays
        The cores ``G_k`` of shape ``(r_{k-1}, I_k, r_k)`` (``r_0 = r_N = 1``), in the namespace and dtype of `X`;
        the first N - 1 have orthonormal columns when reshaped to ``(r_{k-1} I_k, r_k)``.

    Raises
    ------
    ValueError
        If `X` has order < 2, is empty or holds NaN or Inf, or `ranks` does not have N - 1 entries in range.

    See Also
    --------
    tt_rank_search : Choose the bond ranks under a parameter budget.
    tt_to_tensor : The full tensor of the returned cores.
    hosvd : The Tucker analogue.

    Notes
    -----
    ``||X - X_hat||_F^2 <= sum_k tail_k(r_k)``, where ``tail_k`` sums the squared singular values of the
    sequential unfolding ``X_<k>`` beyond ``r_k``; and any tensor train of these ranks has error at least
    ``max_k tail_k(r_k)``.

    References
    ----------
    .. [1] I. V. Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 33(5), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.tensor import tt_svd, tt_to_tensor
    >>> gen = np.random.default_rng(0)
    >>> cores = [gen.standard_normal(s) for s in [(1, 6, 2), (2, 5, 3), (3, 4, 1)]]
    >>> X = tt_to_tensor(cores)
    >>> [G.shape for G in tt_svd(X, (2, 3))]
    [(1, 6, 2), (2, 5, 3), (3, 4, 1)]
    >>> bool(np.allclose(tt_to_tensor(tt_svd(X, (2, 3))), X))
    True
    """
    X, xp = _check_tt_tensor(X, "tt_svd")
    shape = tuple(int(s) for s in X.shape)
    ranks = _check_tt_ranks(ranks, shape)
    method = _check_subspace_method(svd)
    gen = as_rng(rng)
    X, e = _normalise(X, xp)  # the first N - 1 cores are orthonormal: only the last carries the scale
    cores, left = [], 1
    C = xp.reshape(X, (shape[0], -1))
    for k, r in enumerate(ranks):
        U = _leading_left_vectors(C, r, method, gen, xp)
        cores.append(xp.reshape(U, (left, shape[k], r)))
        C = xp.matmul(U.T, C)
        left = r
        C = xp.reshape(C, (left * shape[k + 1], -1))
    cores.append(xp.reshape(_unscale(C, e, xp, "the last core"), (left, shape[-1], 1)))
    return cores


def tt_to_tensor(cores):
    """The full tensor of a tensor train with cores ``G_k`` of shape ``(r_{k-1}, I_k, r_k)``, ``r_0 = r_N = 1``.

    Parameters
    ----------
    cores : sequence of N >= 2 arrays
        The cores, 3-D, finite, in one array-API namespace, with matching bond ranks
        (``cores[k].shape[0] == cores[k - 1].shape[2]``).

    Returns
    -------
    array of shape ``(I_1, ..., I_N)``
        In the namespace and the (promoted) dtype of the cores.

    Raises
    ------
    ValueError
        If there are fewer than 2 cores, a core is not 3-D, is empty or holds NaN or Inf, or the ranks do not chain.

    See Also
    --------
    tt_svd : A tensor train to expand.
    tucker_to_tensor : The same for a Tucker decomposition.

    Examples
    --------
    >>> import numpy as np
    >>> tt_to_tensor([np.ones((1, 2, 3)), np.ones((3, 4, 1))]).shape
    (2, 4)
    """
    if isinstance(cores, (str, bytes)) or not isinstance(cores, (list, tuple)):
        raise TypeError(f"cores must be a list of 3-D arrays, got {type(cores).__name__}")
    if len(cores) < 2:
        raise ValueError(f"cores must hold at least 2 cores, got {len(cores)}")
    cores = [as_matrix(G, f"cores[{k}]", ndim=3, allow_complex=True, sparse=False)  # non-empty, numeric, finite
             for k, G in enumerate(cores)]
    xp = array_namespace(*cores)
    if cores[0].shape[0] != 1 or cores[-1].shape[2] != 1:
        raise ValueError("the first core must have shape (1, I_1, r_1) and the last (r_{N-1}, I_N, 1)")
    shape = [int(G.shape[1]) for G in cores]
    T = xp.reshape(cores[0], (shape[0], -1))
    for k, G in enumerate(cores[1:], start=1):
        if G.shape[0] != T.shape[1]:
            raise ValueError(f"cores[{k}].shape[0]={G.shape[0]} must equal cores[{k - 1}].shape[2] = {T.shape[1]}")
        T = xp.reshape(xp.matmul(T, xp.reshape(G, (G.shape[0], -1))), (-1, G.shape[2]))
    return xp.reshape(T, tuple(shape))


def tt_spectrum(X, *, method="gram"):
    """Squared singular values of every sequential unfolding ``X_<k>``, k = 1..N-1 (the TT surrogate's input).

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite. A Dask array is refused with a ``TypeError`` (as in :func:`tt_svd`).
    method : {"gram", "svd"}
        Eigenvalues of the smaller Gram matrix of each unfolding, or its singular values.

    Returns
    -------
    HosvdSpectrum
        ``values[k]`` of length ``min(I_1 ... I_{k+1}, I_{k+2} ... I_N)`` (0-based k), descending; ``norm_sq``;
        ``shape`` (the tensor's).

    Raises
    ------
    ValueError
        If `X` has order < 2, is empty or holds NaN or Inf, or ``||X||_F^2`` is outside the normal range of its
        dtype (squared singular values of a tensor at the scale ``1e300`` or ``1e-300`` cannot be represented).

    See Also
    --------
    tt_rank_search : The bond-rank search that takes this spectrum as its input.
    hosvd_spectrum : The spectra of the mode-n unfoldings, for Tucker decompositions.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.tensor import tt_spectrum
    >>> spec = tt_spectrum(np.ones((3, 4, 5)))
    >>> [len(v) for v in spec.values], [int((v > 1e-9).sum()) for v in spec.values]
    ([3, 5], [1, 1])
    """
    X, xp = _check_tt_tensor(X, "tt_spectrum")
    method = check_option(method, "method", ["gram", "svd"])
    values, norm_sq, e = _scaled_tt_spectrum(X, method, xp)
    values, norm_sq = _unscale_squares(values, norm_sq, e, values[0].dtype, "tt_spectrum")
    return HosvdSpectrum(values, norm_sq, tuple(int(s) for s in X.shape))


def _scaled_tt_spectrum(X, method, xp):
    """``(values, norm_sq, e)``: the sequential-unfolding spectrum of ``X * 2**e`` (see :func:`_normalise`)."""
    X, e = _normalise(X, xp)
    shape = tuple(int(s) for s in X.shape)
    norm_sq = float(xp.linalg.vector_norm(X)) ** 2
    values = []
    for k, top in enumerate(_max_ranks(shape)):
        M = xp.reshape(X, (math.prod(shape[:k + 1]), -1))
        values.append(_squared_singular_values(M, top, method, None, xp)[:top])
    return values, norm_sq, e


def _tt_exact(prefix, shape, budget, limit):
    """Best bond ranks by pruned vectorised enumeration (the cost of the cores still to come taken at rank 1)."""
    N = len(shape)
    suffix_min = np.concatenate([np.cumsum(np.array(shape[::-1], dtype=np.int64))[::-1], [0]])
    ranks = np.zeros((1, 0), dtype=np.int64)
    last = np.ones(1, dtype=np.int64)  # r_{k-1}
    cost = np.zeros(1, dtype=np.int64)  # cores 1..k-1 exactly
    mass = np.zeros(1)
    for k in range(N - 1):
        r = np.arange(1, len(prefix[k]), dtype=np.int64)
        core = last[:, None] * shape[k] * r[None, :]
        rest = r[None, :] * shape[k + 1] + suffix_min[k + 2]  # the cores still to come, at rank 1
        keep = cost[:, None] + core + rest <= budget
        i, j = np.nonzero(keep)
        if i.size > limit:
            raise ValueError(f"the exact TT-rank search would keep {i.size} partial rank tuples (more than "
                             f"{limit}); use method='greedy'")
        ranks = np.concatenate([ranks[i], r[j, None]], axis=1)
        cost = cost[i] + core[i, j]
        mass = mass[i] + prefix[k][r[j]]
        last = r[j]
    total = cost + last * shape[-1]
    feasible = total <= budget
    ranks, total, mass = ranks[feasible], total[feasible], mass[feasible]
    order = np.lexsort((*ranks.T[::-1], total, -mass))
    return tuple(int(v) for v in ranks[order[0]])


def _tt_greedy(prefix, shape, budget):
    """Grow ``(1, ..., 1)`` by the bond with the largest next squared singular value per added parameter."""
    ranks = [1] * (len(shape) - 1)

    def size(rs):
        full = (1, *rs, 1)
        return sum(full[k] * shape[k] * full[k + 1] for k in range(len(shape)))

    while True:
        best, best_score, current = None, 0.0, size(ranks)
        for k in range(len(ranks)):
            if ranks[k] + 1 >= len(prefix[k]):
                continue
            trial = ranks.copy()
            trial[k] += 1
            grown = size(trial)
            if grown > budget:
                continue
            score = (prefix[k][ranks[k] + 1] - prefix[k][ranks[k]]) / (grown - current)
            if score > best_score:
                best, best_score = k, score
        if best is None:
            return tuple(ranks)
        ranks[best] += 1


def tt_rank_search(X=None, budget=None, *, spectrum=None, method="exact"):
    """TT bond ranks of at most `budget` parameters minimising the surrogate ``sum_k tail_k(r_k)``.

    The tensor-train case of the tree-tensor-network search of Ghadiri et al.: since
    ``max_k tail_k(r_k) <= min_TT ||X - X_hat||^2 <= ||X - TT-SVD(X)||^2 <= sum_k tail_k(r_k)``, the minimiser of
    the sum is an (N - 1)-approximation of the best TT ranks.

    Parameters
    ----------
    X : array of order N >= 2, optional
        The tensor; may be None when `spectrum` (from :func:`tt_spectrum`) is given. A Dask array is refused
        with a ``TypeError`` (as in :func:`tt_svd`).
    budget : int
        Largest ``tt_size(shape, ranks)``, at least ``sum_n I_n`` (all ranks 1); an integral float such as ``4e4``
        is taken as that integer.
    spectrum : HosvdSpectrum, optional
        :func:`tt_spectrum` of the tensor, to share between budgets.
    method : {"exact", "greedy"}
        "exact": pruned vectorised enumeration of all bond ranks (small orders); "greedy": grow by the
        largest next squared singular value per added parameter.

    Returns
    -------
    TTRankResult
        The ranks, their parameter count and the surrogate bounds on the TT-SVD error.

    Raises
    ------
    ValueError
        If `budget` is below ``sum_n I_n`` or not a whole number, `X` is not a finite tensor of order >= 2,
        "exact" would enumerate too many rank tuples, or ``||X||_F^2`` (in ``norm_sq`` and the bounds) is outside
        the normal range of float64 (the ranks do not depend on the scale: divide X by a power of two first).

    See Also
    --------
    TTRankResult : The returned ranks, parameter count and surrogate error bounds.
    tt_svd : The tensor train at the chosen ranks.
    tt_spectrum : The spectrum the surrogate is built from.
    core_shape_search : The same budgeted choice for a Tucker core shape.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.tensor import tt_rank_search, tt_to_tensor
    >>> gen = np.random.default_rng(0)
    >>> X = tt_to_tensor([gen.standard_normal(s) for s in [(1, 8, 2), (2, 7, 3), (3, 6, 1)]])
    >>> res = tt_rank_search(X, 16 + 42 + 18)
    >>> res.ranks, bool(res.surrogate_tail < 1e-10 * res.norm_sq)
    ((2, 3), True)
    """
    method = check_option(method, "method", ["exact", "greedy"])
    if X is None and spectrum is None:
        raise ValueError("give the tensor X, or its spectrum (spectrum=tt_spectrum(X))")
    if spectrum is None:  # in float64 whatever X's dtype, as the search works in float64
        X, xp = _check_tt_tensor(X, "tt_rank_search")
        values, norm_sq, e = _scaled_tt_spectrum(X, "gram", xp)
        values, norm_sq = _unscale_squares([np.asarray(v, dtype=np.float64) for v in values], norm_sq, e,
                                           np.float64, "tt_rank_search")
        spectrum = HosvdSpectrum(values, norm_sq, tuple(int(s) for s in X.shape))
    elif not isinstance(spectrum, HosvdSpectrum):
        raise TypeError(f"spectrum must be the HosvdSpectrum of tt_spectrum, got {type(spectrum).__name__}")
    shape = spectrum.shape
    budget = _check_count(budget, "budget")
    if budget < sum(shape):
        raise ValueError(f"budget={budget} must be at least the size of the all-ones ranks, sum(shape) = "
                         f"{sum(shape)} for shape {shape}")
    prefix = [np.concatenate([[0.0], np.cumsum(np.asarray(v, dtype=np.float64))]) for v in spectrum.values]
    start = time.perf_counter()
    ranks = (_tt_exact(prefix, shape, budget, TT_EXACT_STATE_LIMIT) if method == "exact"
             else _tt_greedy(prefix, shape, budget))
    seconds = time.perf_counter() - start
    tails = np.array([max(spectrum.norm_sq - p[r], 0.0) for p, r in zip(prefix, ranks)])
    return TTRankResult(ranks=ranks, n_params=tt_size(shape, ranks), budget=budget,
                        surrogate_tail=float(tails.sum()), lower_bound=float(tails.max()),
                        norm_sq=float(spectrum.norm_sq), solve_time=seconds, method=method)
