"""Random streams: ``rng`` normalised in scipy's SPEC-7 style, reproducible independent streams for chunks,
and normal draws in the input's namespace and dtype."""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_int
from .namespace import is_cupy_namespace, is_numpy_namespace

__all__ = ["as_rng", "random_normal", "spawn_rngs"]


def as_rng(rng=None, xp=None, *, name: str = "rng"):
    """Normalise `rng` into a generator for the namespace `xp` (scipy's SPEC-7 rules).

    ``None`` gives fresh OS entropy, an int seeds a new generator, a ``numpy.random.Generator`` (or a
    ``numpy.random.SeedSequence``) is used as is. For CuPy arrays a ``cupy.random.Generator`` is also
    accepted, and ints and NumPy generators are turned into one, so the draws happen on the device. Every
    other namespace (Dask, array-api-strict, ...) draws on the host with NumPy and converts.

    Examples
    --------
    >>> a = as_rng(0).standard_normal(3)
    >>> b = as_rng(0).standard_normal(3)
    >>> bool((a == b).all())
    True
    >>> as_rng(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng=-1 must satisfy rng >= 0
    """
    if xp is not None and is_cupy_namespace(xp):
        import cupy

        if isinstance(rng, cupy.random.Generator):
            return rng
        if isinstance(rng, np.random.Generator):
            return cupy.random.default_rng(int(rng.integers(2**63 - 1)))
        return cupy.random.default_rng(None if rng is None else _seed(rng, name))
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.RandomState):
        raise TypeError(f"{name} must be None, an int or a numpy.random.Generator; the legacy RandomState is "
                        "not accepted (use numpy.random.default_rng(seed))")
    return np.random.default_rng(_seed(rng, name))


def _seed(rng, name: str) -> int:
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"{name} must be None, an int or a numpy.random.Generator, got {type(rng).__name__}")
    return check_int(rng, name, low=0)


def spawn_rngs(rng, n: int) -> list:
    """`n` independent NumPy generators derived from `rng`, for reproducible per-chunk streams.

    The same `rng` (the same seed) gives the same list, whatever the order in which the chunks are computed,
    which is what makes Dask results reproducible.

    Examples
    --------
    >>> [g.integers(100) for g in spawn_rngs(7, 3)] == [g.integers(100) for g in spawn_rngs(7, 3)]
    True
    """
    gen = as_rng(rng)
    return list(gen.spawn(check_int(n, "n", low=0)))


def random_normal(gen, shape, *, dtype, xp, device=None):
    """Standard normal draws of `shape` in `dtype`, in namespace `xp` on `device`.

    NumPy and CuPy draw natively (float32 is drawn as float32, not drawn in float64 and cast); other
    namespaces draw on the host with a NumPy generator and convert.
    """
    if is_cupy_namespace(xp):
        return gen.standard_normal(shape, dtype=np.dtype(dtype))
    host_dtype = np.float32 if xp.finfo(dtype).bits == 32 else np.float64
    draws = gen.standard_normal(shape, dtype=host_dtype)
    if is_numpy_namespace(xp):
        return draws
    return xp.asarray(draws, device=device)
