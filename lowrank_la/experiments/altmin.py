"""Reproduction ``altmin``: robust alternating minimization for matrix completion (Gu, Song, Yin, Zhang, ICLR 2024).

The paper proves that AltMin tolerates approximate least-squares half-steps (solved by a sketching-based
preconditioner) and so runs in ``O~(|Omega| k)`` instead of ``O~(|Omega| k^2)``. It has no experiments; these are
the standard synthetic ones (spec page 03, section 8):

* **E1** convergence against iteration and time: exact AltMin against the sketched and the warm-started CG
  half-steps at several ``solver_tol`` and with a geometric schedule ``solver_tol_t = max(1e-13, 1e-2 0.3^t)``,
  on ``M = U* diag(linspace(1, 1/kappa, k)) V*^T`` with Haar factors, entries observed with probability p;
* **E2** the recovery phase transition against the oversampling ``rho = |Omega| / (k (m + n - k))``, with and
  without sample splitting (success: relative error below 1e-6);
* **E3** time per iteration against k at fixed ``|Omega|``, with the fitted growth exponent of each solver.

The verdict, fixed before the runs:

* robustness: on every E1 problem, every approximate run's lowest error is at most
  ``max(100 solver_tol, 10 e_exact)`` (it tracks exact AltMin, ``e_exact`` its lowest error, down to a floor set
  by the tolerance) and every geometric-schedule run reaches ``max(1e-9, 10 e_exact)``; the problems where exact
  AltMin itself stays above 1e-8 (too few samples for the iterations given) are judged by the same rule, against
  its error there, and listed as misses of exact AltMin, with every run that missed its threshold;
* splitting: the success rate without splitting is at least the one with splitting at every rho;
* scaling: the fitted exponent in k of the sketched half-steps is below the exact one's and at most 1.5.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). Gu, Song, Yin and Zhang report no
experiments, so there is no setting to match; the sizes above are ours (n = 1000, k = 10 for E1). The paper's
sketch type and solver constants, and Jain, Netrapalli and Sanghavi's clipping threshold ``2 mu sqrt(k/m)``
(``clip=True`` of ``altmin_complete``), could not be read beyond the abstracts; none of them
enters a verdict here (clipping is off).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._backend import ConvergenceWarning, as_rng, thread_limit
from ..completion import altmin_complete, half_step, parse_observations, sampled_product, segment_ridges
from ._registry import ExperimentResult, best_time, pyplot, register
from ._style import finish

__all__ = ["run"]

SIZES = {
    "smoke": {"e1": {"n": 120, "k": 3, "kappas": [5], "ps": [0.35], "tols": [1e-2], "n_iter": 15},
              "e2": {"n": 60, "k": 2, "rhos": [2, 5], "trials": 2, "n_iter": 15},
              "e3": {"n": 200, "p": 0.5, "ks": [4, 8], "repeats": 1}},
    "quick": {"e1": {"n": 1000, "k": 10, "kappas": [1, 20], "ps": [0.05, 0.2], "tols": [1e-2, 1e-6],
                     "n_iter": 20},
              "e2": {"n": 200, "k": 3, "rhos": [1.5, 2, 3, 4, 6], "trials": 3, "n_iter": 20},
              "e3": {"n": 600, "p": 0.5, "ks": [4, 8, 16, 32, 64], "repeats": 2}},
    "full": {"e1": {"n": 1000, "k": 10, "kappas": [1, 5, 10, 20], "ps": [0.05, 0.1, 0.2],
                    "tols": [1e-2, 1e-4, 1e-8], "n_iter": 40},
             "e2": {"n": 500, "k": 5, "rhos": [1, 1.5, 2, 2.5, 3, 4, 5, 6], "trials": 50, "n_iter": 50},
             "e3": {"n": 1000, "p": 0.5, "ks": [8, 16, 32, 64, 128, 256], "repeats": 3}},
}
SCHEDULE = "geometric"
SUCCESS = 1e-6


def _schedule(t):
    return max(1e-13, 1e-2 * 0.3**t)


def _problem(m, n, k, kappa, n_obs, gen):
    """Haar factors, sigma = linspace(1, 1/kappa, k), |Omega| uniform entries without repeats."""
    L = np.linalg.qr(gen.standard_normal((m, k)))[0] * np.linspace(1.0, 1.0 / kappa, k)
    R = np.linalg.qr(gen.standard_normal((n, k)))[0]
    lin = gen.choice(m * n, n_obs, replace=False)
    rows, cols = np.divmod(lin, n)
    return rows, cols, sampled_product(L, R, rows, cols), (L, R)


def _complete(rows, cols, vals, shape, k, **kw):
    """AltMin as the paper states it: the given rank, no regularisation (``reg=0``), no offsets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return altmin_complete(rows, cols, vals, shape, k, reg=0.0, **kw)


