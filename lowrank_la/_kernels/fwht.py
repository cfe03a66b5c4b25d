"""Fast Walsh-Hadamard transform kernels: NumPy reference, Numba (CPU) and CUDA through CuPy (GPU).

All three transform the rows of a 2-D C-contiguous array of shape ``(rows, d)``, ``d`` a power of two, in
Sylvester (natural) order: row ``x`` becomes ``x @ scipy.linalg.hadamard(d)``, times ``scale`` for the
in-place kernels (``scale = 1/sqrt(d)`` gives the orthonormal transform, an involution).

The Numba kernel
----------------
Written against explicit SIMD vectors of 64 bytes (16 float32 / 8 float64; 32 bytes where the CPU has no
AVX-512), emitted as LLVM vector IR through ``numba.extending.intrinsic`` so that the code does not depend on
the auto-vectoriser:

* a *base pass* loads up to 8 contiguous vectors, does the ``log2(W)`` levels inside each vector (a lane
  permute, then a multiply-add with a +-1 sign vector), then up to three levels across the vectors, and
  stores once;
* *merged passes* do two or three further levels at a time (radix 4 / radix 8 over vectors ``h`` apart), so a
  row of length ``d`` sees about ``(log2 d - 7) / 3 + 1`` passes over memory;
* rows longer than a cache block (32 KiB) are done depth-first: every block gets all its low levels while it
  is in L1, then merged passes over the whole row do the top levels;
* the scale is folded into the last pass; rows are spread over threads with ``prange``.
"""

from importlib import resources
from pathlib import Path

import numba
import numpy as np
from llvmlite import binding as _llvm_binding
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["fwht_reference", "fwht_numba", "fwht_cupy", "cuda_source_path", "rows_to_columns"]


# ----------------------------------------------------------------------------------------------------------
# NumPy reference
# ----------------------------------------------------------------------------------------------------------


def _check_2d(x, kind):
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (rows, d), got {x.ndim}-D")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x must be float32 or float64, got {x.dtype}")
    d = x.shape[1]
    if d < 1 or d & (d - 1):
        raise ValueError(f"the transform length d={d} must be a power of two")
    if kind == "inplace" and not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous")
    return d


def fwht_reference(x, xp=None):
    """Unnormalised Walsh-Hadamard transform of the rows of `x`, returning a new array.

    ``fwht_reference(x) == x @ scipy.linalg.hadamard(d)``, in ``log2(d)`` vectorised radix-2 passes written
    with array-API operations only, so it runs on any namespace (`xp`, by default the one of `x`): it is
    the oracle the kernels are tested against, and the path of the namespaces without a kernel.
    """
    if xp is None:
        import array_api_compat

        xp = array_api_compat.array_namespace(x)
    if xp.__name__.endswith("numpy"):
        _check_2d(np.asarray(x), "copy")
    rows, d = x.shape
    x = xp.asarray(x, copy=True)
    h = 1
    while h < d:
        v = xp.reshape(x, (rows, d // (2 * h), 2, h))
        a, b = v[:, :, 0, :], v[:, :, 1, :]
        x = xp.reshape(xp.stack((a + b, a - b), axis=2), (rows, d))
        h *= 2
    return x


# ----------------------------------------------------------------------------------------------------------
# Numba kernel: explicit SIMD through LLVM vector IR
# ----------------------------------------------------------------------------------------------------------

_VBYTES = 64 if _llvm_binding.get_host_cpu_features().get("avx512f", False) else 32
_CACHE_BLOCK_BYTES = 32768


def _vector_access(context, builder, arrty, arr, idx, idxty):
    """Unaligned load/store of one SIMD vector of `arr` at element ``idx + off``."""
    ary = context.make_array(arrty)(context, builder, arr)
    elt = context.get_data_type(arrty.dtype)
    itemsize = arrty.dtype.bitwidth // 8
    width = _VBYTES // itemsize
    vty = ir.VectorType(elt, width)
    base = context.cast(builder, idx, idxty, types.int64)

    def load(off):
        ptr = builder.gep(ary.data, [builder.add(base, off)])
        return builder.load(builder.bitcast(ptr, vty.as_pointer()), align=itemsize)

    def store(val, off):
        ptr = builder.gep(ary.data, [builder.add(base, off)])
        builder.store(val, builder.bitcast(ptr, vty.as_pointer()), align=itemsize)

    return vty, width, load, store


def _across(builder, vals):
    """All radix-2 levels across a list of 2^k vectors (vector j pairs with j + h)."""
    k = len(vals)
    h = 1
    while h < k:
        out = list(vals)
        for blk in range(0, k, 2 * h):
            for j in range(blk, blk + h):
                a, b = vals[j], vals[j + h]
                out[j] = builder.fadd(a, b)
                out[j + h] = builder.fsub(a, b)
        vals = out
        h *= 2
    return vals


def _within(builder, vals, vty, width):
    """The log2(width) levels inside each vector: lane i meets lane i ^ h."""
    i32 = ir.IntType(32)
    bits = 32 if vty.element == ir.FloatType() else 64
    fmuladd = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vty, [vty] * 3), f"llvm.fmuladd.v{width}f{bits}"
    )
    h = 1
    while h < width:
        perm = ir.Constant(ir.VectorType(i32, width), [k ^ h for k in range(width)])
        sign = ir.Constant(vty, [(-1.0 if k & h else 1.0) for k in range(width)])
        # lane with bit h clear: v[i^h] + v[i]; set: v[i^h] - v[i]. As fmuladd(v, +-1, v[i^h]): the product by
        # +-1 is exact, so fused or not the result is the rounded sum, as in a plain butterfly (one FMA on
        # CPUs that have it, which leaves the add ports to the other levels).
        vals = [builder.call(fmuladd, [v, sign, builder.shuffle_vector(v, v, perm)]) for v in vals]
        h *= 2
    return vals


