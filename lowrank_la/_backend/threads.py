"""Thread control: bound the threads of BLAS and of the Numba kernels."""

from __future__ import annotations

import contextlib
import functools

from .._validate import check_int

__all__ = ["KERNEL_THREADS_NOTE", "blas_beside_kernels", "one_blas_thread", "thread_limit"]


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


#: Why the functions whose heavy work is parallel Numba kernels run their BLAS on one thread
#: (:func:`blas_beside_kernels`)
KERNEL_THREADS_NOTE = """\
OpenBLAS's threads spin for about 0.1 s after each multithreaded call before they sleep (NumPy's and scipy's
wheels each bundle one OpenBLAS with its own pool). A parallel Numba kernel started meanwhile shares its cores
with the spinning threads, and its threads, each given an equal share of the work, finish at the pace of the
slowest: about half speed on 2 cores. A BLAS call between two kernels is enough: the input check's dot product,
the small dense work between the sparse products of a Krylov step. Measured on 2 cores at the machine's
default threads, before and after (``python tools/thread_sweep.py``, each call in a fresh process): ``rsvd`` of
the standard library's TF-IDF matrix (sparse, k = 20) 71 ms and 42 ms, ``svd_tol`` of it at tol 0.5 4.3 s and
3.0 s, ``altmin_complete`` of a 2000 x 1000 rank-10 matrix with 10% observed 2.5 s and 1.2 s, the FJLT and the
SRHT of a dense 4096 x 2000 block 143 ms and 104 ms, then 70 ms and 65 ms (on one thread for everything: 46 ms,
3.0 s, 1.5 s, 70 ms, 66 ms).
Setting ``OPENBLAS_THREAD_TIMEOUT=4`` before NumPy is imported shortens the spin for the whole process."""


def blas_beside_kernels(runs_kernels=None):
    """Decorator: run the function with BLAS on one thread where its heavy work is parallel Numba kernels.

    See :data:`KERNEL_THREADS_NOTE` for why. Nothing changes where Numba has one thread, or where
    ``runs_kernels(*args, **kwargs)`` (default: always) says the call's work is not in the kernels (a dense
    input, whose GEMMs need every BLAS thread).

    Examples
    --------
    >>> @blas_beside_kernels()
    ... def work():
    ...     return "done"
    >>> work()
    'done'
    """
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if runs_kernels is None or runs_kernels(*args, **kwargs):
                import numba

                if numba.get_num_threads() > 1:
                    with one_blas_thread():
                        return func(*args, **kwargs)
            return func(*args, **kwargs)
        return wrapper
    return decorate
