"""Solves with the normal matrix ``M = B B^T``: a factorisation (Cholesky with a ridge, or a pseudo-inverse) and
preconditioned conjugate gradients."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .._backend import array_namespace, is_numpy_namespace

__all__ = ["NormalFactor", "SingularNormalMatrix", "pcg", "pinv_rtol"]


class SingularNormalMatrix(ValueError):
    """The normal matrix ``B B^T`` is singular (or not positive definite to working precision)."""


def pinv_rtol(m, eps) -> float:
    """Relative cutoff of the pseudo-inverse of an m x m matrix in a dtype of machine epsilon `eps`:
    eigenvalues below ``max(1e-10, 10 m eps) * lambda_max`` count as zero."""
    return max(1e-10, 10.0 * m * float(eps))


class NormalFactor:
    """``(M + ridge I)^-1`` by Cholesky (``ridge`` a float >= 0), or ``M^+`` by an eigendecomposition
    (``ridge="pinv"``: eigenvalues below ``pinv_rtol * lambda_max`` are dropped).

    Attributes
    ----------
    rank : int
        Numerical rank kept (``m`` for the Cholesky path).
    """

    def __init__(self, M, ridge):
        self.xp = xp = array_namespace(M)
        m = M.shape[0]
        self.ridge = ridge
        self._loop_inverse = None
        if ridge == "pinv":
            lam, V = xp.linalg.eigh(M)
            cut = pinv_rtol(m, xp.finfo(M.dtype).eps) * max(float(lam[-1]), 0.0)
            keep = lam > cut
            self.rank = int(xp.sum(xp.astype(keep, xp.int64)))
            if self.rank == 0:
                raise SingularNormalMatrix("the normal matrix B B^T is zero")
            self._V = V[:, keep]
            self._inv_lam = 1.0 / lam[keep]
            return
        self.rank = m
        shifted = M + ridge * xp.eye(m, dtype=M.dtype) if ridge else M
        try:
            if is_numpy_namespace(xp):
                self._chol = scipy.linalg.cho_factor(shifted, lower=True, check_finite=False)
            else:
                self._chol = xp.linalg.cholesky(shifted)
            bad = not _finite(self._chol[0] if is_numpy_namespace(xp) else self._chol, xp)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError) as exc:
            raise SingularNormalMatrix(_singular_message(ridge)) from exc
        if bad:
            raise SingularNormalMatrix(_singular_message(ridge))
        rcond = self._rcond(shifted)
        if not rcond >= pinv_rtol(m, xp.finfo(M.dtype).eps):
            raise SingularNormalMatrix(_singular_message(ridge, rcond))

    def _rcond(self, shifted) -> float:
        """Reciprocal 1-norm condition number of the factored ``M + ridge I``.

        NumPy: LAPACK's estimate from the Cholesky factor (``pocon``, ``O(m^2)``). Elsewhere: exact, from the
        explicit inverse (two triangular solves, ``O(m^3)``, the order of the factorisation itself).
        """
        xp = self.xp
        anorm = float(xp.max(xp.sum(xp.abs(shifted), axis=0)))
        if not anorm > 0.0:
            return 0.0
        if is_numpy_namespace(xp):
            chol = self._chol[0]
            pocon, = scipy.linalg.get_lapack_funcs(("pocon",), (chol,))
            rcond, info = pocon(chol, anorm, uplo="L")
            return float(rcond) if info == 0 else 0.0
        inv = self.solve(xp.eye(shifted.shape[0], dtype=shifted.dtype))
        inv_norm = float(xp.max(xp.sum(xp.abs(inv), axis=0)))
        return 1.0 / (anorm * inv_norm) if inv_norm > 0.0 and np.isfinite(inv_norm) else 0.0

    def state(self) -> dict:
        """The arrays that define the factorisation (for ``save``)."""
        if self.ridge == "pinv":
            return {"V": self._V, "inv_lam": self._inv_lam}
        return {"chol": self._chol[0] if is_numpy_namespace(self.xp) else self._chol}

    @classmethod
    def from_state(cls, ridge, arrays) -> NormalFactor:
        """The factorisation restored from :meth:`state` (NumPy arrays)."""
        self = cls.__new__(cls)
        self.xp, self.ridge = array_namespace(next(iter(arrays.values()))), ridge
        self._loop_inverse = None
        if ridge == "pinv":
            self._V, self._inv_lam = arrays["V"], arrays["inv_lam"]
            self.rank = int(self._V.shape[1])
        else:
            self._chol = (arrays["chol"], True)
            self.rank = int(arrays["chol"].shape[0])
        return self

    def solve(self, g):
        """``(M + ridge I)^-1 g`` or ``M^+ g`` for ``g`` of shape (m,) or (m, N)."""
        xp = self.xp
        if self.ridge == "pinv":
            coef = self._V.T @ g
            coef = coef * (self._inv_lam if g.ndim == 1 else self._inv_lam[:, None])
            return self._V @ coef
        if is_numpy_namespace(xp):
            return scipy.linalg.cho_solve(self._chol, g, check_finite=False)
        L = self._chol
        return xp.linalg.solve(L.T, xp.linalg.solve(L, g))

    def solve_in_loop(self, g):
        """:meth:`solve` for use inside an iteration loop (the preconditioner of :func:`pcg`).

        On NumPy the Cholesky path applies the explicit, exactly symmetric ``(M + ridge I)^-1`` (formed once per
        factorisation from the Cholesky factor by LAPACK potri, ``2 m^3 / 3`` flops) by one NumPy product, at the
        cost of the two triangular solves of :meth:`solve`: a loop of NumPy products then never alternates with
        scipy's BLAS, whose thread pool spins against NumPy's (see :data:`lowrank_la._backend.SMALL_WORK_NOTE`).
        Elsewhere it is :meth:`solve`.
        """
        if self.ridge == "pinv" or not is_numpy_namespace(self.xp):
            return self.solve(g)
        if self._loop_inverse is None:
            self._loop_inverse = self.inverse()
        return self._loop_inverse @ g

    def inverse(self):
        """The explicit ``(M + ridge I)^-1`` (or ``M^+``), exactly symmetric (on NumPy's Cholesky path by LAPACK
        potri, ``2 m^3 / 3`` flops, from the factor)."""
        xp = self.xp
        if self.ridge == "pinv":
            inv = (self._V * self._inv_lam) @ self._V.T
            return (inv + inv.T) / 2
        chol = self._chol[0] if is_numpy_namespace(xp) else self._chol
        if is_numpy_namespace(xp):
            potri, = scipy.linalg.get_lapack_funcs(("potri",), (chol,))
            inv, info = potri(chol, lower=1)  # a copy: the factor itself is kept as it is
            if info == 0:  # it cannot fail after a successful Cholesky factorisation; stay exact anyway
                lower = np.tril(inv)
                return lower + np.tril(lower, -1).T
        inv = self.solve(xp.eye(chol.shape[0], dtype=chol.dtype))
        return (inv + inv.T) / 2


def lu_rcond(X):
    """The LU factorisation of a square NumPy matrix and LAPACK's estimate (``gecon``, ``O(r^2)``) of its
    reciprocal 1-norm condition number; 0 for a singular or non-finite `X`."""
    with warnings.catch_warnings():  # a singular X warns; its rcond of 0 says so to the caller
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        lu = scipy.linalg.lu_factor(X, check_finite=False)
    anorm = float(np.max(np.sum(np.abs(X), axis=0)))
    if not (anorm > 0.0 and np.isfinite(anorm)):
        return lu, 0.0
    gecon, = scipy.linalg.get_lapack_funcs(("gecon",), (lu[0],))
    rcond, info = gecon(lu[0], anorm, norm="1")
    return lu, float(rcond) if info == 0 and np.isfinite(rcond) else 0.0


def _finite(x, xp) -> bool:
    return bool(xp.all(xp.isfinite(x)))


def _singular_message(ridge, rcond=None) -> str:
    how = "" if rcond is None else f" (reciprocal condition number {rcond:.3g})"
    return (f"the normal matrix B B^T of the constraint matrices A_mats is singular or not positive definite to "
            f"working precision{how}: with symmetric A_i it has rank <= n(n+1)/2, and linearly dependent "
            "(e.g. repeated) A_i make it singular"
            + ("; pass ridge='pinv' (the projection onto the row space of B) or ridge > 0" if not ridge
               else f"; even with ridge={ridge} (pass a larger ridge or ridge='pinv')"))


def pcg(matvec, precondition, g, *, tol, maxiter):
    """Preconditioned conjugate gradients for ``M y = g``, started at ``y0 = precondition(g)``.

    Stops when ``sqrt(r^T z) <= tol sqrt(g^T z0)``, the residual in the preconditioner's inverse norm: with
    ``M~ ~ M`` it is the energy-norm error, which is the error of ``B^T y`` (the projection's output), relative to
    ``||B^T y*||``. Returns ``(y, n_iter, converged)`` (``n_iter`` counts products with ``M``).
    """
    xp = array_namespace(g)
    z0 = precondition(g)
    target = tol * float(xp.sqrt(xp.clip(xp.sum(g * z0), 0.0, None)))
    y = z0
    r = g - matvec(y)
    z = precondition(r)
    rz = float(xp.sum(r * z))
    if target == 0.0 or np.sqrt(max(rz, 0.0)) <= target:
        return y, 1, True
    p = z
    for it in range(1, maxiter + 1):
        q = matvec(p)
        pq = float(xp.sum(p * q))
        if not pq > 0.0:  # the preconditioned operator lost definiteness (rounding): stop here
            return y, it + 1, False
        alpha = rz / pq
        y = y + alpha * p
        r = r - alpha * q
        z = precondition(r)
        rz_new = float(xp.sum(r * z))
        if np.sqrt(max(rz_new, 0.0)) <= target:
            return y, it + 1, True
        p = z + (rz_new / rz) * p
        rz = rz_new
    return y, maxiter + 1, False