def _scaled(builder, vals, vty, width, s):
    i32 = ir.IntType(32)
    sv = builder.insert_element(ir.Constant(vty, ir.Undefined), s, ir.Constant(i32, 0))
    sv = builder.shuffle_vector(sv, sv, ir.Constant(ir.VectorType(i32, width), [0] * width))
    return [builder.fmul(v, sv) for v in vals]


def _make_base(m, scale):
    """Intrinsic: levels 1 .. m*W/2 on the m contiguous vectors at element `i` (times `s` if `scale`)."""

    @intrinsic
    def base(typingctx, arr, i, s):
        def codegen(context, builder, sig, args):
            vty, width, load, store = _vector_access(
                context, builder, sig.args[0], args[0], args[1], sig.args[1]
            )
            i64 = ir.IntType(64)
            offs = [ir.Constant(i64, j * width) for j in range(m)]
            vals = _across(builder, _within(builder, [load(o) for o in offs], vty, width))
            if scale:
                vals = _scaled(builder, vals, vty, width, args[2])
            for v, o in zip(vals, offs):
                store(v, o)
            return context.get_dummy_value()

        return types.void(arr, i, s), codegen

    return base


def _make_radix(k, scale):
    """Intrinsic: levels h, 2h, .. (k/2)h on the k vectors at elements i, i+h, .., i+(k-1)h."""

    @intrinsic
    def radix(typingctx, arr, i, h, s):
        def codegen(context, builder, sig, args):
            vty, width, load, store = _vector_access(
                context, builder, sig.args[0], args[0], args[1], sig.args[1]
            )
            hh = context.cast(builder, args[2], sig.args[2], types.int64)
            offs = [builder.mul(hh, ir.Constant(ir.IntType(64), j)) for j in range(k)]
            vals = _across(builder, [load(o) for o in offs])
            if scale:
                vals = _scaled(builder, vals, vty, width, args[3])
            for v, o in zip(vals, offs):
                store(v, o)
            return context.get_dummy_value()

        return types.void(arr, i, h, s), codegen

    return radix


_base1, _base2, _base4, _base8 = (_make_base(m, False) for m in (1, 2, 4, 8))
_base1s, _base2s, _base4s, _base8s = (_make_base(m, True) for m in (1, 2, 4, 8))
_rad2, _rad4, _rad8 = (_make_radix(k, False) for k in (2, 4, 8))
_rad2s, _rad4s, _rad8s = (_make_radix(k, True) for k in (2, 4, 8))


@njit(cache=True)
def _base_pass(r, lo, n, m, s, scale):
    """Base pass over r[lo:lo+n] in chunks of m vectors."""
    w = _VBYTES // r.itemsize
    step = w * m
    if scale:
        if m == 8:
            for i in range(lo, lo + n, step):
                _base8s(r, i, s)
        elif m == 4:
            for i in range(lo, lo + n, step):
                _base4s(r, i, s)
        elif m == 2:
            for i in range(lo, lo + n, step):
                _base2s(r, i, s)
        else:
            for i in range(lo, lo + n, step):
                _base1s(r, i, s)
    else:
        if m == 8:
            for i in range(lo, lo + n, step):
                _base8(r, i, s)
        elif m == 4:
            for i in range(lo, lo + n, step):
                _base4(r, i, s)
        elif m == 2:
            for i in range(lo, lo + n, step):
                _base2(r, i, s)
        else:
            for i in range(lo, lo + n, step):
                _base1(r, i, s)


