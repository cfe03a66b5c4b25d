"""Distributed AltMin (``altmin_distributed``) against the single-process fit, on the synthetic recommender.

Not an asv suite (it starts its own clusters); run by hand::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/distributed_completion.py [--quick]

The problem is the completion issue's recommender, ``lowrank_la.datasets.ratings_matrix(50000, 10000,
1_000_000, rng=0)`` (``--quick``: 5,000 x 1,000, 100,000 ratings), 10% of the ratings held out (seed 1, as in
``benchmarks/completion.py``). Every fit uses the same hand-set model, rank 10, ``reg=0.05``, offsets, the exact
solver and ``rng=0``: ``altmin_complete`` in this process, then ``altmin_distributed`` on a ``LocalCluster`` of
1 and of 2 worker processes (1 thread each), fed the training coordinates as Dask arrays of 8 chunks. It prints
the held-out RMSE of each fit, its relative difference to the single-process one (the issue asks for at most
1%), the wall time (setup: checks, shuffle, offsets and the SVD start; then the iterations) and the iterations.
Set ``NUMBA_NUM_THREADS=1`` so that the single-process fit also uses one thread per process.
"""

import argparse
import time

import numpy as np


def problem(quick):
    import lowrank_la as la

    m, n, n_obs = (5_000, 1_000, 100_000) if quick else (50_000, 10_000, 1_000_000)
    R = la.datasets.ratings_matrix(m, n, n_obs, rng=0).tocoo()
    test = np.random.default_rng(1).random(R.nnz) < 0.1
    train = tuple(x[~test] for x in (R.row, R.col, R.data))
    return train, tuple(x[test] for x in (R.row, R.col, R.data)), R.shape


def rmse(res, held):
    rows, cols, vals = held
    return float(np.sqrt(np.mean((res.predict(rows, cols) - vals) ** 2)))


MODEL = {"reg": 0.05, "offsets": True, "solver": "exact", "rng": 0}
RANK = 10


def main(quick=False):
    import dask.array as da
    import distributed

    from lowrank_la.completion import altmin_complete, altmin_distributed

    train, held, shape = problem(quick)
    print(f"recommender {shape[0]} x {shape[1]}, {train[0].shape[0]} training and {held[0].shape[0]} held-out "
          f"ratings; rank {RANK}, {MODEL}")
    t = time.perf_counter()
    one = altmin_complete(*train, shape, RANK, **MODEL)
    t_one = time.perf_counter() - t
    base = rmse(one, held)
    print(f"{'run':<22}{'held-out RMSE':>14}{'vs single':>11}{'time s':>9}{'setup s':>9}{'iters':>7}")
    print(f"{'single process':<22}{base:>14.5f}{'':>11}{t_one:>9.2f}{'':>9}{one.n_iter:>7}")
    chunk = -(-train[0].shape[0] // 8)
    starts = range(0, train[0].shape[0], chunk)
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=50) as cluster, \
                distributed.Client(cluster) as client:
            # the training chunks scattered to the workers (as if loaded there), then read as Dask arrays
            coords = [da.concatenate([da.from_delayed(f, shape=(min(chunk, x.shape[0] - a),), dtype=x.dtype)
                                      for f, a in zip(client.scatter([x[a:a + chunk] for a in starts]), starts)])
                      for x in train]
            client.run(_warm)  # compile the Numba kernels on the workers outside the timing
            t = time.perf_counter()
            res = altmin_distributed(*coords, shape, RANK, client=client, **MODEL)
            elapsed = time.perf_counter() - t
            err = rmse(res, held)
            print(f"{f'distributed, {workers} worker(s)':<22}{err:>14.5f}{(err - base) / base:>+11.2e}{elapsed:>9.2f}"
                  f"{res.history['setup_time']:>9.2f}{res.n_iter:>7}")


def _warm():
    """A tiny fit in the worker's process: the Numba kernels compiled (and cached) before the timed run."""
    from lowrank_la.completion import altmin_complete

    M = np.add.outer(np.arange(20.0), np.arange(10.0) ** 2)  # rank 2
    rows, cols = np.nonzero(np.ones(M.shape))
    altmin_complete(rows, cols, M[rows, cols], M.shape, 2, reg=0.05, offsets=True, solver="exact")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 x 1,000 with 100,000 ratings")
    main(parser.parse_args().quick)
