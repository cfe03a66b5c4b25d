"""Reproduction ``svd-update``: fast truncated-SVD updating for sparse evolving matrices (Deng et al., ICLR 2024).

The protocol of Deng et al. on synthetic data from :mod:`lowrank_la.datasets`:

* a power-law graph (a symmetric 0/1 adjacency from :func:`~lowrank_la.datasets.sparse_power_law`), whose nodes
  arrive: the first half of the nodes is the initial matrix, the rest arrives in ``phi`` batches, each batch
  adding its columns (edges to the nodes already there) and then its rows; 5% of the edges are held out for
  link prediction (average precision of the rank-k scores ``U_i diag(s) V_j`` of held-out edges against as
  many random non-edges);
* a sparse user-item rating matrix (power-law degrees, ratings 1 to 5): the first half of the users is the
  initial matrix, the others arrive as rows in ``phi`` batches.

Every method (Zha-Simon, GKL, RPI with ``l = min(10, s)`` and 3 power iterations) runs in the dense baseline
form and in the sparse-aware form from the same initial rank-k SVD (:func:`~lowrank_la.svd.rsvd`); the table
holds the total update time, the relative singular-value error and the largest principal angle between the
top-10 left singular subspaces against a truncated SVD recomputed from scratch (``scipy.sparse.linalg.svds``),
and the link-prediction AP. Zha-Simon is skipped when a batch is wider than ``max_zs_batch`` columns (its
small SVD is ``(k + s)^3``). All timings run on one BLAS thread.

The verdict (thresholds fixed before looking at the numbers): the claim holds when, in every (dataset,
``phi``, method) cell, the sparse-aware form is at least ``SPEEDUP`` times faster than the dense baseline, its
singular-value error is within ``PRECISION_SLACK`` (relative, plus 1e-8) of the baseline's, and its AP within
``AP_SLACK``. At the small sizes the dense baseline's ``O((m + n) k^2)`` per update is cheap, so the speed-up is
expected to grow with the size; the summary reports the measured ratios whatever they are.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg

from .._backend import as_rng, thread_limit
from ..datasets import sparse_power_law
from ._registry import ExperimentResult, pyplot, register
from ._style import finish

__all__ = ["run"]

SIZES = {
    "smoke": {"nodes": 1200, "degree": 6, "users": 1200, "items": 600, "ratings_per_user": 8, "k": 16,
              "phis": [10], "max_zs_batch": 300},
    "quick": {"nodes": 6000, "degree": 8, "users": 6000, "items": 3000, "ratings_per_user": 10, "k": 64,
              "phis": [10, 100], "max_zs_batch": 100},
    "full": {"nodes": 100_000, "degree": 10, "users": 100_000, "items": 20_000, "ratings_per_user": 20, "k": 64,
             "phis": [10, 100, 1000], "max_zs_batch": 100},
}
METHODS = ("zha-simon", "gkl", "rpi")

# What counts as the claim holding, fixed before looking at the numbers:
SPEEDUP = 10.0  # sparse-aware form >= 10x faster than the dense baseline of the same method
PRECISION_SLACK = 0.10  # sparse-aware singular-value error <= 1.1 x the baseline's (+ 1e-8)
AP_SLACK = 0.01  # link-prediction AP within 0.01 of the baseline's


def _graph(cfg, gen):
    n = cfg["nodes"]
    G = sparse_power_law(n, n, nnz=cfg["degree"] * n // 2, exponent=2.2, rng=gen, format="coo")
    rows, cols = G.row, G.col
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    keys = np.unique(lo.astype(np.int64) * n + hi)
    test = gen.random(keys.size) < 0.05
    train, held = keys[~test], keys[test]
    r, c = train // n, train % n
    A = sp.coo_array((np.ones(2 * r.size), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n))
    A = A.tocsr()
    # negatives: random pairs that are not edges of the full graph
    all_keys = set(keys.tolist())
    negatives = []
    while len(negatives) < held.size:
        i, j = gen.integers(n, size=2)
        a, b = min(i, j), max(i, j)
        if a != b and a * n + b not in all_keys:
            negatives.append(a * n + b)
    pairs = np.concatenate([held, np.array(negatives, dtype=np.int64)])
    labels = np.concatenate([np.ones(held.size), np.zeros(held.size)])
    return A, (pairs // n, pairs % n, labels)


def _ratings(cfg, gen):
    R = sparse_power_law(cfg["users"], cfg["items"], nnz=cfg["users"] * cfg["ratings_per_user"], exponent=2.5,
                         rng=gen)
    R.data = np.ceil(5 * gen.random(R.nnz))
    return R


def average_precision(scores, labels):
    """Average precision of `scores` for binary `labels` (the area under the precision-recall steps)."""
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] > 0
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(precision[hits].mean()) if hits.any() else math.nan


def _stream(kind, M, cfg, phi):
    """(initial matrix, list of updates ("rows"|"columns", block)) for the protocol."""
    n0 = M.shape[0] // 2
    bounds = np.linspace(n0, M.shape[0], phi + 1).astype(int)
    updates = []
    if kind == "graph":
        M = sp.csr_array(M)
        for a, b in zip(bounds[:-1], bounds[1:]):
            updates.append(("columns", sp.csc_array(M[:a, a:b])))
            updates.append(("rows", sp.csr_array(M[a:b, :b])))
        return M[:n0, :n0], updates
    for a, b in zip(bounds[:-1], bounds[1:]):
        updates.append(("rows", sp.csr_array(M[a:b])))
    return M[:n0], updates


def _cases(cfg):
    for dataset in ("graph", "user-item"):
        for phi in cfg["phis"]:
            for method in METHODS:
                for sparse_path in (True, False):
                    yield dataset, phi, method, sparse_path


@register("svd-update",
          paper="Deng, Yang, Li, Chen, Jiang, Pu, 'Fast Updating Truncated SVD for Representation Learning with "
                "Sparse Matrices', ICLR 2024 (arXiv:2401.09703)",
          claim="the sparse-aware updates are an order of magnitude faster than the Zha-Simon, Vecharynski-Saad "
                "(GKL) and Yamazaki (RPI) updates at comparable precision")
def run(size="quick", rng=0, progress=None):
    """Run the protocol; see the module docstring."""
    from ..svd import rsvd
    from ..svd._update import TruncatedSVDUpdater

    cfg = SIZES[size]
    k = cfg["k"]
    gen = as_rng(rng)
    graph, link = _graph(cfg, gen)
    data = {"graph": graph, "user-item": _ratings(cfg, gen)}
    seed = int(gen.integers(2**31))
    rows, streams, references = [], {}, {}
    cases = list(_cases(cfg))
    with thread_limit(1):
        for name, M in data.items():
            start = time.perf_counter()
            U, s, Vh = scipy.sparse.linalg.svds(M, k, random_state=seed)
            order = np.argsort(-s)
            references[name] = (U[:, order], s[order], Vh[order], time.perf_counter() - start)
        for dataset, phi, method, sparse_path in progress(cases, total=len(cases), desc="svd-update"):
            key = (dataset, phi)
            if key not in streams:
                A0, updates = _stream("graph" if dataset == "graph" else "ratings", data[dataset], cfg, phi)
                streams[key] = (rsvd(A0, k, n_iter=6, rng=seed), updates)
            (U0, s0, Vh0), updates = streams[key]
            width = max(block.shape[0] if what == "rows" else block.shape[1] for what, block in updates)
            row = {"dataset": dataset, "phi": phi, "batch": width, "method": method,
                   "form": "sparse-aware" if sparse_path else "dense", "k": k}
            if method == "zha-simon" and width > cfg["max_zs_batch"]:
                rows.append({**row, "update_s": math.nan, "sv_error": math.nan, "angle_deg": math.nan,
                             "ap": math.nan, "note": f"skipped: batch {width} > {cfg['max_zs_batch']}"})
                continue
            up = TruncatedSVDUpdater(U=U0, s=s0, Vh=Vh0, method=method, sparse_path=sparse_path, l=10,
                                     n_power=3, rng=seed)
            start = time.perf_counter()
            for what, block in updates:
                if what == "rows":
                    up.add_rows(block)
                else:
                    up.add_columns(block)
            elapsed = time.perf_counter() - start
            Ur, sr, _, _ = references[dataset]
            U, s, Vh = up.result
            top = min(10, k)
            cosines = np.linalg.svd(Ur[:, :top].T @ U[:, :top], compute_uv=False)
            ap = math.nan
            if dataset == "graph":
                i, j, labels = link
                ap = average_precision(np.einsum("ij,ij->i", U[i] * s, Vh[:, j].T), labels)
            rows.append({**row, "update_s": elapsed, "sv_error": float(np.max(np.abs(s - sr) / sr)),
                         "angle_deg": float(np.degrees(np.arccos(np.clip(cosines.min(), 0, 1)))), "ap": ap,
                         "note": ""})
        for name, (Ur, sr, Vhr, seconds) in references.items():
            ap = math.nan
            if name == "graph":
                i, j, labels = link
                ap = average_precision(np.einsum("ij,ij->i", Ur[i] * sr, Vhr[:, j].T), labels)
            rows.append({"dataset": name, "phi": 0, "batch": 0, "method": "svds from scratch", "form": "recompute",
                         "k": k, "update_s": seconds, "sv_error": 0.0, "angle_deg": 0.0, "ap": ap,
                         "note": "reference (one recomputation of the final matrix)"})
    held, summary = _judge(rows)
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_figure(rows))


def _pairs(rows):
    """(dataset, phi, method) -> (sparse-aware row, dense row), for the cells where both ran."""
    out = {}
    for r in rows:
        if r["form"] == "sparse-aware" and not math.isnan(r["update_s"]):
            dense = [d for d in rows if d["form"] == "dense" and (d["dataset"], d["phi"], d["method"])
                     == (r["dataset"], r["phi"], r["method"]) and not math.isnan(d["update_s"])]
            if dense:
                out[(r["dataset"], r["phi"], r["method"])] = (r, dense[0])
    return out


def _judge(rows):
    lines, ok_speed, ok_precision, speedups = [], True, True, []
    for (dataset, phi, method), (fast, slow) in sorted(_pairs(rows).items()):
        speedup = slow["update_s"] / fast["update_s"]
        speedups.append(speedup)
        precise = fast["sv_error"] <= (1 + PRECISION_SLACK) * slow["sv_error"] + 1e-8
        if dataset == "graph":
            precise &= abs(fast["ap"] - slow["ap"]) <= AP_SLACK
        ok_speed &= speedup >= SPEEDUP
        ok_precision &= bool(precise)
        ap = f", AP {fast['ap']:.4f} vs {slow['ap']:.4f}" if dataset == "graph" else ""
        lines.append(f"{dataset}, phi={phi}, {method}: {slow['update_s']:.2f} s -> {fast['update_s']:.2f} s "
                     f"(x{speedup:.1f}); sv error {fast['sv_error']:.2e} vs {slow['sv_error']:.2e}{ap}")
    held = bool(speedups) and ok_speed and ok_precision
    geo = math.exp(np.mean(np.log(speedups))) if speedups else math.nan
    summary = (f"Sparse-aware against dense updates, same initial SVD, one BLAS thread. Speed-up >= {SPEEDUP:g}x "
               f"in every cell: {'yes' if ok_speed else 'NO'} (geometric mean x{geo:.1f}, range "
               f"x{min(speedups, default=math.nan):.1f} to x{max(speedups, default=math.nan):.1f}); comparable "
               f"precision (sv error within {PRECISION_SLACK:.0%}, AP within {AP_SLACK}): "
               f"{'yes' if ok_precision else 'NO'}.\n\n" + "\n".join(f"- {line}" for line in lines))
    return held, summary


def _figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    pairs = sorted(_pairs(rows).items())
    # one row per cell, labelled once on the left: long labels under rotated ticks squeezed both panels
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.32 * len(pairs) + 1.6), sharey=True)
    labels = [f"{d}, {p} batches, {m}" for (d, p, m), _ in pairs]
    y = np.arange(len(pairs))
    left.barh(y - 0.2, [slow["update_s"] for _, (_, slow) in pairs], 0.4, label="dense baseline")
    left.barh(y + 0.2, [fast["update_s"] for _, (fast, _) in pairs], 0.4, label="sparse-aware")
    left.set(xscale="log", xlabel="total update time (s)", title="Update time")
    left.set_yticks(y, labels)
    left.invert_yaxis()
    left.legend()
    right.plot([slow["update_s"] / fast["update_s"] for _, (fast, slow) in pairs], y, "o")
    right.axvline(SPEEDUP, color="k", ls="--", label=f"{SPEEDUP:g}x (threshold)")
    right.set(xscale="log", xlabel="speed-up (dense / sparse-aware)", title="Speed-up")
    right.legend()
    return finish(fig)
