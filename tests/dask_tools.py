"""Shared checks for the Dask paths: a guard that no task of a graph gathers its input, and chunked test inputs.

A *gather* is a task that receives all (or most) of a big input at once: ``rechunk`` to one chunk, ``compute``
inside a graph, a ``concatenate`` of every block. ``max_task_input_bytes`` executes the graph on the synchronous
scheduler and records, for every task, the total size of the values it receives from other tasks. Inputs made by
:func:`chunked` inline their NumPy source into each chunk's getter, so the source itself is never a task input and
a per-chunk task receives one chunk.
"""

from __future__ import annotations

import numpy as np

da = None


def _dask_array():
    global da
    if da is None:
        import dask.array

        da = dask.array
    return da


def chunked(a, chunks):
    """A Dask array of ``a`` with the given chunks whose graph holds no task returning the whole of ``a``."""
    return _dask_array().from_array(np.asarray(a), chunks=chunks, inline_array=True)


class _LargestTaskInput:
    """A Dask callback recording the largest number of bytes one task received (``largest``)."""

    def __new__(cls):
        from dask.callbacks import Callback

        class Probe(Callback):
            largest = 0

            def _pretask(self, key, dsk, state):
                cache = state["cache"]
                received = sum(_nbytes(cache.get(dep)) for dep in state["dependencies"][key])
                self.largest = max(self.largest, received)

        return Probe()


def max_task_input_bytes(*collections) -> int:
    """Compute ``collections`` (Dask collections) and return the largest number of bytes any one task received."""
    import dask

    with _LargestTaskInput() as probe:
        dask.compute(*collections, scheduler="sync")
    return probe.largest


def guarded_call(call, source, fraction=0.5):
    """Run ``call()`` on the synchronous scheduler with every graph it computes inside checked by the guard.

    For functions that compute parts of their result eagerly (sketch products, small solves): fails if any task
    of any of those graphs receives more than ``fraction`` of ``source``'s bytes. Returns what ``call`` returns.
    """
    import dask

    with dask.config.set(scheduler="sync"), _LargestTaskInput() as probe:
        out = call()
    total = int(source.nbytes)
    assert probe.largest <= fraction * total, f"a task received {probe.largest} of {total} bytes: a gather"
    return out


def _nbytes(value) -> int:
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    nbytes = getattr(value, "nbytes", None)
    if nbytes is None and hasattr(value, "data") and hasattr(value, "indptr"):  # scipy.sparse
        nbytes = value.data.nbytes + value.indices.nbytes + value.indptr.nbytes
    return int(nbytes or 0)


def assert_no_gather(*collections, source, fraction=0.5):
    """Fail if any task computing ``collections`` receives more than ``fraction`` of ``source``'s bytes.

    ``source`` is the Dask input (with at least four chunks, so that one chunk or a pair of matching chunks stays
    under half of it) or its size in bytes.
    """
    total = source if isinstance(source, (int, np.integer)) else int(source.nbytes)
    if not isinstance(source, (int, np.integer)):
        assert source.npartitions >= 4, "the guard needs an input of at least four chunks"
    largest = max_task_input_bytes(*collections)
    assert largest <= fraction * total, (
        f"a task received {largest} bytes, {largest / total:.0%} of the {total}-byte input: a gather")


def assert_equal_to_rounding(got, expected, rel=1e-12):
    """``got`` equals ``expected`` to ``rel`` times the largest entry of ``expected``.

    What a Dask result of the same arithmetic as a NumPy one can promise: a chunk arrives in a fresh buffer (from
    ``from_array``'s slicing or a worker's deserialisation), and BLAS (OpenBLAS 0.3.31 here) may round a product
    differently at another memory alignment, so results that were equal bit for bit with one BLAS build differ in
    the last bits with another.
    """
    np.testing.assert_allclose(got, expected, rtol=0, atol=rel * float(np.abs(expected).max()))
