"""Out-of-core input on dask.distributed: ``rsvd`` and ``StreamingSketch`` over a zarr (or HDF5) array on disk.

A script, run by hand and reported in ``docs/scaling.rst``; not an asv suite and not run in CI (it writes
gigabytes to disk and takes minutes). It checks issue 21's out-of-core claim: an array on disk of at least 4x the
memory limit of each of the 2 workers of a ``LocalCluster`` goes through ``rsvd(D, 20)`` and through a
``StreamingSketch`` without a worker being killed, with the peak memory of every process recorded.

What it does:

1. Writes an ``(m, n)`` float32 matrix ``A = G diag(s0) V0^T + noise`` (``G`` Gaussian, ``V0`` orthonormal, ``s0``
   geometric) to ``--path`` as a zarr array (uncompressed, chunks of whole row blocks of ``--chunk-mib``), one
   row block at a time, so that the writer never holds more than one block.
2. Starts a ``LocalCluster`` of 2 worker processes, 1 thread each, ``memory_limit=--worker-memory`` (Dask's
   default target / spill / pause / terminate fractions, 0.6 / 0.7 / 0.8 / 0.95), opens the array with
   ``dask.array.from_zarr`` and runs the rsvd calls of ``--rsvd`` one after the other, each followed by one more
   pass ``A^T U`` for the residuals ``||A^T u_i - s_i v_i|| / s_1`` (a check of the answer that needs no dense
   SVD), each with its own peak-memory window: ``default`` is ``rsvd(D, 20)`` (on Dask, block Krylov with
   ``q = 4`` steps of a block of 30: 10 passes, ``A`` read 5 times, each chunk keeping 4 blocks ``A_i Omega_j``),
   ``former`` the default before it, ``rsvd(D, 20, method="subspace", n_iter=7)`` (16 passes, 8 reads), and
   ``subspace`` ``rsvd(D, 20, n_iter=--n-iter, method="subspace")`` (``2 q + 2`` passes, the first version of
   this script).
3. Feeds a ``StreamingSketch(shape, 20, sketch="sparse_sign", dtype="float32")`` in the client process with
   the row blocks ``D.blocks[i]``, computed on the cluster one at a time (``StreamingSketch`` itself takes NumPy
   blocks; a Dask array is not passed to it whole), and compares its ``fixed_rank`` singular values with
   rsvd's.
4. A thread polls the resident memory (RSS) of each worker process (``client.run``) and of the client every
   ``--poll`` seconds; the workers' process ids before and after, and the worker count, show whether a worker
   was killed and restarted by its nanny. Spilled bytes are read from each worker's ``SpillBuffer``.

``--hdf5`` runs the same on an HDF5 file (h5py, opened with ``dask.array.from_array``) of ``--hdf5-gib``. The
files are deleted at the end unless ``--keep``.

Run::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/out_of_core.py --size-gib 4.5 --hdf5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

import lowrank_la as la
from lowrank_la.svd import StreamingSketch

RANK = 20
PLANTED_RANK = 40  # rank of the planted signal G diag(s0) V0^T
NOISE = 0.01  # standard deviation of the noise entries


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--path", default="/tmp/lowrank_la_ooc", help="folder for the zarr / HDF5 files")
    p.add_argument("--size-gib", type=float, default=4.5, help="size of the zarr array, GiB")
    p.add_argument("--n-cols", type=int, default=2048, help="number of columns n")
    p.add_argument("--chunk-mib", type=float, default=128, help="size of a row-block chunk, MiB")
    p.add_argument("--worker-memory", default="1GiB", help="memory_limit of each of the 2 workers")
    p.add_argument("--n-iter", type=int, default=2, help="power iterations q of --rsvd subspace (2q + 2 passes)")
    p.add_argument("--rsvd", nargs="+", choices=list(RSVD_CALLS), default=["default", "former"],
                   help="the rsvd calls to run (default: rsvd's default call and the former default)")
    p.add_argument("--poll", type=float, default=0.2, help="seconds between memory samples")
    p.add_argument("--hdf5", action="store_true", help="also run on an HDF5 file (h5py + da.from_array)")
    p.add_argument("--hdf5-gib", type=float, default=2.25, help="size of the HDF5 array, GiB")
    p.add_argument("--keep", action="store_true", help="keep the files on disk")
    p.add_argument("--json", help="write the results to this JSON file")
    return p.parse_args(argv)


def _layout(size_gib, n, chunk_mib, itemsize=4):
    rows = max(1, int(chunk_mib * 2**20 // (n * itemsize)))
    n_blocks = max(4, round(size_gib * 2**30 / (rows * n * itemsize)))
    return rows * n_blocks, rows


def _planted(n, seed=0):
    gen = np.random.default_rng(seed)
    V0t = np.linalg.qr(gen.standard_normal((n, PLANTED_RANK)))[0].T
    s0 = la.datasets.spectrum("geometric", PLANTED_RANK, decay=0.9)
    return (s0[:, None] * V0t).astype(np.float32)


def _blocks(m, n, rows, seed=1):
    """Row blocks ``(start, block)`` of ``A``, generated one at a time from per-block streams."""
    SVt = _planted(n)
    for i, start in enumerate(range(0, m, rows)):
        gen = np.random.default_rng([seed, i])
        stop = min(start + rows, m)
        block = gen.standard_normal((stop - start, n), dtype=np.float32)
        block *= NOISE
        block += gen.standard_normal((stop - start, PLANTED_RANK), dtype=np.float32) @ SVt
        yield start, block


def write_zarr(path, m, n, rows):
    import zarr

    z = zarr.create_array(store=str(path), shape=(m, n), chunks=(rows, n), dtype="float32", compressors=None,
                          overwrite=True)
    for start, block in _blocks(m, n, rows):
        z[start:start + block.shape[0]] = block
    return z


def write_hdf5(path, m, n, rows):
    import h5py

    with h5py.File(path, "w") as f:
        dset = f.create_dataset("A", shape=(m, n), dtype="float32", chunks=(min(rows, 1024), n))
        for start, block in _blocks(m, n, rows):
            dset[start:start + block.shape[0]] = block


class MemoryPoller:
    """Peak RSS of every worker process and of the client, sampled in a thread."""

    def __init__(self, client, period):
        self.client, self.period = client, period
        self.peak_workers, self.peak_client, self.samples, self.errors = {}, 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                rss = self.client.run(_rss)
            except Exception:  # a worker going away mid-sample: counted, the next sample goes on
                self.errors += 1
            else:
                for addr, value in rss.items():
                    self.peak_workers[addr] = max(self.peak_workers.get(addr, 0), value)
                self.samples += 1
            self.peak_client = max(self.peak_client, me.memory_info().rss)
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


def _spilled(dask_worker):
    total = getattr(dask_worker.data, "spilled_total", None)
    return None if total is None else int(total.disk)


def _pids(client):
    return client.run(os.getpid)


#: The rsvd calls of ``--rsvd``: keyword arguments of ``rsvd(D, RANK, rng=0, ...)`` (``n_iter=None``: ``--n-iter``).
RSVD_CALLS = {"default": {}, "former": {"method": "subspace", "n_iter": 7},
              "subspace": {"method": "subspace", "n_iter": None}}


def run_rsvd(client, D, kwargs, poll):
    """One rsvd call and its residual pass ``A^T U``, in a memory window of their own: a dict of measurements."""
    import dask

    from lowrank_la.svd import rsvd

    with MemoryPoller(client, poll) as mem:
        t0 = time.perf_counter()
        res = rsvd(D, RANK, rng=0, **kwargs)
        U, s, Vh = client.compute(list(res), sync=True)
        out = {"kwargs": kwargs, "rsvd_s": time.perf_counter() - t0, "rsvd_passes": res.n_passes}
        t0 = time.perf_counter()
        W = client.compute(D.T @ dask.array.from_array(U), sync=True)  # one more pass: A^T U
        out["residual_pass_s"] = time.perf_counter() - t0
        out["max_residual"] = float(np.max(np.linalg.norm(W - Vh.T * s, axis=0)) / s[0])
    out["top_singular_values"] = [float(v) for v in s[:3]]
    out["peak_worker_rss_mib"] = sorted(v / 2**20 for v in mem.peak_workers.values())
    out["peak_client_rss_mib"] = mem.peak_client / 2**20
    return out, s


def run_case(client, D, label, calls, n_iter, poll):
    """The rsvd calls ``calls`` (keys of :data:`RSVD_CALLS`), each with a residual pass, and a StreamingSketch over
    the Dask array ``D``; returns a dict of measurements."""
    m, n = D.shape
    out = {"input": label, "shape": [m, n], "dtype": str(D.dtype), "gib": D.nbytes / 2**30,
           "chunks": D.numblocks[0], "chunk_mib": D.nbytes / D.numblocks[0] / 2**20, "rsvd": {}}
    pids_before = _pids(client)
    for name in calls:
        kwargs = {key: n_iter if v is None else v for key, v in RSVD_CALLS[name].items()}
        out["rsvd"][name], s = run_rsvd(client, D, kwargs, poll)
        print(json.dumps({"input": label, name: out["rsvd"][name]}), flush=True)
    with MemoryPoller(client, poll) as mem:
        t0 = time.perf_counter()
        sk = StreamingSketch((m, n), RANK, sketch="sparse_sign", dtype="float32", rng=0)
        start = 0
        for i in range(D.numblocks[0]):
            block = client.compute(D.blocks[i], sync=True)
            sk.linear_update(block, rows=slice(start, start + block.shape[0]))
            start += block.shape[0]
        _, s_sketch, _ = sk.fixed_rank()
        out["sketch_s"] = time.perf_counter() - t0
    rel = np.abs(s_sketch - s) / s
    out["sketch_vs_rsvd_rel_top5"], out["sketch_vs_rsvd_rel_max"] = float(np.max(rel[:5])), float(np.max(rel))
    pids_after = _pids(client)
    out["workers_before_after"] = [len(pids_before), len(pids_after)]
    out["worker_restarted"] = pids_before != pids_after
    out["peak_worker_rss_mib_sketch"] = sorted(v / 2**20 for v in mem.peak_workers.values())
    out["peak_client_rss_mib"] = mem.peak_client / 2**20
    out["memory_samples"], out["poll_errors"] = mem.samples, mem.errors
    out["spilled_to_disk_mib"] = {a: (v if v is None else v / 2**20)
                                  for a, v in client.run(_spilled).items()}
    return out


def main(argv=None):
    args = parse_args(argv)
    import dask.array as da
    import distributed

    root = Path(args.path)
    root.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        m, rows = _layout(args.size_gib, args.n_cols, args.chunk_mib)
        t0 = time.perf_counter()
        write_zarr(root / "A.zarr", m, args.n_cols, rows)
        print(f"wrote zarr ({m} x {args.n_cols} float32, {m * args.n_cols * 4 / 2**30:.2f} GiB, chunks of {rows} "
              f"rows) in {time.perf_counter() - t0:.1f} s", flush=True)
        if args.hdf5:
            mh, _ = _layout(args.hdf5_gib, args.n_cols, args.chunk_mib)
            t0 = time.perf_counter()
            write_hdf5(root / "A.h5", mh, args.n_cols, rows)
            print(f"wrote HDF5 ({mh} x {args.n_cols}) in {time.perf_counter() - t0:.1f} s", flush=True)
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                      memory_limit=args.worker_memory, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            D = da.from_zarr(str(root / "A.zarr"))
            results.append(run_case(client, D, "zarr", args.rsvd, args.n_iter, args.poll))
            print(json.dumps(results[-1], indent=1), flush=True)
            if args.hdf5:
                import h5py

                f = h5py.File(root / "A.h5", "r")
                D = da.from_array(f["A"], chunks=(rows, args.n_cols))
                results.append(run_case(client, D, "hdf5", args.rsvd, args.n_iter, args.poll))
                f.close()
                print(json.dumps(results[-1], indent=1), flush=True)
        for r in results:
            r["worker_memory_limit"] = args.worker_memory
            r["size_over_worker_limit"] = r["gib"] * 2**30 / _bytes(args.worker_memory)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


def _bytes(text):
    from dask.utils import parse_bytes

    return parse_bytes(text)


if __name__ == "__main__":
    main()
