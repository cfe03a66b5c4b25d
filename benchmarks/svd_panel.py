"""Randomized SVD on the real-data panel: every implementation at its defaults, k in {10, 20, 50}.

The inputs are ``lowrank_la.datasets.real_panel``: the TF-IDF matrix of the standard library's docstrings
(sparse, flat spectrum), scikit-learn's digits (1797 x 64), two scikit-image pictures (coffee 400 x 600, grass
512 x 512) and a power-law sparse matrix. Each implementation is called as a user would call it, with nothing
but the matrix, k and a seed:

* ``lowrank_la``: ``lowrank_la.rsvd(A, k, rng=seed)``;
* ``sklearn``: ``sklearn.utils.extmath.randomized_svd(A, k, random_state=seed)``;
* ``fbpca``: ``fbpca.pca(A, k, raw=True)`` after ``numpy.random.seed(seed)`` (fbpca draws from the global
  generator);
* ``svds``: ``scipy.sparse.linalg.svds(A, k, rng=numpy.random.default_rng(seed))`` (ARPACK, ``tol=0``).

``PanelSVD`` runs the whole panel with the 20,000 x 2,000 power-law matrix (200,000 non-zeros;
``real_panel("small")``) and ``PanelSVDLarge`` the 200,000 x 20,000 one (2,000,000 non-zeros;
``real_panel("large")``, the ``SparseRSVD`` input of ``benchmarks/svd.py``).

Metrics, per matrix, k and implementation:

* ``time_svd``: one rank-k SVD (seed 0); ``peakmem_svd``: the peak RSS of the process (the input included);
* ``track_max_rel_sv_error``: ``max_i |s_i - sigma_i| / sigma_i`` over the k singular values, the median over
  the seeds 0 to 4 (``svds``: seed 0 only; it converges to machine precision from any start). The exact
  ``sigma_i`` come from ``setup_cache``: the dense LAPACK SVD (``numpy.linalg.svd``) of each ``PanelSVD``
  matrix, and ``svds(A, 60, tol=0)`` for the large power-law matrix, which is too large to densify.

Inputs and references are built once per run in ``setup_cache``. Every implementation runs on ``THREADS``
threads (``benchmarks/svd.py``; set ``LOWRANK_LA_BENCH_THREADS=1`` on a shared machine).

The figure of the docs' randomized-SVD page (``docs/_static/rsvd_panel.png``: accuracy against time on the small
panel) and its table come from the same implementations and metrics, run in one process with the competitors
interleaved (the median of ``--repeats`` times per cell, as issue 16 asks for its rsvd / scikit-learn ratios)::

    LOWRANK_LA_BENCH_THREADS=1 python -m benchmarks.svd_panel docs/_static/rsvd_panel.png
"""

import argparse
import time

import numpy as np

import lowrank_la

from .common import require
from .svd import THREADS, _pin_threads, _release, max_rel_sv_error

K_VALUES = [10, 20, 50]
IMPLS = ["lowrank_la", "sklearn", "fbpca", "svds"]
SEEDS = range(5)
REFERENCE_K = max(K_VALUES)


def small_problem():
    """The small panel and, per matrix, its top ``REFERENCE_K`` singular values by dense LAPACK."""
    from lowrank_la import datasets

    with lowrank_la.thread_limit(THREADS):
        panel = datasets.real_panel("small")
        sigma = {name: np.linalg.svd(A.toarray() if hasattr(A, "toarray") else A, compute_uv=False)[:REFERENCE_K]
                 for name, A in panel.items()}
    return {"panel": panel, "sigma": sigma}


def large_problem():
    """The large power-law matrix and its top ``REFERENCE_K`` singular values by ``svds(tol=0)``."""
    import scipy.sparse.linalg

    from lowrank_la import datasets

    with lowrank_la.thread_limit(THREADS):
        A = datasets.real_panel("large")["power_law"]
        sigma = scipy.sparse.linalg.svds(A, k=REFERENCE_K + 10, tol=0, return_singular_vectors=False,
                                         rng=np.random.default_rng(1))
    return {"panel": {"power_law": A}, "sigma": {"power_law": np.sort(sigma)[::-1][:REFERENCE_K]}}


def implementation(impl):
    """A callable ``(A, k, seed) -> (U, s, Vh)`` running `impl` at its defaults."""
    if impl == "lowrank_la":
        return lambda A, k, seed: lowrank_la.rsvd(A, k, rng=seed)
    if impl == "sklearn":
        extmath = require("sklearn.utils.extmath")
        return lambda A, k, seed: extmath.randomized_svd(A, k, random_state=seed)
    if impl == "fbpca":
        fbpca = require("fbpca")

        def run(A, k, seed):
            np.random.seed(seed)  # noqa: NPY002 (fbpca draws from the global NumPy generator)
            return fbpca.pca(A, k, raw=True)

        return run
    sla = require("scipy.sparse.linalg")
    return lambda A, k, seed: sla.svds(A, k=k, rng=np.random.default_rng(seed))


