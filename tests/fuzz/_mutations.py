"""Mutations of one array argument, and what the public boundary must do with each.

A mutation turns the valid base value of an argument into another input and names the expected outcome:

* ``same``: a valid spelling of the same numbers (list, tuple, ``np.matrix``, read-only): the result must
  have the same bits as the ndarray answer;
* ``close``: a valid input whose answer is computed from a reference input (layout changes, sparse formats,
  integer and float32 dtypes): the result must agree with the reference answer within ``rtol``, and keep
  ``dtype`` where one is named;
* ``refuse``: an invalid input: a ``ValueError`` or ``TypeError`` (``error`` names which when only one is
  right) whose message names the argument;
* ``scale``: the base value times ``c``: the scale-equivariant outputs must equal ``c**degree`` times the
  base ones, or the call is refused with a ``ValueError``;
* ``complex``: accepted where the argument allows complex input, else refused with a ``TypeError``;
* ``empty``: an (n, 0) block where the argument's columns pass through (``empty_cols_ok``): accepted, and
  every output has the base output's shape with no columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

SCALES = {"scale_1e-300": 1e-300, "scale_1e300": 1e300, "scale_subnormal": 2.0 ** -1030}
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
SPARSE_FORMATS = ("csr_matrix", "csc_matrix", "coo_matrix", "dok_matrix", "lil_matrix", "dia_matrix", "bsr_matrix",
                  "csr_array", "csc_array", "coo_array")
MALFORMED = ("csr_index_out_of_range", "csr_negative_index", "csr_indptr_non_monotone", "csr_indptr_wrong_length",
             "csc_index_out_of_range", "coo_row_out_of_range", "coo_negative_col", "csr_nan", "csr_inf")
# scipy allows these and reads them as the matrix they stand for: unsorted or duplicate indices (summed), and
# stored entries past indptr[-1] (pruned); the reference is that matrix, dense
CANONICALISABLE = ("csr_unsorted_indices", "csr_duplicate_indices", "csc_duplicate_indices",
                   "csr_indptr_last_not_nnz")


@dataclass
class Outcome:
    """What a mutated input must produce (see the module docstring)."""

    expect: str
    value: object = None
    reference: object = None
    rtol: float = 0.0
    dtype: str | None = None
    error: str | None = None
    scale: float = 1.0
    extra: dict = field(default_factory=dict)


def mutation_names(kind: str, ndims, sparse: bool) -> list[str]:
    """The mutations that apply to an argument of this kind (``matrix``, ``vector``, ``tensor``, ``any``)."""
    names = ["list", "tuple", "readonly", "strided", "fortran", "bool", *INT_DTYPES, "float16", "float32",
             "complex64", "complex128", "object", "str", "nan", "inf", "neg_inf", "empty", *SCALES]
    if kind == "matrix":
        names += ["np_matrix", "dataframe", "empty_cols"]
    if kind == "vector":
        names += ["series"]
    if ndims is not None:
        names += [f"ndim{d}" for d in (0, 1, 2, 3) if d not in ndims]
    if kind == "matrix":
        # a function that refuses sparse input is checked on a few representatives, not on every format
        names += list(SPARSE_FORMATS + CANONICALISABLE + MALFORMED) if sparse else [
            "csr_matrix", "coo_array", "dok_matrix", "csr_index_out_of_range"]
    return names


def _integers(x, dtype):
    info = np.iinfo(dtype)
    y = np.round(x * 10)
    if info.min == 0:
        y = np.abs(y)
    return np.clip(y, info.min, info.max).astype(dtype)


def _csr_pieces(x):
    m = sp.csr_matrix(x)
    return m.data.copy(), m.indices.copy(), m.indptr.copy()


def _malformed(name, x):
    m, n = x.shape
    data, indices, indptr = _csr_pieces(x)
    if name.startswith("coo"):
        c = sp.coo_matrix(x)
        if name == "coo_row_out_of_range":
            c.row[0] = m
        else:
            c.col[0] = -1
        return c
    if name.startswith("csc"):
        c = sp.csc_matrix(x)
        c.indices[0] = m
        return c
    c = sp.csr_matrix((data, indices, indptr), shape=x.shape)
    if name == "csr_index_out_of_range":
        c.indices[0] = n
    elif name == "csr_negative_index":
        c.indices[0] = -1
    elif name == "csr_indptr_non_monotone":
        c.indptr[1] = c.indptr[2] + 1
    elif name == "csr_indptr_wrong_length":
        c.indptr = c.indptr[:-1].copy()
    elif name == "csr_nan":
        c.data[0] = np.nan
    elif name == "csr_inf":
        c.data[0] = np.inf
    return c


def _canonicalisable(name, x):
    if name == "csr_indptr_last_not_nnz":  # the last stored entry lies past indptr[-1]: scipy ignores it
        c = sp.csr_matrix(x)
        c.indptr[-1] -= 1  # edited after construction, which would prune
        return c
    if name == "csr_unsorted_indices":
        data, indices, indptr = _csr_pieces(x)
        for i in range(len(indptr) - 1):
            lo, hi = indptr[i], indptr[i + 1]
            data[lo:hi], indices[lo:hi] = data[lo:hi][::-1].copy(), indices[lo:hi][::-1].copy()
        c = sp.csr_matrix((data, indices, indptr), shape=x.shape)
        c.has_sorted_indices = False
        return c
    fmt = sp.csr_matrix if name.startswith("csr") else sp.csc_matrix
    base = fmt(x)
    major = base.indptr
    # every stored entry twice, each with half its value: halving is exact, so the sum is the matrix itself
    data = np.repeat(base.data / 2, 2)
    indices = np.repeat(base.indices, 2)
    return fmt((data, indices, 2 * major), shape=x.shape)


def mutate(name: str, x: np.ndarray, *, allow_complex: bool,  # noqa: C901 (one branch per mutation)
           empty_cols_ok: bool = False) -> Outcome:
    """Mutation `name` of the base value `x` (a float64 ndarray) and its expected outcome."""
    import pandas as pd

    if name == "list":
        return Outcome("same", x.tolist())
    if name == "tuple":
        return Outcome("same", _to_tuple(x))
    if name == "np_matrix":
        return Outcome("same", np.asmatrix(x))
    if name == "readonly":
        y = x.copy()
        y.flags.writeable = False
        return Outcome("same", y)
    if name == "strided":
        big = np.zeros(tuple(2 * s for s in x.shape), dtype=x.dtype)
        view = big[tuple(slice(None, None, 2) for _ in x.shape)]
        view[...] = x
        return Outcome("close", view, x, rtol=1e-10)
    if name == "fortran":
        return Outcome("close", np.asfortranarray(x), x, rtol=1e-10)
    if name == "dataframe":
        return Outcome("close", pd.DataFrame(x), x, rtol=1e-10)
    if name == "series":
        return Outcome("close", pd.Series(x), x, rtol=1e-10)
    if name == "bool":
        y = x > np.median(x)
        return Outcome("close", y, y.astype(np.float64), rtol=1e-10, dtype="float64")
    if name in INT_DTYPES:
        y = _integers(x, name)
        return Outcome("close", y, y.astype(np.float64), rtol=1e-10, dtype="float64")
    if name == "float32":
        return Outcome("close", x.astype(np.float32), x.astype(np.float32).astype(np.float64), rtol=2e-3,
                       dtype="float32")
    if name == "float16":
        return Outcome("close", x.astype(np.float16), x.astype(np.float16).astype(np.float64), rtol=2e-2)
    if name in ("complex64", "complex128"):
        return Outcome("complex", (x + 0.5j * x[::-1].copy()).astype(name) if x.ndim else x.astype(name),
                       error=None if allow_complex else "TypeError")
    if name == "object":
        return Outcome("refuse", x.astype(object), error="TypeError")
    if name == "str":
        return Outcome("refuse", x.astype(str), error="TypeError")
    if name in ("nan", "inf", "neg_inf"):
        y = x.astype(np.float64)
        y.flat[y.size // 2] = {"nan": np.nan, "inf": np.inf, "neg_inf": -np.inf}[name]
        return Outcome("refuse", y, error="ValueError")
    if name == "empty":
        return Outcome("refuse", x[:0], error="ValueError")
    if name == "empty_cols":
        return Outcome("empty", x[:, :0]) if empty_cols_ok else Outcome("refuse", x[:, :0], error="ValueError")
    if name.startswith("ndim"):
        d = int(name[4:])
        if d == 0:
            y = np.asarray(x.reshape(-1)[0])
        elif d < x.ndim:
            y = x.reshape(x.shape[:d - 1] + (-1,))
        else:
            y = x.reshape(x.shape + (1,) * (d - x.ndim))
        return Outcome("refuse", y, error="ValueError")
    if name in SCALES:
        c = SCALES[name]
        return Outcome("scale", x * c, scale=c)
    if name in SPARSE_FORMATS:
        return Outcome("sparse", getattr(sp, name)(x), x, rtol=1e-8)
    if name in CANONICALISABLE:
        c = _canonicalisable(name, x)
        return Outcome("sparse", c, c.toarray() if name == "csr_indptr_last_not_nnz" else x, rtol=1e-8)
    if name in MALFORMED:
        return Outcome("refuse", _malformed(name, x))
    raise KeyError(f"unknown mutation {name!r}")


def _to_tuple(x):
    return tuple(_to_tuple(r) for r in x) if x.ndim > 1 else tuple(x.tolist())