def _e1(cfg, gen, progress):
    n, k = cfg["n"], cfg["k"]
    runs = [("exact", None)] + [(s, t) for s in ("sketch", "cg") for t in [*cfg["tols"], SCHEDULE]]
    cases = [(kappa, p) for kappa in cfg["kappas"] for p in cfg["ps"]]
    rows_out = []
    for kappa, p in progress(cases, total=len(cases), desc="altmin E1"):
        rows, cols, vals, truth = _problem(n, n, k, kappa, int(p * n * n), gen)
        seed = int(gen.integers(2**31))
        for solver, tol in runs:
            solver_tol = _schedule if tol == SCHEDULE else (tol or 1e-10)
            res = _complete(rows, cols, vals, (n, n), k, solver=solver, solver_tol=solver_tol, n_iter=cfg["n_iter"],
                            tol=1e-13, truth=truth, rng=seed)
            for t, (err, secs) in enumerate(zip(res.history["error"], res.history["time"])):
                rows_out.append({"experiment": "E1", "kappa": kappa, "p": p, "solver": solver,
                                 "solver_tol": "exact" if tol is None else tol, "iteration": t + 1, "error": err,
                                 "seconds": secs, "k": k, "rho": "", "split": "", "success_rate": "",
                                 "s_per_iter": ""})
    return rows_out


def _e2(cfg, gen, progress):
    n, k = cfg["n"], cfg["k"]
    cases = [(rho, split) for rho in cfg["rhos"] for split in (False, True)]
    out = []
    for rho, split in progress(cases, total=len(cases), desc="altmin E2"):
        wins = 0
        for trial in range(cfg["trials"]):
            trial_gen = as_rng(1000 * trial + 7)
            n_obs = min(int(rho * k * (2 * n - k)), n * n)
            rows, cols, vals, truth = _problem(n, n, k, 1.0, n_obs, trial_gen)
            res = _complete(rows, cols, vals, (n, n), k, solver="exact", n_iter=cfg["n_iter"], tol=1e-12,
                            sample_split=split, truth=truth, rng=trial)
            wins += res.history["error"][-1] < SUCCESS
        out.append({"experiment": "E2", "kappa": 1.0, "p": "", "solver": "exact", "solver_tol": "exact",
                    "iteration": "", "error": "", "seconds": "", "k": k, "rho": rho, "split": split,
                    "success_rate": wins / cfg["trials"], "s_per_iter": ""})
    return out


def _e3(cfg, gen, progress):
    """Seconds of one V half-step and one U half-step (a full iteration) at each k, from a near-solution state."""
    n, p = cfg["n"], cfg["p"]
    out = []
    ks = cfg["ks"]
    n_obs = int(p * n * n)
    for k in progress(ks, total=len(ks), desc="altmin E3"):
        rows, cols, vals, (L, R) = _problem(n, n, k, 1.0, n_obs, gen)
        obs = parse_observations(rows, cols, vals, (n, n))
        U = np.ascontiguousarray(np.linalg.qr(L + 1e-4 * gen.standard_normal(L.shape))[0])
        V = np.ascontiguousarray(np.linalg.qr(R)[0])
        V_warm = np.ascontiguousarray(R @ (L.T @ U))
        U_warm = np.ascontiguousarray(L @ (R.T @ V))
        ridge_v, ridge_u = segment_ridges(obs.by_col, k, n), segment_ridges(obs.by_row, k, n)
        for solver, maxiter in (("exact", 0), ("sketch", 100), ("cg", 8)):
            state = (obs, U, V, V_warm, U_warm, ridge_v, ridge_u, solver, maxiter)

            def iteration(state=state):
                obs, U, V, V_warm, U_warm, ridge_v, ridge_u, solver, maxiter = state
                half_step(U, obs.by_col, solver=solver, warm=V_warm, tol=1e-8, maxiter=maxiter, ridge=ridge_v, seed=1)
                half_step(V, obs.by_row, solver=solver, warm=U_warm, tol=1e-8, maxiter=maxiter, ridge=ridge_u, seed=2)

            iteration()  # compile and warm the caches
            out.append({"experiment": "E3", "kappa": 1.0, "p": p, "solver": solver, "solver_tol": 1e-8,
                        "iteration": "", "error": "", "seconds": "", "k": k, "rho": "", "split": "",
                        "success_rate": "", "s_per_iter": best_time(iteration, cfg["repeats"])})
    return out


