"""Thread control: bound the threads of BLAS and of the Numba kernels."""

from __future__ import annotations

import contextlib

from .._validate import check_int

__all__ = ["one_blas_thread", "thread_limit"]


@contextlib.contextmanager
def thread_limit(n: int | None):
    """Bound the threads of BLAS/LAPACK (through threadpoolctl) and of the Numba kernels inside a block.

    Parameters
    ----------
    n : int or None
        Most threads to use, ``n >= 1``; ``None`` changes nothing.

    Yields
    ------
    None
        Inside the block, BLAS/LAPACK and Numba use at most `n` threads; the previous limits come back on exit.

    See Also
    --------
    lowrank_la.sketch.fwht : A Numba kernel parallel over the vectors of a batch, which this bounds.
    MatrixOperator : Its sparse products run in parallel Numba kernels, which this bounds.

    Examples
    --------
    >>> with thread_limit(1):
    ...     pass
    """
    if n is None:
        yield
        return
    n = check_int(n, "n", low=1)
    import numba
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        numba.set_num_threads(previous)


_BLAS_CONTROLLER: list = []  # one threadpoolctl controller, made on first use (making one rescans the libraries)


def one_blas_thread():
    """Context: BLAS and LAPACK on one thread, for loops of small dense work.

    A multithreaded BLAS call on a k x k matrix costs more in waking and synchronising threads than in
    arithmetic (and far more on a loaded machine, or where NumPy's and scipy's pools alternate: see
    :data:`SMALL_WORK_NOTE`). Entering and leaving costs about 30 us.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     s = np.linalg.svd(np.eye(3), compute_uv=False)
    """
    if not _BLAS_CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0].limit(limits=1, user_api="blas")
