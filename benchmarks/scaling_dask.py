"""Scaling on dask.distributed: pass throughput with 1 and 2 workers, and rsvd beside ``svd_compressed``.

A script, run by hand and reported in ``docs/scaling.rst`` (the cost model there is fitted to its output); not an
asv suite and not run in CI (it takes several minutes and all the cores). Three measurements:

1. **The machine's bandwidth**, in the client process, one thread: ``numpy.sum`` over a ``--bw-gib`` in-memory
   float64 array (memory read bandwidth), and a sequential read of a zarr array of ``--zarr-gib`` from ``--path``
   (uncompressed, written just before: it is read from the OS page cache unless the machine has less free memory
   than the file; the script says which it cannot tell, so the number is an upper bound on disk bandwidth).
2. **Pass throughput** for ``w = 1`` and ``w = 2`` worker processes (1 thread each): the time of one pass
   ``Y = A @ Omega`` (``Omega`` n x 30) and of one pass ``A^T @ Y``, best of ``--repeats``, over float64 matrices
   of 2048 columns in row blocks of 64 MiB held in the workers' memory (``persist``), at two sizes (8 and
   ``--chunks`` blocks), plus 128 blocks of 1 MiB (the per-task overhead; no rsvd there), and over the zarr
   array read from disk at every pass. Throughput is ``bytes(A) / time`` in GB/s (1 GB = 1e9 bytes).
   ``rsvd(A, 20, n_iter=2)`` (6 passes) is timed too: its GB/s counts 6 reads of A. The least-squares fit of
   ``T_pass = a + c * tasks + bytes / (w * R)`` over those points is printed (the model of the docs page).
3. **rsvd against** ``dask.array.linalg.svd_compressed`` at equal passes and at equal accuracy, on the
   2-worker cluster: a ``--m`` x ``--n`` float64 matrix ``U diag(s) V^T`` (Haar ``U``, ``V``; ``s_j = 1 / (j + 1)``,
   a slow decay, where power iterations matter) in 8 row blocks held in worker memory (each worker copies the
   blocks it receives from the client's graph, which arrive unaligned: ``--scattered`` keeps them so, the case of
   a user's ``da.from_array(x).persist()``); the true singular values
   come from a dense LAPACK SVD (``scipy.linalg.svdvals``) of the same matrix in the client. The configurations,
   all with rank 20 and 10 oversamples (sketch or block width 30), computing ``U``, ``s`` and ``Vh``:
   ``svd_compressed(D, 20, n_power_iter=q)`` with its two iterators ("power", no re-orthonormalisation, and
   "QR") for ``q = 0 .. --max-q`` (8); ``rsvd(D, 20, n_iter=q, method="subspace")`` for ``q = 0 ..
   --max-q-subspace`` (6); ``rsvd(D, 20, n_iter=q, method="block_krylov")`` for ``q = 0 .. --max-q-krylov`` (4);
   rsvd's default call ``rsvd(D, 20)``, which on Dask is block Krylov at the fixed depth ``q = 4`` (half the
   subspace depth 7, rounded up, as ``k < 0.1 min(m, n)``; see rsvd's Notes), and the former default
   ``rsvd(D, 20, n_iter=7, method="subspace")`` (``rsvd_former_default``). Every one reads ``A`` in ``2 q + 2``
   passes (products). ``--default-only`` keeps, of rsvd's configurations, the default and the former default
   (``svd_compressed``'s all run). Each configuration runs in ``--rounds`` rounds (6; all configurations once per
   round, so that the load of the shared machine falls on all of them alike), round ``r`` with seed ``r mod
   --seeds`` (3 seeds: 0, 1, 2; the seed draws the test matrix, ``A`` stays fixed); one untimed warm-up run of
   each library comes first. A configuration's **error** is the median over its seeds of the largest relative
   error of its 20 singular values; its **time** is the smallest wall time of its runs (best of the rounds,
   ``client.compute`` of ``U, s, Vh``); its task count is that of its seed-0 graph.

   **Equal accuracy, the rule** (fixed before the runs): for each target ``t`` in ``TARGETS`` (1e-1, 3e-2, 1e-2,
   3e-3, 1e-3, 1e-4, 1e-5), take for each library the fastest configuration whose error is at most ``t``
   (``svd_compressed``: both iterators, any ``q``; rsvd: subspace, block Krylov and the default call, any
   ``q``); the ratio is ``svd_compressed``'s time over rsvd's (above 1: rsvd is faster), and "n/a" where either
   library has no configuration reaching ``t``. **Equal passes**: for each pass count, the errors and times of
   every configuration with that many passes, side by side, and the spread (smallest, largest) of the errors
   over the seeds, to tell seed noise from a difference. **The default call**: its passes, error and time beside
   the fastest ``svd_compressed`` configuration at least as accurate (or, where none is, the most accurate one).
   ``--only accuracy`` runs this part alone.
4. **The rule of the Dask default** (``--only rule``; NumPy, one process, no cluster): rsvd's default on Dask
   without ``tol`` is block Krylov at half the subspace default's depth, ``rsvd(A, k, method="block_krylov",
   n_iter=ceil(q / 2))`` with ``q = 7`` if ``k < 0.1 min(m, n)`` else 4. Its accuracy depends on the spectrum
   and ``k``, not on the backend, so it is checked on NumPy (other draws than Dask's, the same methods): for
   ``k = 5, 20, 150`` and the spectra ``s_j = (j + 1)^-a`` (``a = 1``, 20000 x 1000, the accuracy case above;
   ``a = 0.5`` and ``0.1``, 4000 x 1000) and a rank-30 matrix plus Gaussian noise of norm 0.01 per column
   (4000 x 1000), the former default (subspace, ``q`` steps), block Krylov at ``ceil(q / 2)`` steps (the
   default) and at one step fewer: median and largest over 5 seeds of the largest relative error of the top
   ``k`` singular values (against ``scipy.linalg.svdvals``).

Run::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/scaling_dask.py --json /tmp/scaling.json
    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/scaling_dask.py --only accuracy --json /tmp/acc.json
    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/scaling_dask.py --only accuracy --m 20000 --n 1000 \
        --default-only
    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/scaling_dask.py --only rule
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

K = 20
OVERSAMPLES = 10
N_COLS = 2048


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--path", default="/tmp/lowrank_la_scaling", help="folder for the zarr array")
    p.add_argument("--bw-gib", type=float, default=1.0, help="size of the in-memory bandwidth array, GiB")
    p.add_argument("--zarr-gib", type=float, default=2.0, help="size of the zarr array, GiB")
    p.add_argument("--chunks", type=int, default=32, help="row blocks (64 MiB each) of the large pass case")
    p.add_argument("--repeats", type=int, default=3, help="timings per case (the best is kept)")
    p.add_argument("--m", type=int, default=40000, help="rows of the accuracy case")
    p.add_argument("--n", type=int, default=2000, help="columns of the accuracy case")
    p.add_argument("--max-q", type=int, default=8, help="largest power iteration count of svd_compressed")
    p.add_argument("--max-q-subspace", type=int, default=6, help="largest n_iter of rsvd's subspace iteration")
    p.add_argument("--max-q-krylov", type=int, default=4, help="largest n_iter of rsvd's block Krylov")
    p.add_argument("--scattered", action="store_true",
                   help="accuracy case: keep the chunks as deserialised from the client's graph (unaligned)")
    p.add_argument("--default-only", action="store_true",
                   help="of rsvd's accuracy configurations, run only the default call and the former default")
    p.add_argument("--seeds", type=int, default=3, help="seeds (test matrix draws) per accuracy configuration")
    p.add_argument("--rounds", type=int, default=6, help="timed runs per accuracy configuration (seeds cycle)")
    p.add_argument("--only", choices=["all", "passes", "accuracy", "rule"], default="all",
                   help="run the bandwidth and pass parts (1, 2), the accuracy part (3), the default's rule (4), "
                        "or all")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts of the pass runs")
    p.add_argument("--json", help="write the results to this JSON file")
    return p.parse_args(argv)


def best_time(fn, repeats, *fn_args, **fn_kwargs):
    """The smallest wall time of ``repeats`` calls ``fn(*fn_args, **fn_kwargs)`` and the last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*fn_args, **fn_kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


