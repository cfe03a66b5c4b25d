"""Column-row sampling (Drineas, Kannan and Mahoney's BasicMatrixMultiplication)."""

from __future__ import annotations

from .._validate import check_option
from ._common import ColumnRowSampler, Operands, check_count, terms_variance

__all__ = ["sampled_matmul"]


def sampled_matmul(A, B, c, *, probs="norm", replace=True, rng=None, return_variance=False):
    """Approximate ``A @ B`` from `c` sampled column-row pairs (Drineas-Kannan-Mahoney).

    Draws indices ``i_1, ..., i_c`` from probabilities ``p`` over the inner dimension and returns
    ``C R = sum_t A[:, i_t] B[i_t, :] / (c p_{i_t})``, an unbiased estimate of ``A B``.

    Parameters
    ----------
    A : (m, n) array
        Dense array of any array-API namespace (NumPy, CuPy, ...) or a Dask array; only the sampled columns
        are read (plus one pass for ``probs="norm"``).
    B : (n, p) array
        As `A`; only the sampled rows are read.
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
    P : (m, p) array
        The estimate, in the namespace and working dtype of the inputs (float32 stays float32; a NumPy array
        for Dask inputs).
    variance : float
        Only with ``return_variance=True``.

    Raises
    ------
    ValueError
        If the inner dimensions disagree, ``c < 1``, `probs` do not sum to one or vanish where the data does
        not, or an input holds NaN or Inf.

    Notes
    -----
    With replacement, ``E ||C R - A B||_F^2 = (sum_k ||A_k||^2 ||B_k||^2 / p_k - ||A B||_F^2) / c``; with the
    norm probabilities this is ``((sum_k ||A_k|| ||B_k||)^2 - ||A B||_F^2) / c <= ||A||_F^2 ||B||_F^2 / c``
    (:func:`matmul_variance` evaluates it). Without replacement (uniform), the factor ``1/c`` becomes
    ``(n - c) / (c (n - 1))``. Cost: ``O(c (m + p))`` to gather plus ``O(m p c)`` for the product; the norm
    probabilities add one pass ``O(n (m + p))``; drawing uses an alias table (``O(n)`` set-up in Numba,
    ``O(1)`` per draw).

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
    ops = Operands(A, B)
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
    Ac = Ac * (inv * (1.0 / c)) if inv is not None else Ac * (ops.n / c)
    P = xp.matmul(Ac, Br)
    if not return_variance:
        return P
    fpc = 1.0 if replace else 1.0 - c / ops.n
    return P, terms_variance(Ac, Br, P, c, fpc)
