"""Reproduction ``core-shape``: approximately optimal Tucker core shapes (Ghadiri, Fahrbach, Fu, Mirrokni, ICML 2023).

For each tensor and parameter budget, the core shape is chosen by

* ``milp``: the paper's method exactly (``method="milp", refine=False``): the small-rank brute force, then one
  HiGHS integer program per product/sum split of the budget on the geometric grid of ratio 1.5;
* ``auto``: this library's default (the exact surrogate optimum by pruned enumeration when it is small enough);
* ``rre_greedy``: the paper's baseline, growing the shape one rank at a time by the lowest error of a true
  Tucker fit (HOOI, 20 sweeps). The official code starts each fit at random; here it starts from the HOSVD,
  because 20 random-start sweeps do not converge on the synthetic tensor and the greedy then stalls at (1, 1, 1).

Every chosen shape is then fitted with that same HOOI, and its squared relative error ``RRE = ||X - X_hat||^2 /
||X||^2`` recorded with the search time (the spectrum, shared by all budgets, is timed separately). None of the
paper's four tensors ships offline; the tensors here are a synthetic Tucker-plus-noise tensor (ranks (4, 8, 16),
as in the authors' ``main.py``; 10% noise), a smooth function ``1 / (0.1 + x + 2y + 3z)`` sampled on a grid, and
the scikit-learn digits as a 1797 x 8 x 8 tensor.

The verdict, fixed before the runs: the claim holds if, at every budget of every tensor, the paper's ``milp`` has
``RRE <= 1.10 x`` the RRE of ``rre_greedy`` (plus 1e-12), and the median over all budgets of the search-time ratio
``t(rre_greedy) / t(milp)`` is at least 100 (the paper's "10^2-10^4x", here without the spectrum, which the paper
also reports separately). The ratios of ``auto`` are reported beside it.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). The abstract confirms the claim judged
here ("competitive with (and sometimes better than) the greedy algorithm that uses the true Tucker decomposition
loss at each step, while also running up to 1000x faster") and the PTAS via 2-dimensional knapsack with a
matroid constraint; the theorem's constants (the approximation factor of the surrogate, additive or
multiplicative) could not be read. The N-approximation in :mod:`lowrank_la.tensor` is derived in its own
docstring and does not rely on them. The paper's four tensors (cardiac MRI, hyperspectral, traffic and
COIL-100, per the authors' code) are not available offline; only the synthetic Tucker tensor (ranks (4, 8, 16))
follows the authors' ``main.py``, at n = 60 (``quick``) or 100 (``full``) per mode.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .._backend import ConvergenceWarning, thread_limit
from ..tensor import core_shape_search, hooi, hosvd_spectrum
from ._registry import ExperimentResult, pyplot, register
from ._style import finish, legend_under_panels

__all__ = ["run"]

SIZES = {
    "smoke": {"synthetic": {"n": 20, "ranks": (2, 3, 4), "budgets": [200, 400]},
              "smooth": {"n": 15, "budgets": [100, 200]},
              "digits": {"samples": 200, "budgets": [300, 600]}},
    "quick": {"synthetic": {"n": 60, "ranks": (4, 8, 16), "budgets": [1500, 3000, 6000]},
              "smooth": {"n": 40, "budgets": [300, 600, 1200]},
              "digits": {"samples": 1797, "budgets": [2500, 4000, 7000]}},
    "full": {"synthetic": {"n": 100, "ranks": (4, 8, 16), "budgets": [2000, 5000, 10000, 20000, 30000]},
             "smooth": {"n": 100, "budgets": [400, 1000, 2000, 4000]},
             "digits": {"samples": 1797, "budgets": [2500, 4000, 7000, 10000, 15000]}},
}
METHODS = ("milp", "auto", "rre_greedy")
RRE_FACTOR = 1.10
SPEEDUP = 100.0


def _tensors(cfg, seed):
    from ..datasets import tucker_tensor

    n = cfg["synthetic"]["n"]
    yield "synthetic", tucker_tensor((n,) * 3, cfg["synthetic"]["ranks"], noise=0.1, rng=seed), cfg["synthetic"]
    g = np.linspace(0, 1, cfg["smooth"]["n"])
    smooth = 1.0 / (0.1 + g[:, None, None] + 2 * g[None, :, None] + 3 * g[None, None, :])
    yield "smooth", smooth, cfg["smooth"]
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # scikit-learn is an optional dependency: the digits row is then left out
        return
    digits = load_digits().images[:cfg["digits"]["samples"]].astype(np.float64)
    yield "digits", digits, cfg["digits"]


def _rre(X, ranks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return hooi(X, ranks, init="svd", n_iter_max=20, tol=0).history["error"][-1] ** 2


@register("core-shape",
          paper="Ghadiri, Fahrbach, Fu, Mirrokni, 'Approximately Optimal Core Shapes for Tensor Decompositions', "
                "ICML 2023 (arXiv:2302.03886)",
          claim="core shapes from the higher-order singular values, chosen by integer programming under a "
                "parameter budget, reach a Tucker error competitive with (within ~10% of, sometimes below) the "
                "greedy search on the true Tucker loss, at 10^2-10^4x less search time")
def run(size="quick", rng=0, progress=None):
    """Run the core-shape comparison at `size`; see the module docstring."""
    cfg = SIZES[size]
    rows = []
    with thread_limit(1):
        for name, X, tcfg in _tensors(cfg, rng):
            start = time.perf_counter()
            spec = hosvd_spectrum(X)
            spectrum_seconds = time.perf_counter() - start
            for budget in progress(tcfg["budgets"], total=len(tcfg["budgets"]), desc=f"core-shape {name}"):
                for method in METHODS:
                    extra = {"refine": False} if method == "milp" else {}
                    res = core_shape_search(X, budget, spectrum=spec, method=method, **extra)
                    rows.append({"tensor": name, "shape": "x".join(map(str, X.shape)), "budget": budget,
                                 "method": method, "picked": res.method, "ranks": "x".join(map(str, res.ranks)),
                                 "n_params": res.n_params, "rre": _rre(X, res.ranks),
                                 "surrogate_rel": res.surrogate_tail / res.norm_sq,
                                 "search_seconds": res.solve_time, "spectrum_seconds": spectrum_seconds,
                                 "n_milps": res.n_milps, "n_fits": res.n_fits})
    held, summary = _judge(rows)
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_figure(rows))


def _pick(rows, tensor, budget, method):
    return next(r for r in rows if (r["tensor"], r["budget"], r["method"]) == (tensor, budget, method))


def _ratios(rows, method):
    """Per (tensor, budget): RRE ratio to rre_greedy and search-time ratio of rre_greedy to `method`."""
    out = []
    for r in rows:
        if r["method"] != method:
            continue
        base = _pick(rows, r["tensor"], r["budget"], "rre_greedy")
        out.append((r["tensor"], r["budget"], r["rre"] / max(base["rre"], 1e-300),
                    r["rre"] <= RRE_FACTOR * base["rre"] + 1e-12,
                    base["search_seconds"] / max(r["search_seconds"], 1e-9)))
    return out


def _judge(rows):
    milp, auto = _ratios(rows, "milp"), _ratios(rows, "auto")
    quality = all(ok for *_, ok, _ in milp)
    speed = float(np.median([s for *_, s in milp]))
    held = bool(quality and speed >= SPEEDUP)
    lines = [f"- {t} @ {b}: milp RRE ratio {q:.3f}, rre_greedy/milp time {s:.0f}x; auto RRE ratio {qa:.3f}, "
             f"rre_greedy/auto time {sa:.0f}x"
             for (t, b, q, _, s), (_, _, qa, _, sa) in zip(milp, auto)]
    summary = (f"milp (the paper's method) RRE within {RRE_FACTOR:.2f}x of rre_greedy at every budget: "
               f"{'yes' if quality else 'NO'} (worst ratio {max(q for _, _, q, _, _ in milp):.3f}, best "
               f"{min(q for _, _, q, _, _ in milp):.3f}); median search-time ratio rre_greedy/milp {speed:.0f}x "
               f"(needed >= {SPEEDUP:.0f}x: {'yes' if speed >= SPEEDUP else 'NO'}); auto: median "
               f"{float(np.median([s for *_, s in auto])):.0f}x, worst RRE ratio "
               f"{max(q for _, _, q, _, _ in auto):.3f}."
               "\n\n" + "\n".join(lines))
    return held, summary


def _figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    tensors = list(dict.fromkeys(r["tensor"] for r in rows))
    fig, axes = plt.subplots(2, len(tensors), figsize=(4.2 * len(tensors), 6.5), squeeze=False)
    styles = {"milp": ("o-", "milp (paper)"), "auto": ("x--", "auto (exact surrogate)"),
              "rre_greedy": ("s:", "rre_greedy (true loss)")}
    for col, tensor in enumerate(tensors):
        for method, (style, label) in styles.items():
            sel = [r for r in rows if r["tensor"] == tensor and r["method"] == method]
            budgets = [r["budget"] for r in sel]
            axes[0, col].semilogy(budgets, [r["rre"] for r in sel], style, label=label)
            axes[1, col].semilogy(budgets, [max(r["search_seconds"], 1e-6) for r in sel], style, label=label)
        shape = next(r["shape"] for r in rows if r["tensor"] == tensor)
        axes[0, col].set_title(f"{tensor} ({shape})")
        axes[1, col].set_xlabel("parameter budget")
    # labelled once per row (per-panel labels ran into each other)
    axes[0, 0].set_ylabel("squared relative error\n(HOOI)")
    axes[1, 0].set_ylabel("search time [s]\n(spectrum excluded)")
    legend_under_panels(axes[0, 0], len(styles))
    return finish(fig)