def _exponent(rows, solver):
    pts = [(r["k"], r["s_per_iter"]) for r in rows if r["experiment"] == "E3" and r["solver"] == solver]
    ks, ts = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(ks, ts, 1)[0])


@register("altmin",
          paper="Gu, Song, Yin, Zhang, 'Low Rank Matrix Completion via Robust Alternating Minimization in Nearly "
                "Linear Time', ICLR 2024 (arXiv:2302.11068)",
          claim="AltMin tolerates approximate half-steps: loose solves track exact AltMin down to a floor set by "
                "the tolerance, a geometrically tightened tolerance keeps its convergence, and sketched solves "
                "cost about |Omega| k per iteration against |Omega| k^2 for exact ones")
def run(size="quick", rng=0, progress=None):
    """Run E1-E3 at `size`; see the module docstring."""
    cfg = SIZES[size]
    gen = as_rng(rng)
    with thread_limit(2):
        rows = _e1(cfg["e1"], gen, progress) + _e2(cfg["e2"], gen, progress) + _e3(cfg["e3"], gen, progress)
    held, summary = _judge(rows, cfg)
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_figure(rows))


def _final(rows, kappa, p, solver, tol):
    errs = [r["error"] for r in rows if r["experiment"] == "E1" and (r["kappa"], r["p"], r["solver"],
                                                                      r["solver_tol"]) == (kappa, p, solver, tol)]
    return min(errs)


def _judge(rows, cfg):
    e1 = [r for r in rows if r["experiment"] == "E1"]
    problems = sorted({(r["kappa"], r["p"]) for r in e1})
    tracks, schedule_ok, lines, misses = True, True, [], []
    exact_misses = 0
    for kappa, p in problems:
        e_exact = _final(rows, kappa, p, "exact", "exact")
        parts = [f"exact {e_exact:.1e}"]
        for solver in ("sketch", "cg"):
            for tol in [*cfg["e1"]["tols"], SCHEDULE]:
                e = _final(rows, kappa, p, solver, tol)
                parts.append(f"{solver}@{tol if tol == SCHEDULE else f'{tol:g}'} {e:.1e}")
                bound = max(1e-9, 10 * e_exact) if tol == SCHEDULE else max(100 * tol, 10 * e_exact)
                if tol == SCHEDULE:
                    schedule_ok &= e <= bound
                else:
                    tracks &= e <= bound
                if not e <= bound:
                    misses.append(f"kappa={kappa}, p={p}: {solver}@{tol} {e:.1e} > {bound:.1e}")
        exact_misses += not e_exact <= 1e-8
        lines.append(f"kappa={kappa}, p={p}: lowest error " + ", ".join(parts)
                     + ("" if e_exact <= 1e-8 else " (exact AltMin did not reach 1e-8: a miss of exact AltMin)"))
    e2 = [r for r in rows if r["experiment"] == "E2"]
    split_ok = all(
        next(r["success_rate"] for r in e2 if r["rho"] == rho and not r["split"])
        >= next(r["success_rate"] for r in e2 if r["rho"] == rho and r["split"])
        for rho in cfg["e2"]["rhos"])
    rates = ", ".join(f"rho={r['rho']}{' split' if r['split'] else ''}: {r['success_rate']:.2f}" for r in e2)
    exps = {s: _exponent(rows, s) for s in ("exact", "sketch", "cg")}
    scaling_ok = exps["sketch"] < exps["exact"] and exps["sketch"] <= 1.5
    held = bool(tracks and schedule_ok and split_ok and scaling_ok and problems)
    verdict = (f"tracking to a tolerance floor: {'yes' if tracks else 'NO'}; geometric schedule keeps "
               f"convergence: {'yes' if schedule_ok else 'NO'} (all {len(problems)} problems judged; exact AltMin "
               f"missed 1e-8 on {exact_misses}; {len(misses)} approximate runs missed their bound"
               + (": " + "; ".join(misses) if misses else "") + "); "
               f"no splitting at least as good as splitting: {'yes' if split_ok else 'NO'}; fitted time exponents "
               f"in k: exact {exps['exact']:.2f}, sketch {exps['sketch']:.2f}, cg {exps['cg']:.2f} (paper: 2 vs 1; "
               f"{'yes' if scaling_ok else 'NO'})")
    summary = (f"{verdict}.\n\nE1 (m = n = {cfg['e1']['n']}, k = {cfg['e1']['k']}):\n\n"
               + "\n".join(f"- {line}" for line in lines)
               + f"\n\nE2 (n = {cfg['e2']['n']}, k = {cfg['e2']['k']}, {cfg['e2']['trials']} trials, success < "
               f"{SUCCESS:g}): {rates}.\n\nE3 (n = {cfg['e3']['n']}, p = {cfg['e3']['p']}): seconds per iteration "
               + ", ".join(f"{r['solver']}@k={r['k']}: {r['s_per_iter']:.3g}" for r in rows
                           if r["experiment"] == "E3") + ".")
    return held, summary


