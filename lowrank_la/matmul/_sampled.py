"""Column-row sampling (Drineas, Kannan and Mahoney's BasicMatrixMultiplication)."""

from __future__ import annotations

import numpy as np

from .._validate import check_option, is_sparse, refuse_random_state
from ._common import (
    ColumnRowSampler,
    Operands,
    check_count,
    max_exponent,
    outside_safe_range,
    scale_pow2,
    terms_variance,
)

__all__ = ["sampled_matmul"]


@refuse_random_state
def sampled_matmul(A, B, c, *, probs="norm", replace=True, rng=None, return_variance=False):
    """Approximate ``A @ B`` from `c` sampled column-row pairs (Drineas-Kannan-Mahoney).

    Draws indices ``i_1, ..., i_c`` from probabilities ``p`` over the inner dimension and returns
    ``C R = sum_t A[:, i_t] B[i_t, :] / (c p_{i_t})``, an unbiased estimate of ``A B``.

    Parameters
    ----------
    A : (m, n) array or sparse matrix
        Dense array of any array-API namespace (NumPy, CuPy, ...), a Dask array, or a scipy.sparse matrix
        (with a NumPy or scipy.sparse `B`); only the sampled columns are read (plus one pass for
        ``probs="norm"``). A Dask array is never gathered: the norms are per-chunk reductions and the picked
        columns are read chunk by chunk (the same draws and result as for NumPy). Lists, tuples, DataFrames
        and ``numpy.matrix`` are converted to NumPy arrays.
    B : (n, p) array or sparse matrix
        As `A`; only the sampled rows are read. Sparse operands are sampled from a CSC copy of A and a CSR
        copy of B (or the matrices themselves when they are in that format), never densified.
    c : int
        Number of sampled pairs, ``c >= 1`` (``c <= n`` without replacement).
    probs : {"norm", "uniform"} or (n,) array
        ``"norm"``: ``p_k ∝ ||A[:, k]|| ||B[k, :]||``, the probabilities that minimise the expected squared
        Frobenius error (one pass over A and B); ``"uniform"``: ``p_k = 1/n`` (no pass); an array: given
        probabilities, which must sum to one and be positive wherever ``||A[:, k]|| ||B[k, :]|| > 0``.
    replace : bool
        Sample with replacement (i.i.d. draws, the default). ``replace=False`` draws `c` distinct indices
        uniformly (``probs="uniform"`` only) and rescales by ``n / c``.
    rng : None, int or numpy.random.Generator
        Source of randomness (a CuPy generator for CuPy inputs also works). Same seed, same bits.
    return_variance : bool
        Also return an unbiased estimate of the expected squared error ``E ||C R - A B||_F^2``, from the
        spread of the `c` rescaled terms (NaN when ``c = 1``).

    Returns
    -------
    P : (m, p) array or sparse matrix
        The estimate, in the namespace and working dtype of the inputs (float32 stays float32; a NumPy array
        for Dask inputs and for one sparse operand, a scipy.sparse CSR matrix when both are sparse).
    variance : float
        Only with ``return_variance=True``.

    Raises
    ------
    ValueError
        If the inner dimensions disagree, ``c < 1``, `probs` do not sum to one or vanish where the data does
        not, an input holds NaN or Inf, or the estimate (or the variance) is outside the float range.
    TypeError
        If an input is not an array (or a sparse matrix), or is complex.

    See Also
    --------
    sketched_matmul : The product through a random sketch instead of sampled column-row pairs.
    matmul_variance : The exact expected squared error of this estimator.
    mlmc_matmul : Multilevel Monte Carlo over sampled products, for entrywise functions of the product.

    Notes
    -----
    With replacement, ``E ||C R - A B||_F^2 = (sum_k ||A_k||^2 ||B_k||^2 / p_k - ||A B||_F^2) / c``; with the
    norm probabilities this is ``((sum_k ||A_k|| ||B_k||)^2 - ||A B||_F^2) / c <= ||A||_F^2 ||B||_F^2 / c``
    (:func:`matmul_variance` evaluates it). Without replacement (uniform), the factor ``1/c`` becomes
    ``(n - c) / (c (n - 1))``. Cost: ``O(c (m + p))`` to gather plus ``O(m p c)`` for the product; the norm
    probabilities add one pass ``O(n (m + p))``; drawing uses an alias table (``O(n)`` set-up in Numba,
    ``O(1)`` per draw). The sampled columns and rows are rescaled by powers of two (exact) when their entries are
    so large or small that the product could overflow or underflow, so ``sampled_matmul(s A, B) = s
    sampled_matmul(A, B)`` for any scale ``s`` whose result is representable.

    References
    ----------
    .. [1] P. Drineas, R. Kannan, M. W. Mahoney, "Fast Monte Carlo algorithms for matrices I: approximating
       matrix multiplication", SIAM J. Comput. 36(1), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.matmul import sampled_matmul
    >>> gen = np.random.default_rng(0)
    >>> A, B = gen.standard_normal((20, 5000)), gen.standard_normal((5000, 10))
    >>> P, var = sampled_matmul(A, B, 2000, rng=0, return_variance=True)
    >>> err = np.linalg.norm(P - A @ B)
    >>> bool(err < 4 * np.sqrt(var))
    True
    """
    ops = Operands(A, B, sparse=True)
    check_option(replace, "replace", (True, False))
    check_option(return_variance, "return_variance", (False, True))
    c = check_count(c, "c", ops.n, replace=replace)
    if not replace and not (isinstance(probs, str) and probs == "uniform"):
        raise ValueError("replace=False is only available with probs='uniform' (the rescaling n/c assumes "
                         "equal inclusion probabilities)")
    sampler = ColumnRowSampler(ops, probs)
    gen = ops.host_rng(rng)
    if replace:
        idx = sampler.draw((c,), gen)
    else:
        idx = ops.to_namespace(gen.permutation(ops.n)[:c]) if not ops.dask else gen.permutation(ops.n)[:c]
    Ac, Br = ops.gather(idx)
    xp = ops.xp
    inv = sampler.inverse_probs(idx)
    weights = inv * (1.0 / c) if inv is not None else ops.n / c
    Ac, Br, e = _scaled_pairs(Ac, Br, weights, ops)
    P0 = Ac @ Br if ops.sparse else xp.matmul(Ac, Br)
    P = P0
    if e:
        P = scale_pow2(P0, e)
        data = P.data if is_sparse(P) else P
        if not bool(xp.all(xp.isfinite(data))):
            raise ValueError("the estimate of A @ B overflows the float range of its dtype: its entries exceed "
                             f"{float(np.finfo(ops.dtype).max):.3g}")
    if is_sparse(P):
        P = P.tocsr()
    if not return_variance:
        return P
    fpc = 1.0 if replace else 1.0 - c / ops.n
    return P, terms_variance(Ac, Br, P0, c, fpc, shift=e)


def _scaled_pairs(Ac, Br, weights, ops):
    """``(Ac diag(weights) 2^-ea, Br 2^-eb, ea + eb)``: the weighted sampled pairs, rescaled by powers of two when
    their entries are extreme enough for the product to overflow or underflow (``ea = eb = 0`` otherwise)."""
    xp = ops.xp
    ea, eb = max_exponent(Ac, xp), max_exponent(Br, xp)
    extreme = outside_safe_range(ea, ops.dtype) or outside_safe_range(eb, ops.dtype)
    if not extreme:
        ea = eb = 0
    Ac, Br = scale_pow2(Ac, -ea), scale_pow2(Br, -eb)
    if is_sparse(Ac):
        Ac = Ac @ _diag(np.broadcast_to(np.asarray(weights, dtype=ops.dtype), (Ac.shape[1],)))
    else:
        Ac = Ac * weights
    if extreme:  # the weights 1 / (c p_k) may be large too
        ew = max_exponent(Ac, xp)
        Ac, ea = scale_pow2(Ac, -ew), ea + ew
    return Ac, Br, ea + eb


def _diag(w):
    import scipy.sparse

    return scipy.sparse.diags_array(w, format="csr")