def machine_bandwidth(args):
    """GB/s of numpy.sum over an in-memory array, and of a sequential read of a freshly written zarr array."""
    import zarr

    x = np.random.default_rng(0).standard_normal(int(args.bw_gib * 2**30 // 8))
    t, _ = best_time(x.sum, args.repeats)
    out = {"numpy_sum_gbs": x.nbytes / t / 1e9}
    del x
    rows = 64 * 2**20 // (8 * N_COLS)
    m = rows * max(4, round(args.zarr_gib * 2**30 / (rows * N_COLS * 8)))
    path = Path(args.path) / "A.zarr"
    z = zarr.create_array(store=str(path), shape=(m, N_COLS), chunks=(rows, N_COLS), dtype="float64",
                          compressors=None, overwrite=True)
    gen = np.random.default_rng(1)
    t0 = time.perf_counter()
    for start in range(0, m, rows):
        z[start:start + rows] = gen.standard_normal((rows, N_COLS))
    out["zarr_write_gbs"] = m * N_COLS * 8 / (time.perf_counter() - t0) / 1e9

    def read_all():
        total = 0.0
        for start in range(0, m, rows):
            total += float(z[start:start + rows][0, 0])
        return total

    t, _ = best_time(read_all, args.repeats)
    out["zarr_read_gbs"] = m * N_COLS * 8 / t / 1e9
    out["zarr_shape"] = [m, N_COLS]
    return out, str(path)


def pass_times(client, D, repeats, with_rsvd=True):
    """Best times of one pass ``A @ Omega``, one pass ``A^T @ Y`` and of ``rsvd(A, 20, n_iter=2)`` (6 passes)."""
    import distributed

    from lowrank_la.svd import rsvd

    Omega = np.random.default_rng(2).standard_normal((D.shape[1], K + OVERSAMPLES))
    t_mult, _ = best_time(client.compute, repeats, D @ Omega, sync=True)
    # Y made in the workers: sent from the client its chunks would arrive unaligned (docs/scaling.rst, Chunking),
    # and NumPy's products on them leave BLAS (the A^T Y passes reported before 2026-12-07 were so)
    Yd = client.persist(D @ Omega)
    distributed.wait(Yd)
    t_rmult, _ = best_time(client.compute, repeats, D.T @ Yd, sync=True)
    gb = D.nbytes / 1e9
    out = {"gb": gb, "tasks": D.numblocks[0], "matmul_s": t_mult, "rmatmul_s": t_rmult, "matmul_gbs": gb / t_mult,
           "rmatmul_gbs": gb / t_rmult}
    if with_rsvd:
        t_rsvd, _ = best_time(client.compute, repeats, list(rsvd(D, K, n_iter=2, method="subspace", rng=0)),
                              sync=True)
        out.update(rsvd_q2_s=t_rsvd, rsvd_q2_gbs=6 * gb / t_rsvd)
    return out


def throughput(args, zarr_path):
    """Pass times with 1 and 2 workers over in-memory blocks (two sizes, small chunks) and over the zarr array."""
    import dask.array as da
    import distributed

    rows64, rows1 = 64 * 2**20 // (8 * N_COLS), 2**20 // (8 * N_COLS)
    cases = {"mem_8x64MiB": (8 * rows64, rows64), f"mem_{args.chunks}x64MiB": (args.chunks * rows64, rows64),
             "mem_128x1MiB": (128 * rows1, rows1)}
    out = []
    for w in args.workers:
        with distributed.LocalCluster(n_workers=w, processes=True, threads_per_worker=1, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            for name, (m, rows) in cases.items():
                D = da.random.default_rng(3).standard_normal((m, N_COLS), chunks=(rows, N_COLS)).persist()
                distributed.wait(D)
                out.append({"workers": w, "input": name, **pass_times(client, D, args.repeats, rows == rows64)})
                del D
                print(json.dumps(out[-1]), flush=True)
            D = da.from_zarr(zarr_path)
            out.append({"workers": w, "input": "zarr", **pass_times(client, D, args.repeats)})
            print(json.dumps(out[-1]), flush=True)
    return out


def fit_cost_model(rows):
    """Least squares ``T_pass = a + c * tasks + bytes / (w R)`` over the in-memory ``A @ Omega`` and ``A^T Y`` times."""
    X, y = [], []
    for r in rows:
        if r["input"].startswith("mem"):
            for key in ("matmul_s", "rmatmul_s"):
                X.append([1.0, r["tasks"], r["gb"] / r["workers"]])
                y.append(r[key])
    coef, *_ = np.linalg.lstsq(np.array(X), np.array(y), rcond=None)
    a, c, inv_r = coef
    pred = np.array(X) @ coef
    return {"a_s": float(a), "c_s_per_task": float(c), "R_gbs_per_worker": float(1 / inv_r),
            "max_rel_misfit": float(np.max(np.abs(pred - y) / np.array(y)))}


def accuracy_vs_svd_compressed(args):
    """rsvd and svd_compressed at equal passes and equal accuracy on a matrix with known singular values."""
    import dask
    import dask.array as da
    import distributed
    import scipy.linalg

    import lowrank_la as la

    s_planted = la.datasets.spectrum("polynomial", min(args.m, args.n), power=1)
    A = la.datasets.matrix_with_spectrum(args.m, args.n, s_planted, rng=0)
    t0 = time.perf_counter()
    s_true = scipy.linalg.svdvals(A)[:K]
    lapack_s = time.perf_counter() - t0

    def err(s):
        return float(np.max(np.abs(np.asarray(s) - s_true) / s_true))

    configs = configurations(args)
    runs = {c: {"method": c[0], "q": c[1], "errs": {}, "times": []} for c in configs}
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        D = da.from_array(A, chunks=(args.m // 8, args.n))
        # each worker makes its own copy of its chunks, as a reader (zarr, HDF5) would: chunks deserialised in place
        # from the graph are not aligned, and NumPy's products on them leave BLAS (docs/scaling.rst)
        D = client.persist(D if args.scattered else D.map_blocks(np.copy))
        distributed.wait(D)
        del A
        for name in ("svd_compressed_qr", "rsvd_subspace", "rsvd_block_krylov"):  # warm-up, untimed
            client.compute(list(_build(name, D, 1, seed=99)), sync=True)
        for rnd in range(max(args.rounds, args.seeds)):
            seed = rnd % args.seeds
            for c in configs:
                res = _build(c[0], D, c[1], seed=seed)
                r = runs[c]
                if rnd == 0:
                    r["passes"] = res.n_passes if c[0].startswith("rsvd") else 2 * c[1] + 2  # svd_compressed: B too
                    r["tasks"] = len(dask.base.collections_to_expr(list(res)).__dask_graph__())
                t0 = time.perf_counter()
                _, s, _ = client.compute(list(res), sync=True)
                r["times"].append(time.perf_counter() - t0)
                r["errs"][seed] = err(s)
                print(json.dumps({"round": rnd, "seed": seed, "method": c[0], "q": c[1], "time_s": r["times"][-1],
                                  "max_rel_err": r["errs"][seed]}), flush=True)
    out = []
    for r in runs.values():
        errs = list(r["errs"].values())
        r.update(errs=errs, max_rel_err=float(np.median(errs)), err_min=min(errs), err_max=max(errs),
                 time_s=min(r["times"]), time_median_s=float(np.median(r["times"])))
        out.append(r)
    return {"shape": [args.m, args.n], "seeds": args.seeds, "rounds": args.rounds, "lapack_svdvals_s": lapack_s,
            "runs": out, "equal_accuracy": equal_accuracy(out), "equal_passes": equal_passes(out),
            "default": default_vs_svd_compressed(out)}


#: The accuracy targets of the equal-accuracy comparison (largest relative singular-value error).
TARGETS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5)


def configurations(args):
    """``(method, q)`` of every accuracy run; ``q = None``: rsvd's default call (``n_iter="auto"``)."""
    out = [(f"svd_compressed_{it}", q) for q in range(args.max_q + 1) for it in ("power", "qr")]
    if not args.default_only:
        out += [("rsvd_subspace", q) for q in range(args.max_q_subspace + 1)]
        out += [("rsvd_block_krylov", q) for q in range(args.max_q_krylov + 1)]
    return out + [("rsvd_default", None), ("rsvd_former_default", 7)]


def _build(name, D, q, seed=0):
    """The lazy ``(U, s, Vh)`` of method ``name`` with ``q`` power iterations (or block Krylov steps)."""
    import dask.array as da

    from lowrank_la.svd import rsvd

    if name.startswith("svd_compressed"):
        iterator = "QR" if name.endswith("qr") else "power"
        return da.linalg.svd_compressed(D, K, n_power_iter=q, n_oversamples=OVERSAMPLES, iterator=iterator,
                                        seed=seed)
    if name == "rsvd_default":
        return rsvd(D, K, rng=seed)
    if name == "rsvd_former_default":  # the default on Dask before block Krylov (k < 0.1 min(m, n): q = 7)
        return rsvd(D, K, n_iter=q, method="subspace", rng=seed)
    return rsvd(D, K, n_iter=q, oversamples=OVERSAMPLES, method=name.removeprefix("rsvd_"), rng=seed)


def _label(r):
    return f"{r['method']} q={'auto' if r['q'] is None else r['q']}"


def equal_accuracy(runs):
    """Per target ``t``: each library's fastest configuration with median error ``<= t``, and the time ratio."""
    rows = []
    for t in TARGETS:
        row = {"target": t}
        for lib in ("svd_compressed", "rsvd"):
            ok = [r for r in runs if r["method"].startswith(lib) and r["max_rel_err"] <= t]
            best = min(ok, key=lambda r: r["time_s"]) if ok else None
            row[lib] = None if best is None else {"config": _label(best), "passes": best["passes"],
                                                  "time_s": best["time_s"], "err": best["max_rel_err"]}
        both = row["svd_compressed"] is not None and row["rsvd"] is not None
        row["ratio"] = row["svd_compressed"]["time_s"] / row["rsvd"]["time_s"] if both else None
        rows.append(row)
    return rows


def default_vs_svd_compressed(runs):
    """rsvd's default call beside the fastest ``svd_compressed`` configuration at least as accurate (or, where none
    is, the most accurate one): passes, median error, best time and the time ratio (svd_compressed / default)."""
    (d,) = [r for r in runs if r["method"] == "rsvd_default"]
    sc = [r for r in runs if r["method"].startswith("svd_compressed")]
    ok = [r for r in sc if r["max_rel_err"] <= d["max_rel_err"]]
    other = min(ok, key=lambda r: r["time_s"]) if ok else min(sc, key=lambda r: r["max_rel_err"])

    def cell(r):
        return {"config": _label(r), "passes": r["passes"], "err": r["max_rel_err"], "time_s": r["time_s"]}

    return {"default": cell(d), "svd_compressed": cell(other), "as_accurate": bool(ok),
            "ratio": other["time_s"] / d["time_s"]}


def equal_passes(runs):
    """Per pass count: every configuration's median error (and spread over the seeds) and best time."""
    rows = []
    for p in sorted({r["passes"] for r in runs}):
        rows.append({"passes": p, **{_label(r): {"err": r["max_rel_err"], "err_range": [r["err_min"], r["err_max"]],
                                                 "time_s": r["time_s"], "tasks": r["tasks"]}
                                     for r in runs if r["passes"] == p}})
    return rows


def print_accuracy(acc):
    """The two tables of the accuracy part, as text."""
    print("equal accuracy: target | svd_compressed fastest | rsvd fastest | ratio")
    for row in acc["equal_accuracy"]:
        cells = [f"{row['target']:g}"]
        for lib in ("svd_compressed", "rsvd"):
            b = row[lib]
            cells.append("n/a" if b is None else f"{b['config']} ({b['passes']} passes) {b['time_s']:.2f} s, "
                                                 f"{b['err']:.2g}")
        cells.append("n/a" if row["ratio"] is None else f"{row['ratio']:.2f}x")
        print(" | ".join(cells))
    d = acc["default"]
    print(f"default call: {d['default']['config']} ({d['default']['passes']} passes) {d['default']['time_s']:.2f} s, "
          f"{d['default']['err']:.2g} | svd_compressed {'fastest as accurate' if d['as_accurate'] else 'most accurate'}"
          f": {d['svd_compressed']['config']} ({d['svd_compressed']['passes']} passes) "
          f"{d['svd_compressed']['time_s']:.2f} s, {d['svd_compressed']['err']:.2g} | ratio {d['ratio']:.2f}x")
    print("equal passes: passes | config: median err [min, max] best time (tasks)")
    for row in acc["equal_passes"]:
        print(row["passes"], " | ".join(f"{k}: {v['err']:.2g} [{v['err_range'][0]:.2g}, {v['err_range'][1]:.2g}] "
                                        f"{v['time_s']:.2f} s ({v['tasks']})"
                                        for k, v in row.items() if k != "passes"))


def default_rule(seeds=5, ks=(5, 20, 150)):
    """Part 4: the former Dask default (subspace, ``q`` steps) against block Krylov at ``ceil(q / 2)`` steps (the
    default) and one step fewer, on NumPy, over spectra and ranks: median and largest error over ``seeds``."""
    import math

    import scipy.linalg

    import lowrank_la as la
    from lowrank_la.svd import rsvd

    def spectral(m, n, a):
        return la.datasets.matrix_with_spectrum(m, n, la.datasets.spectrum("polynomial", n, power=a), rng=0)

    def noisy():
        noise = np.random.default_rng(5).standard_normal((4000, 1000)) * (1e-2 / np.sqrt(4000))
        return la.datasets.low_rank_matrix(4000, 1000, rank=30, rng=0) + noise

    cases = {"s_j = 1/(j+1), 20000 x 1000": lambda: spectral(20000, 1000, 1),
             "s_j = (j+1)^-0.5, 4000 x 1000": lambda: spectral(4000, 1000, 0.5),
             "s_j = (j+1)^-0.1, 4000 x 1000": lambda: spectral(4000, 1000, 0.1),
             "rank 30 + noise, 4000 x 1000": noisy}
    out = []
    for name, make in cases.items():
        A = make()
        exact = scipy.linalg.svdvals(A)
        for k in ks:
            q = 7 if k < 0.1 * min(A.shape) else 4
            h = math.ceil(q / 2)
            for label, method, steps in (("former default", "subspace", q), ("default", "block_krylov", h),
                                         ("one step fewer", "block_krylov", h - 1)):
                errs = [float(np.max(np.abs(rsvd(A, k, method=method, n_iter=steps, rng=seed).s - exact[:k])
                                     / exact[:k])) for seed in range(seeds)]
                out.append({"case": name, "k": k, "call": label, "method": method, "n_iter": steps,
                            "passes": 2 * steps + 2, "err_median": float(np.median(errs)), "err_max": max(errs)})
                print(f"{name}, k={k}: {label} ({method}, q={steps}, {2 * steps + 2} passes): median "
                      f"{out[-1]['err_median']:.2g}, max {out[-1]['err_max']:.2g}", flush=True)
    return out


def main(argv=None):
    args = parse_args(argv)
    Path(args.path).mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        if args.only in ("all", "passes"):
            results["bandwidth"], zarr_path = machine_bandwidth(args)
            print(json.dumps(results["bandwidth"]), flush=True)
            results["passes"] = throughput(args, zarr_path)
            results["cost_model"] = fit_cost_model(results["passes"])
            print(json.dumps(results["cost_model"]), flush=True)
        if args.only in ("all", "accuracy"):
            results["accuracy"] = accuracy_vs_svd_compressed(args)
            print_accuracy(results["accuracy"])
        if args.only in ("all", "rule"):
            results["rule"] = default_rule()
    finally:
        shutil.rmtree(args.path, ignore_errors=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