_SOLVER_NAMES = {"exact": "exact least squares", "sketch": "sketch-preconditioned LSQR", "cg": "conjugate gradient"}


def _run_label(solver, tol):
    if tol == "exact":
        return _SOLVER_NAMES[solver]
    return f"{_SOLVER_NAMES[solver]}, {'geometric tolerance' if tol == SCHEDULE else f'tolerance {tol}'}"


def _figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    e1 = [r for r in rows if r["experiment"] == "E1"]
    problems = sorted({(r["kappa"], r["p"]) for r in e1})
    kappa, p = problems[-1]
    fig, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
    axes = axes.ravel()
    for ax, xkey, xlabel in ((axes[0], "iteration", "iteration"), (axes[1], "seconds", "time (s)")):
        runs = sorted({(r["solver"], str(r["solver_tol"])) for r in e1})
        for solver, tol in runs:
            pts = [r for r in e1 if (r["kappa"], r["p"], r["solver"], str(r["solver_tol"])) == (kappa, p, solver, tol)]
            style = {"exact": "k-", "sketch": "-", "cg": "--"}[solver]
            ax.semilogy([r[xkey] for r in pts], [r["error"] for r in pts], style,
                        label=_run_label(solver, tol) if ax is axes[1] else None)
        ax.set(xlabel=xlabel, ylabel="relative error of U V^T", title=f"E1: error against {xlabel.split()[0]}")
    fig.suptitle(f"E1 problem: condition number {kappa}, sampling rate {p}")
    fig.legend(loc="outside lower center", ncols=2)
    e2 = [r for r in rows if r["experiment"] == "E2"]
    for split in (False, True):
        pts = [r for r in e2 if r["split"] == split]
        axes[2].plot([r["rho"] for r in pts], [r["success_rate"] for r in pts], "o-",
                     label="sample splitting" if split else "no splitting")
    axes[2].set(xlabel="samples per degree of freedom", ylabel="success rate",
                title="E2: phase transition")
    axes[2].legend(loc="upper left")
    e3 = [r for r in rows if r["experiment"] == "E3"]
    for solver in ("exact", "sketch", "cg"):
        pts = [r for r in e3 if r["solver"] == solver]
        axes[3].loglog([r["k"] for r in pts], [r["s_per_iter"] for r in pts], "o-",
                       label=f"{_SOLVER_NAMES[solver]} (slope {_exponent(rows, solver):.2f})")
    ks = sorted({r["k"] for r in e3})
    axes[3].minorticks_off()
    axes[3].set_xticks(ks, [str(k) for k in ks])
    axes[3].set(xlabel="rank k", ylabel="seconds per iteration", title="E3: cost against the rank")
    axes[3].legend()
    return finish(fig)