@njit(cache=True)
def _merged_pass(r, lo, n, h, k, s, scale):
    """Levels h .. (k/2)h (k = 2, 4 or 8) over r[lo:lo+n]; h is a multiple of the vector width."""
    w = _VBYTES // r.itemsize
    if scale:
        if k == 8:
            for i in range(lo, lo + n, 8 * h):
                for j in range(i, i + h, w):
                    _rad8s(r, j, h, s)
        elif k == 4:
            for i in range(lo, lo + n, 4 * h):
                for j in range(i, i + h, w):
                    _rad4s(r, j, h, s)
        else:
            for i in range(lo, lo + n, 2 * h):
                for j in range(i, i + h, w):
                    _rad2s(r, j, h, s)
    else:
        if k == 8:
            for i in range(lo, lo + n, 8 * h):
                for j in range(i, i + h, w):
                    _rad8(r, j, h, s)
        elif k == 4:
            for i in range(lo, lo + n, 4 * h):
                for j in range(i, i + h, w):
                    _rad4(r, j, h, s)
        else:
            for i in range(lo, lo + n, 2 * h):
                for j in range(i, i + h, w):
                    _rad2(r, j, h, s)


@njit(cache=True)
def _top_levels(r, lo, n, h, s, scale):
    """Levels h, 2h, .., n/2 over r[lo:lo+n], three (or two) at a time; the last pass scales if `scale`."""
    while h < n:
        left = 0
        t = h
        while t < n:
            t *= 2
            left += 1
        if left >= 3 and left != 4:
            k = 8
        elif left >= 2:
            k = 4
        else:
            k = 2
        _merged_pass(r, lo, n, h, k, s, scale and h * k == n)
        h *= k