class PanelSVD:
    params = (list(lowrank_la.datasets.PANEL), K_VALUES, IMPLS)
    param_names = ["matrix", "k", "impl"]
    timeout = 900

    def setup_cache(self):
        return small_problem()

    def setup(self, problem, matrix, k, impl):
        self.run = implementation(impl)
        self.A = problem["panel"][matrix]
        self.sigma = problem["sigma"][matrix][:k]
        self.seeds = [0] if impl == "svds" else SEEDS
        self._limits = _pin_threads()

    def teardown(self, problem, matrix, k, impl):
        _release(self)

    def time_svd(self, problem, matrix, k, impl):
        self.run(self.A, k, 0)

    def peakmem_svd(self, problem, matrix, k, impl):
        self.run(self.A, k, 0)

    def track_max_rel_sv_error(self, problem, matrix, k, impl):
        return float(np.median([max_rel_sv_error(self.run(self.A, k, seed)[1], self.sigma) for seed in self.seeds]))

    track_max_rel_sv_error.unit = "relative"


class PanelSVDLarge(PanelSVD):
    params = (["power_law"], K_VALUES, IMPLS)

    def setup_cache(self):
        return large_problem()


def measure(problem, repeats=5):
    """Per matrix, k and implementation: the median of `repeats` times (the implementations interleaved), the
    median maximum relative singular-value error over the seeds and, for lowrank_la, the largest ratio of the
    true error to ``error_estimate`` and the median ratio of the estimate to the true error. A list of dicts."""
    import warnings

    runs = {impl: implementation(impl) for impl in IMPLS}
    rows = []
    with lowrank_la.thread_limit(THREADS), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # svds' and fbpca's own warnings; the rows carry the accuracy
        for name, A in problem["panel"].items():
            for k in K_VALUES:
                exact = problem["sigma"][name][:k]
                times = {impl: [] for impl in IMPLS}
                for _ in range(repeats):
                    for impl in IMPLS:
                        start = time.perf_counter()
                        runs[impl](A, k, 0)
                        times[impl].append(time.perf_counter() - start)
                for impl in IMPLS:
                    results = [runs[impl](A, k, seed) for seed in ([0] if impl == "svds" else SEEDS)]
                    errors = [max_rel_sv_error(r[1], exact) for r in results]
                    row = {"matrix": name, "k": k, "impl": impl, "time_s": float(np.median(times[impl])),
                           "error": float(np.median(errors))}
                    if impl == "lowrank_la":
                        estimates = [r.error_estimate for r in results]
                        row["true_over_estimate"] = max(e / max(x, 1e-300) for e, x in zip(errors, estimates))
                        row["estimate_over_true"] = float(np.median([x / max(e, 1e-300)
                                                                     for e, x in zip(errors, estimates)]))
                    rows.append(row)
    return rows


def draw(rows, path):
    """Accuracy (median maximum relative singular-value error) against time, one panel per matrix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    names = list(dict.fromkeys(row["matrix"] for row in rows))
    fig, axes = plt.subplots(2, 3, figsize=(9.6, 6.0))
    markers = {10: "o", 20: "s", 50: "^"}
    colors = dict(zip(IMPLS, ["C3", "C0", "C2", "C7"]))
    for ax, name in zip(axes.flat, names):
        for impl in IMPLS:
            cells = [row for row in rows if row["matrix"] == name and row["impl"] == impl]
            ax.plot([row["time_s"] * 1e3 for row in cells], [max(row["error"], 1e-16) for row in cells], "-",
                    color=colors[impl], lw=0.8, alpha=0.6)
            for row in cells:
                ax.plot(row["time_s"] * 1e3, max(row["error"], 1e-16), markers[row["k"]], color=colors[impl], ms=5)
        ax.set(xscale="log", yscale="log", title=name, ylim=(3e-17, 1))
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes[1, :]:
        ax.set_xlabel("time (ms), median of runs")
    for ax in axes[:, 0]:
        ax.set_ylabel("max relative sv error")
    legend = axes.flat[-1]
    legend.axis("off")
    handles = [Line2D([], [], color=colors[impl], marker="o", lw=0.8, label=impl) for impl in IMPLS]
    handles += [Line2D([], [], color="k", marker=markers[k], ls="none", label=f"k = {k}") for k in K_VALUES]
    legend.legend(handles=handles, loc="center", frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Accuracy against time of the randomized SVDs on the panel.")
    parser.add_argument("png", help="where to write the figure")
    parser.add_argument("--repeats", type=int, default=5, help="timings per cell (the median is kept)")
    args = parser.parse_args(argv)
    rows = measure(small_problem(), repeats=args.repeats)
    draw(rows, args.png)
    print(f"{'matrix':13s} {'k':>3s} " + " ".join(f"{impl:>22s}" for impl in IMPLS)
          + "  la true/est  la est/true  sklearn/la time")
    for name in dict.fromkeys(row["matrix"] for row in rows):
        for k in K_VALUES:
            cells = {row["impl"]: row for row in rows if row["matrix"] == name and row["k"] == k}
            la = cells["lowrank_la"]
            print(f"{name:13s} {k:3d} " + " ".join(f"{cells[i]['error']:9.1e} {cells[i]['time_s'] * 1e3:9.1f} ms"
                                                  for i in IMPLS)
                  + f"  {la['true_over_estimate']:11.2f}  {la['estimate_over_true']:11.1f}"
                  + f"  {cells['sklearn']['time_s'] / la['time_s']:15.2f}")


if __name__ == "__main__":
    main()
