"""AltMin half-steps as batched dense linear algebra on any array-API namespace (CuPy GPUs, array-api-strict).

The NumPy path solves one small regression per segment in a Numba loop. On a GPU the same half-step is a few
large batched operations instead: the segments are grouped into buckets of similar observation counts (powers
of two), each bucket padded to its largest count ``N``, and for a bucket of ``b`` segments

    D = B[idx] * mask            (b, N, k)   one gather of design rows, padding rows zeroed
    G = D^T D + diag(ridge)      (b, k, k)   one batched GEMM
    c = D^T vals                 (b, k)      one batched GEMV
    X = solve(G, c)              (b, k)      one batched LU solve

Padding at most doubles a bucket's count, so the gathered blocks take at most ``2 |Omega| k`` entries over all
buckets (``max_entries`` bounds one batch further by splitting the bucket). The index structures are built
once on the host and moved to the device; only the factors travel through the half-steps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Bucket", "DeviceSegments", "batched_exact_solve", "device_segments", "sampled_residual"]

#: Largest number of design entries ``b N k`` gathered at once (a bucket is split into batches beyond it).
MAX_ENTRIES = 2**25


class Bucket(NamedTuple):
    """Segments of counts in ``(N / 2, N]``, padded to ``N``: their positions, indices, values and mask."""

    positions: object  # (b,) int64: where the bucket's solutions go in the half-step's output
    idx: object  # (b, N) int64: the observed indices along the other axis (0 in the padding)
    vals: object  # (b, N): the observed values (0 in the padding)
    mask: object  # (b, N): 1 for an observation, 0 for padding, in the working dtype


class DeviceSegments(NamedTuple):
    """One index structure (by row or by column) as padded buckets on the device, and its segment count."""

    buckets: tuple
    n_seg: int
    order: object  # (n_seg,) int64: the row of the concatenated bucket solutions that holds segment j


def device_segments(seg, k, xp, device=None, *, max_entries=MAX_ENTRIES) -> DeviceSegments:
    """Bucket the segments of a host :class:`~lowrank_la.completion._observations.Segments` and move them.

    Segments with no observation form a bucket of width 0 (their solution is 0). Buckets holding more than
    `max_entries` gathered entries ``b N k`` are split into several.
    """
    counts = np.diff(seg.indptr)
    width = np.where(counts > 0, 2 ** np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64), 0)
    buckets, placed = [], []
    for w in np.unique(width):
        ids = np.flatnonzero(width == w)
        rows_per_batch = max(1, max_entries // max(int(w) * k, 1))
        for start in range(0, ids.shape[0], rows_per_batch):
            part = ids[start:start + rows_per_batch]
            slot = np.arange(int(w))
            pos = seg.indptr[part][:, None] + slot[None, :]
            valid = slot[None, :] < counts[part][:, None]
            pos = np.where(valid, pos, 0)
            idx = np.where(valid, seg.idx[pos], 0).astype(np.int64)
            vals = np.where(valid, seg.vals[pos], 0).astype(seg.vals.dtype)
            buckets.append(Bucket(xp.asarray(part.astype(np.int64), device=device),
                                  xp.asarray(idx, device=device), xp.asarray(vals, device=device),
                                  xp.asarray(valid.astype(seg.vals.dtype), device=device)))
            placed.append(part)
    order = np.empty(counts.shape[0], dtype=np.int64)
    order[np.concatenate(placed)] = np.arange(counts.shape[0])
    return DeviceSegments(tuple(buckets), int(counts.shape[0]), xp.asarray(order, device=device))


def batched_exact_solve(design, segs: DeviceSegments, ridge, xp):
    """Solve every segment's ridge regression ``min ||B[idx_j] x - b_j||^2 + ridge_j ||x||^2`` exactly.

    `design` is the (n_other, k) factor ``B`` on the device, `ridge` an (n_seg,) device array. Returns the
    (n_seg, k) solutions in the dtype of `design`.
    """
    k = design.shape[1]
    eye = xp.eye(k, dtype=design.dtype, device=getattr(design, "device", None))
    parts = []
    for bucket in segs.buckets:
        b, width = bucket.idx.shape
        if width == 0:
            parts.append(xp.zeros((b, k), dtype=design.dtype, device=getattr(design, "device", None)))
            continue
        D = xp.reshape(xp.take(design, xp.reshape(bucket.idx, (-1,)), axis=0), (b, width, k))
        D = D * bucket.mask[:, :, None]
        Dt = xp.permute_dims(D, (0, 2, 1))
        G = xp.matmul(Dt, D)
        ridge_b = xp.astype(xp.take(ridge, bucket.positions, axis=0), design.dtype)
        scale = xp.sum(xp.linalg.diagonal(G), axis=1) / k  # mean diagonal: a rounding-level jitter keeps G > 0
        G = G + (ridge_b + 1e-13 * scale)[:, None, None] * eye
        c = xp.matmul(Dt, bucket.vals[:, :, None])
        parts.append(xp.linalg.solve(G, c)[:, :, 0])
    return xp.take(xp.concat(parts, axis=0), segs.order, axis=0)


def sampled_residual(U, V, rows, cols, vals, xp, *, chunk=2**20):
    """``||U[rows] . V[cols] - vals||_2`` (the model's misfit on the observed entries), in chunks of entries."""
    total = 0.0
    n_obs = rows.shape[0]
    for start in range(0, n_obs, chunk):
        stop = min(start + chunk, n_obs)  # array-API slices must stay in bounds
        model = xp.sum(xp.take(U, rows[start:stop], axis=0) * xp.take(V, cols[start:stop], axis=0), axis=1)
        diff = xp.astype(model, xp.float64) - xp.astype(vals[start:stop], xp.float64)
        total += float(xp.sum(diff * diff))
    return total**0.5