@njit(cache=True)
def _segment(r, lo, n, s, scale):
    """The whole transform of r[lo:lo+n] (n a power of two >= the vector width)."""
    w = _VBYTES // r.itemsize
    m = min(n // w, 8)
    _base_pass(r, lo, n, m, s, scale and w * m == n)
    _top_levels(r, lo, n, w * m, s, scale)


@njit(cache=True)
def _short_row(r, d, s):
    """Rows shorter than one vector: plain radix-2."""
    h = 1
    while h < d:
        for i in range(0, d, 2 * h):
            for j in range(i, i + h):
                a = r[j]
                b = r[j + h]
                r[j] = a + b
                r[j + h] = a - b
        h *= 2
    for j in range(d):
        r[j] *= s


@njit(cache=True)
def _row(r, s):
    d = r.shape[0]
    if d < _VBYTES // r.itemsize:
        _short_row(r, d, s)
        return
    cb = _CACHE_BLOCK_BYTES // r.itemsize
    if d <= cb:
        _segment(r, 0, d, s, True)
    else:
        for lo in range(0, d, cb):
            _segment(r, lo, cb, s, False)
        _top_levels(r, 0, d, cb, s, True)


@njit(cache=True)
def _rows_serial(x, s):
    for i in range(x.shape[0]):
        _row(x[i], s)


@njit(cache=True, parallel=True)
def _rows_parallel(x, s):
    for i in prange(x.shape[0]):
        _row(x[i], s)


def fwht_numba(x, scale=1.0):
    """In-place Walsh-Hadamard transform of the rows of `x`, times `scale` (Numba, parallel over rows).

    Parameters
    ----------
    x : numpy.ndarray
        2-D, C-contiguous, float32 or float64, shape ``(rows, d)`` with ``d`` a power of two. Overwritten.
    scale : float
        Factor applied to the result (folded into the last pass); ``1/sqrt(d)`` for the orthonormal transform.

    Returns
    -------
    numpy.ndarray
        `x`, now holding ``scale * (x @ hadamard(d))``.

    Notes
    -----
    The number of threads is Numba's (``numba.set_num_threads``); a single row runs on the calling thread.
    """
    _check_2d(x, "inplace")
    s = x.dtype.type(scale)
    if x.shape[0] == 0:
        return x
    if x.shape[0] == 1 or numba.get_num_threads() == 1:
        _rows_serial(x, s)
    else:
        _rows_parallel(x, s)
    return x


@njit(cache=True)
def _columns_serial(x, signs, out):
    for j0 in range(0, out.shape[0], 16):  # 16 rows of out at a time: the x columns they read stay in L1
        for i in range(x.shape[0]):
            for j in range(j0, min(j0 + 16, out.shape[0])):
                out[j, i] = x[i, j] * signs[j]


def rows_to_columns(x, signs, out):
    """``out[j, i] = x[i, j] * signs[j]`` for ``j < out.shape[0]``: transformed rows written as columns.

    The SRHT and FJLT explicit matrices are formed as transformed rows (one per row of the sparse map) and used
    transposed; this writes them into a block of a C-contiguous ``(d, k)`` array with the random signs applied,
    in cache-sized tiles (a NumPy transposed copy reads one element per cache line).

    Parameters
    ----------
    x : numpy.ndarray
        2-D ``(r, b)``, float64, ``b >= out.shape[0]``.
    signs : numpy.ndarray
        1-D, at least ``out.shape[0]`` entries.
    out : numpy.ndarray
        2-D ``(w, r)`` with unit stride along its rows, float32 or float64. Overwritten.
    """
    _columns_serial(x, signs, out)


# ----------------------------------------------------------------------------------------------------------
# CUDA through CuPy
# ----------------------------------------------------------------------------------------------------------


def cuda_source_path(name):
    """Path of the CUDA source `name` (e.g. ``"fwht.cu"``): in the installed ``lowrank_la._cuda`` package, or
    in ``src/cuda`` of a source checkout."""
    try:
        cand = resources.files("lowrank_la._cuda") / name
        if cand.is_file():
            return Path(str(cand))
    except (ModuleNotFoundError, TypeError, FileNotFoundError):
        pass
    cand = Path(__file__).resolve().parents[2] / "src" / "cuda" / name
    if cand.is_file():
        return cand
    raise FileNotFoundError(f"CUDA source {name!r} found neither in lowrank_la._cuda nor at {cand}")


_CUDA_MODULES: dict = {}  # device id -> cupy.RawModule
_BLOCK_MAX_LOG = {np.dtype(np.float32): 15, np.dtype(np.float64): 14}
_THREADS_PASS = 256


def _cuda_module():
    import cupy

    dev = cupy.cuda.Device().id
    mod = _CUDA_MODULES.get(dev)
    if mod is None:
        code = cuda_source_path("fwht.cu").read_text()
        mod = cupy.RawModule(code=code, options=("--std=c++17",))
        _CUDA_MODULES[dev] = mod
    return mod


def _block_log_e(log_d):
    """log2 of the values per thread of the one-block-per-row kernel (keeps nw = d / (32 E) <= E)."""
    if log_d <= 3:
        return log_d
    if log_d <= 11:
        return 3
    if log_d <= 13:
        return 4
    return 5


def _smem_bytes(d, itemsize):
    return 0 if d <= 32 else (d + d // 32) * itemsize


def fwht_cupy(x, scale=1.0):
    """In-place Walsh-Hadamard transform of the rows of the CuPy array `x`, times `scale`.

    `x` is 2-D, C-contiguous, float32 or float64, ``d`` a power of two. Rows of up to 2^15 (float32) / 2^14
    (float64) elements, within the device's shared memory, take one kernel launch (one block per row);
    longer rows first transform their sub-blocks of that size in the same way, then run one radix-2
    global-memory pass per remaining level. Returns `x`.
    """
    import cupy

    if not isinstance(x, cupy.ndarray):
        raise TypeError(f"x must be a cupy.ndarray, got {type(x).__name__}")
    _check_2d(x, "inplace")
    rows, d = x.shape
    if rows == 0:
        return x
    mod = _cuda_module()
    tname = "f32" if x.dtype == np.float32 else "f64"
    ctype = np.float32 if x.dtype == np.float32 else np.float64
    itemsize = x.dtype.itemsize
    log_d = d.bit_length() - 1

    max_log = _BLOCK_MAX_LOG[np.dtype(x.dtype)]
    optin = cupy.cuda.Device().attributes.get("MaxSharedMemoryPerBlockOptin", 48 * 1024)
    while max_log > 5 and _smem_bytes(1 << max_log, itemsize) > optin:
        max_log -= 1
    block_log = min(log_d, max_log)
    b = 1 << block_log
    log_e = _block_log_e(block_log)
    kern = mod.get_function(f"fwht_block_{tname}_e{log_e}")
    smem = _smem_bytes(b, itemsize)
    if smem > 48 * 1024:  # opt in to more than the default 48 KiB of dynamic shared memory
        drv = cupy.cuda.driver
        drv.funcSetAttribute(kern.ptr, drv.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem)
    aligned = int(x.data.ptr % 16 == 0)
    nblocks = rows * (d // b)
    block_scale = ctype(scale) if b == d else ctype(1.0)
    kern((nblocks,), (b >> log_e,), (x, np.int32(block_log), block_scale, np.int32(aligned)), shared_mem=smem)
    if b < d:
        npass = mod.get_function(f"fwht_pass_{tname}")
        n_pairs = rows * (d // 2)
        grid = min((n_pairs + _THREADS_PASS - 1) // _THREADS_PASS, 65535 * 8)
        for log_h in range(block_log, log_d):
            s = ctype(scale) if log_h == log_d - 1 else ctype(1.0)
            npass((grid,), (_THREADS_PASS,), (x, np.int64(n_pairs), np.int32(log_d), np.int32(log_h), s))
    return x

