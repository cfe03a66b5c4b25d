"""Saved state: the one reader of the ``.npz`` files that the stateful objects write, checked against a schema.

A stateful object (``StreamingSketch``, ``TruncatedSVDUpdater``, ``KroneckerProjectionMaintainer``) saves its
arrays and a JSON configuration string in one ``.npz`` file. :func:`read_state` opens such a file with
``allow_pickle=False`` and turns every way a file can be unreadable (truncated, bit-flipped, not a zip archive,
pickled object arrays) into a ``ValueError`` that names the file. The returned :class:`StoredFile` then checks
the configuration against a declared schema of :class:`ConfigField` (types, ranges, known option names; unknown
and missing keys refused) and the arrays against a schema of :class:`ArrayField` (dtype, shape, finiteness,
value ranges, compressed sparse structure), each error naming the file and the field::

    ValueError: state.npz: field 's' must be finite, got 1 NaN or Inf value(s)

No value read from a file selects code to run: bit generators come from the fixed table
:data:`BIT_GENERATORS`, option names are compared with declared tuples. Nothing here builds the object: a
``load`` classmethod reads and checks everything first and constructs its object only at the end, so a refused
file leaves nothing half-built and changes nothing of the caller's state.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import zipfile
import zlib

import numpy as np

__all__ = ["BIT_GENERATORS", "ArrayField", "ConfigField", "StoredFile", "generator_from_state", "generator_state",
           "read_state"]

#: The bit generators a saved random state may name (never looked up by name on a module).
BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
    "MT19937": np.random.MT19937,
}

FLOAT_DTYPES = ("float32", "float64")
INDEX_DTYPES = ("int32", "int64")
_MAX_INT = 2**62  # counts and sizes above this cannot come from a real state


class ConfigField:
    """One key of the JSON configuration.

    Parameters
    ----------
    kind : {"int", "real", "bool", "option", "const", "rng", "dict"}
        ``"int"``: a JSON integer (not a bool); ``"real"``: a finite number; ``"option"``: one of `options`
        (for ``"real"``, `options` are extra accepted values such as ``"pinv"``); ``"const"``: equal to
        ``options[0]``; ``"rng"``: a bit generator state (:func:`generator_from_state`); ``"dict"``: a nested
        configuration checked against `fields`.
    low, high : float, optional
        Bounds of ``"int"`` and ``"real"`` values; `open` makes them strict.
    options : tuple
        Allowed values (``"option"``, ``"const"``, extra values of ``"real"``).
    optional : bool
        Accept ``None`` (JSON null).
    length : int, optional
        The value is a list of this many items of `kind`.
    fields : dict, optional
        The schema of a ``"dict"``.
    """

    def __init__(self, kind, *, low=None, high=None, open=(False, False), options=(), optional=False, length=None,
                 fields=None):
        self.kind, self.low, self.high, self.open = kind, low, high, open
        self.options, self.optional, self.length, self.fields = tuple(options), optional, length, fields

    def describe(self) -> str:
        """What the field must be, in words."""
        if self.kind == "const":
            text = repr(self.options[0])
        elif self.kind == "option":
            text = "one of " + ", ".join(repr(o) for o in self.options)
        elif self.kind in ("int", "real"):
            text = "an integer" if self.kind == "int" else "a finite number"
            lo = "" if self.low is None else f"{self.low} {'<' if self.open[0] else '<='} "
            hi = "" if self.high is None else f" {'<' if self.open[1] else '<='} {self.high}"
            if lo or hi:
                text += f" with {lo}value{hi}"
            if self.options:
                text += " or one of " + ", ".join(repr(o) for o in self.options)
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "rng":
            text = "a bit generator state of " + ", ".join(BIT_GENERATORS)
        else:
            text = "an object with the keys " + ", ".join(self.fields)
        if self.length is not None:
            text = f"a list of {self.length} items, each {text}"
        return text + (", or null" if self.optional else "")


class ArrayField:
    """One array of the file.

    Parameters
    ----------
    shape : tuple
        Entries are ints, or names of dimensions: a name already bound (from the configuration or an earlier
        array) must match, an unbound one is bound by this array.
    dtype : "float" or tuple of str
        ``"float"``: the state's floating dtype (float32 or float64, bound by the first such array unless
        given); otherwise the allowed dtype names.
    finite : bool
        Refuse NaN and Inf.
    low, high : float or str, optional
        Bounds on the values (a str names a dimension); `open` makes them strict.
    values : tuple, optional
        The only values allowed.
    """

    def __init__(self, shape, dtype="float", *, finite=True, low=None, high=None, open=(False, False),
                 values=None):
        self.shape, self.dtype, self.finite = tuple(shape), dtype, finite
        self.low, self.high, self.open, self.values = low, high, open, values


def read_state(path, config_key):
    """Open a saved state and read all its arrays; a :class:`StoredFile`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    config_key : str
        The name of the JSON configuration string inside the file.

    Returns
    -------
    StoredFile

    Raises
    ------
    ValueError
        If the file is not a readable ``.npz`` archive (truncated, corrupted, pickled entries), or its
        configuration is not a JSON object; the message names the file.
    FileNotFoundError
        If there is no such file.
    """
    name = os.fspath(path)
    with open(name, "rb") as fh:  # a missing file stays a FileNotFoundError
        try:
            with np.load(fh, allow_pickle=False) as data:
                if not isinstance(data, np.lib.npyio.NpzFile):
                    raise ValueError(f"{name}: not an .npz archive (a single .npy array)")
                arrays = {}
                for field in data.files:
                    try:
                        arrays[field] = np.array(data[field])
                    except ValueError as exc:
                        if "pickle" in str(exc):
                            raise ValueError(f"{name}: field {field!r} holds an object (pickled) array, which is "
                                             "never read") from None
                        raise
        except ValueError as exc:
            if str(exc).startswith(f"{name}: "):
                raise
            raise ValueError(f"{name}: not a readable saved state ({type(exc).__name__}: {exc})") from None
        except (OSError, EOFError, KeyError, IndexError, TypeError, MemoryError, OverflowError, RecursionError,
                SyntaxError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
            raise ValueError(f"{name}: not a readable saved state ({type(exc).__name__}: {exc})") from None
    stored = StoredFile(name, arrays)
    raw = arrays.pop(config_key, None)
    if raw is None:
        raise stored.error(config_key, "is missing: the file is not a saved state of this kind")
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise stored.error(config_key, f"must be a JSON string, got an array of dtype {raw.dtype} and shape "
                                       f"{raw.shape}")
    try:
        config = json.loads(str(raw))
    except (ValueError, RecursionError) as exc:
        raise stored.error(config_key, f"must be a JSON object, got text that does not parse ({exc})") from None
    if not isinstance(config, dict):
        raise stored.error(config_key, f"must be a JSON object, got {type(config).__name__}")
    stored.raw_config = config
    return stored


class StoredFile:
    """The arrays and the configuration of a file read by :func:`read_state`, checked on request."""

    def __init__(self, name, arrays):
        self.name = name
        self._arrays = arrays
        self.raw_config = {}

    def error(self, field, message) -> ValueError:
        """``ValueError("<file>: field '<field>' <message>")``."""
        return ValueError(f"{self.name}: field {field!r} {message}")

    # ------------------------------------------------------------------ configuration
    def config(self, schema) -> dict:
        """The configuration checked against `schema` (a dict of :class:`ConfigField`)."""
        return self._check_dict(self.raw_config, schema, "")

    def _check_dict(self, value, schema, prefix):
        unknown = sorted(set(value) - set(schema))
        if unknown:
            raise self.error(prefix + str(unknown[0]), "is unknown (known: " + ", ".join(schema) + ")")
        out = {}
        for key, spec in schema.items():
            field = prefix + key
            if key not in value:
                raise self.error(field, f"is missing; it must be {spec.describe()}")
            out[key] = self._check_value(value[key], spec, field)
        return out

    def _check_value(self, value, spec, field):
        if value is None and spec.optional:
            return None
        if spec.length is not None:
            if not isinstance(value, list) or len(value) != spec.length:
                raise self.error(field, f"must be {spec.describe()}, got {_short(value)}")
            return [self._check_one(v, spec, field) for v in value]
        return self._check_one(value, spec, field)

    def _check_one(self, value, spec, field):
        bad = self.error(field, f"must be {spec.describe()}, got {_short(value)}")
        kind = spec.kind
        if kind in ("option", "const") or (kind == "real" and isinstance(value, str)):
            if isinstance(value, (str, bool, numbers.Number)) and any(_same(value, o) for o in spec.options):
                return value
            raise bad
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise bad
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_INT:
                raise bad
            return _in_range(value, spec, bad)
        if kind == "real":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad
            return _in_range(float(value), spec, bad)
        if kind == "rng":
            return self._generator(value, field)
        if not isinstance(value, dict):
            raise bad
        return self._check_dict(value, spec.fields, field + ".")

    def _generator(self, state, field):
        if not isinstance(state, dict) or state.get("bit_generator") not in BIT_GENERATORS:
            raise self.error(field, "must be the state of one of the bit generators " + ", ".join(BIT_GENERATORS)
                             + f", got {_short(state)}")
        try:
            return generator_from_state(state)
        except (TypeError, ValueError, KeyError, OverflowError, AttributeError) as exc:
            raise self.error(field, f"is not a valid {state['bit_generator']} state ({exc})") from None

    # ------------------------------------------------------------------ arrays
    def arrays(self, schema, dims, *, required=None, dtype=None):
        """The arrays named in `required` (default: all of `schema`), each checked against its field.

        Parameters
        ----------
        schema : dict of ArrayField
            Every array this kind of file may hold, in the order they are checked.
        dims : dict
            Named dimensions known from the configuration; the arrays bind the others (updated in place).
        required : iterable of str, optional
            The arrays this state must hold; any other array in the file is refused.
        dtype : numpy dtype, optional
            The floating dtype of the state; else bound by the first ``"float"`` array.

        Returns
        -------
        dict
            The arrays, C-contiguous.
        """
        required = list(schema) if required is None else [k for k in schema if k in set(required)]
        for key in self._arrays:
            if key not in schema:
                raise self.error(key, "is unknown (known: " + ", ".join(schema) + ")")
            if key not in required:
                raise self.error(key, "does not belong to a state with this configuration")
        bound = {key: None for key in dims}  # which field bound each dimension (None: the configuration)
        state = {"dtype": None if dtype is None else np.dtype(dtype), "dtype_from": None}
        out = {}
        for key in required:
            if key not in self._arrays:
                raise self.error(key, "is missing")
            out[key] = self._check_array(key, self._arrays[key], schema[key], dims, bound, state)
        return out

    def _check_array(self, key, a, spec, dims, bound, state):
        if spec.dtype == "float":
            if state["dtype"] is None:
                if a.dtype.name not in FLOAT_DTYPES:
                    raise self.error(key, f"must have dtype float32 or float64, got {a.dtype}")
                state["dtype"], state["dtype_from"] = a.dtype, key
            elif a.dtype != state["dtype"]:
                origin = "" if state["dtype_from"] is None else f" (that of field {state['dtype_from']!r})"
                raise self.error(key, f"must have dtype {state['dtype']}{origin}, got {a.dtype}")
        elif a.dtype.name not in spec.dtype:
            raise self.error(key, "must have dtype " + " or ".join(spec.dtype) + f", got {a.dtype}")
        if a.ndim != len(spec.shape):
            raise self.error(key, f"must have {len(spec.shape)} dimension(s), got shape {a.shape}")
        for axis, (want, got) in enumerate(zip(spec.shape, a.shape)):
            if isinstance(want, str) and want not in dims:
                dims[want], bound[want] = got, key
                continue
            size = dims[want] if isinstance(want, str) else want
            if got != size:
                names = tuple(spec.shape)
                origin = "" if not isinstance(want, str) or bound.get(want) is None else \
                    f" ({want} from field {bound[want]!r})"
                raise self.error(key, f"must have shape {names} with {names[axis]} = {size}{origin}, got {a.shape}")
        if spec.finite and a.dtype.kind == "f":
            n_bad = int(a.size - np.count_nonzero(np.isfinite(a)))
            if n_bad:
                raise self.error(key, f"must be finite, got {n_bad} NaN or Inf value(s)")
        if a.size:
            self._check_values(key, a, spec, dims)
        return np.ascontiguousarray(a)

    def _check_values(self, key, a, spec, dims):
        if spec.values is not None:
            if not np.isin(a, spec.values).all():
                raise self.error(key, "must hold only the values " + ", ".join(str(v) for v in spec.values)
                                 + f", got {a[~np.isin(a, spec.values)].ravel()[0]}")
        low = dims[spec.low] if isinstance(spec.low, str) else spec.low
        high = dims[spec.high] if isinstance(spec.high, str) else spec.high
        lo, hi = a.min(), a.max()
        if low is not None and (lo < low or (spec.open[0] and lo == low)):
            raise self.error(key, f"must hold values {'>' if spec.open[0] else '>='} {low}, got {lo}")
        if high is not None and (hi > high or (spec.open[1] and hi == high)):
            raise self.error(key, f"must hold values {'<' if spec.open[1] else '<='} {high}, got {hi}")

    def compressed_structure(self, prefix, indices, indptr, n_outer, n_inner):
        """Check the index arrays of a compressed (CSR/CSC) matrix: ``indptr`` starts at 0, does not decrease
        and ends at ``nnz``; the indices lie in ``[0, n_inner)`` and increase strictly within each segment."""
        nnz = indices.shape[0]
        if indptr.shape[0] != n_outer + 1:
            raise self.error(prefix + "_indptr", f"must have {n_outer + 1} entries, got {indptr.shape[0]}")
        if indptr[0] != 0 or indptr[-1] != nnz or (np.diff(indptr) < 0).any():
            raise self.error(prefix + "_indptr", f"must increase from 0 to nnz = {nnz}, got first {indptr[0]}, "
                                                 f"last {indptr[-1]}")
        if nnz and (indices.min() < 0 or indices.max() >= n_inner):
            raise self.error(prefix + "_indices", f"must satisfy 0 <= index < {n_inner}, got values in "
                                                  f"[{indices.min()}, {indices.max()}]")
        step = np.diff(indices.astype(np.int64))
        starts = indptr[1:-1]
        inside = np.ones(step.shape[0], dtype=bool)
        inside[starts[(starts > 0) & (starts < nnz)] - 1] = False  # a step across two segments may decrease
        if (step[inside] <= 0).any():
            raise self.error(prefix + "_indices", "must increase strictly within each column (sorted, no "
                                                  "duplicates)")


def generator_state(gen) -> dict:
    """The state of a ``numpy.random.Generator`` as JSON-ready values (arrays become lists)."""
    return _plain(gen.bit_generator.state)


def generator_from_state(state) -> np.random.Generator:
    """A ``numpy.random.Generator`` in the saved `state`, its bit generator taken from :data:`BIT_GENERATORS`.

    Raises
    ------
    ValueError
        If the state names a bit generator outside the table.
    """
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in BIT_GENERATORS:
        raise ValueError(f"bit_generator={kind!r} must be one of " + ", ".join(BIT_GENERATORS))
    bitgen = BIT_GENERATORS[kind]()
    bitgen.state = _arrays_back(state, bitgen.state)
    return np.random.Generator(bitgen)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


def _arrays_back(value, template):
    """`value` with lists turned back into arrays of the dtype the template holds at the same place."""
    if isinstance(template, dict) and isinstance(value, dict):
        return {k: _arrays_back(v, template.get(k)) for k, v in value.items()}
    if isinstance(template, np.ndarray):
        top = int(np.iinfo(template.dtype).max)
        if (not isinstance(value, list) or len(value) != template.size
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= top for v in value)):
            raise ValueError(f"expected {template.size} integers in [0, {top}], got {_short(value)}")
        return np.array(value, dtype=template.dtype).reshape(template.shape)
    return value


def _in_range(value, spec, bad):
    if spec.low is not None and (value < spec.low or (spec.open[0] and value == spec.low)):
        raise bad
    if spec.high is not None and (value > spec.high or (spec.open[1] and value == spec.high)):
        raise bad
    return value


def _same(value, option) -> bool:
    return type(value) is type(option) and value == option


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
