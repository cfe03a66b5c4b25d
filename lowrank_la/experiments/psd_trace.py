"""Reproductions ``hutchpp-rate`` and ``xtrace-accuracy``: stochastic trace estimation.

``hutchpp-rate`` (Meyer, Musco, Musco, Woodruff 2021): Hutch++ reaches relative error ``eps`` on PSD matrices with
``O(1/eps)`` matrix-vector products where Hutchinson needs ``O(1/eps^2)``. Measured: the root-mean-square relative
error over the seeds against the number of products ``m`` on PSD matrices with polynomially decaying spectra
``lambda_j = j^-c`` (``c = 1``, where Hutch++'s rate is exactly its worst-case ``1/m``, and ``c = 2``), and the
slopes of least-squares lines through ``log(error)`` against ``log(m)``. Rule, fixed before any number was looked
at: on every matrix, Hutchinson's slope lies in ``[-0.6, -0.4]`` (the ``1/sqrt(m)`` rate) and Hutch++'s is at most
``-0.85`` (``1/m`` or faster). The statistic was first the median error; on ``j^-2``, where one eigenvalue
dominates and Hutchinson's samples are nearly chi-square with one degree of freedom, the median is skewed before
the asymptotic regime and gave a Hutchinson slope of -0.25 at 24 seeds. The root-mean-square error (for
Hutchinson exactly ``sqrt(2 sum lambda^2 / m) / tr``, slope -1/2) replaced it; the rule itself did not change.

``xtrace-accuracy`` (Epperly, Tropp, Webber 2024): XTrace and XNysTrace are at least as accurate as Hutch++ with the
same number of products. Protocol of the authors' ``tests/basic_tests.m`` (github.com/eepperly/XTrace): the paper's
six test spectra (``flat`` ``linspace(1, 3)``, ``poly`` ``j^-2``, ``slowexp`` ``0.9^j``, ``fastexp`` ``0.7^j``,
``smallstep`` and ``bigstep``: ``ceil(n/20)`` ones then ``1e-3`` or ``1e-8``) on ``U diag(lambda) U^T`` with one
Haar-random orthogonal ``U``, random-sign test vectors for all three methods, the mean relative error over the seeds
at several ``m``. Matvec accounting: Hutch++ ``m/3`` for the sketch, ``m/3`` for ``A Q``, the rest for Hutchinson;
XTrace ``m/2`` test vectors (each used for ``A w`` and ``A q``); XNysTrace ``m`` test vectors. Rule, fixed in advance:
in every (matrix, m) cell, XTrace's and XNysTrace's mean errors are at most ``1.25`` times Hutch++'s (the 25% allows
for the Monte Carlo spread of a mean over the seeds on the flat spectrum, where all three are Hutchinson-like). The
library's default test vectors for XTrace and XNysTrace (uniform on the sphere with the paper's improved
normalisation) are reported beside them, not judged.

A first version used the diagonal matrices with Gaussian vectors for Hutch++ (equal in distribution to the rotated
matrices for rotation-invariant vectors) and failed only on the step spectra, XNysTrace 2.0-2.1x Hutch++ at
``m = 90``. The implementations match the authors' formulas (a test checks XNysTrace and XTrace against the
leave-one-out definition computed directly). With the authors' random signs Hutch++ is stronger still on the step
spectra: once its sketch holds the ``n/20`` large eigenvalues, the deflated matrix is close to ``c (I - Q Q^T)``,
on which random signs are nearly exact (variance ``2 c^2 (s - s^2/n)`` against ``2 c^2 (n - s)`` for Gaussian
vectors); XTrace's improved normalisation makes it exact there too, but XNysTrace's residual ``A - A_hat_(i)`` is
a projection of ``A^(1/2)``, not of the identity, and stays Hutchinson-like. n = 1000, 100 seeds, m = 180: mean
error over Hutch++'s, XNysTrace 6.0 (smallstep) and 6.7 (bigstep); XTrace with signs 1.1-1.2, with its default
vectors 0.03 and 1e-6.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). ``hutchpp-rate``: the abstract confirms
the claim ("a (1 +- eps) approximation to tr(A) for any positive semidefinite (PSD) A using just O(1/eps)
matrix-vector products", against O(1/eps^2) for Hutchinson); the m/3 split and the estimator are corroborated by
public Hutch++ code, not by the paper's text. The spectra ``j^-c`` and the sizes (n = 2000, m up to 192 at
``quick``) are ours. ``xtrace-accuracy``: the abstract confirms XTrace, XNysTrace and XDiag and the
exchangeability principle; the test protocol is the authors' ``tests/basic_tests.m``, here at n = 1000 with 30
seeds and three ``m`` at ``quick`` (two cores) against 1000 seeds at ``full``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse

from .._backend import as_rng, thread_limit
from ._registry import ExperimentResult, pyplot, register
from ._style import finish, legend_under_panels, spaced_ticks

__all__ = ["run_rate", "run_xtrace"]

RATE_SIZES = {
    "smoke": {"n": 1000, "ms": [24, 48, 96, 192], "seeds": 10},
    "quick": {"n": 2000, "ms": [24, 48, 96, 192], "seeds": 24},
    "full": {"n": 10000, "ms": [30, 60, 120, 240, 480, 960], "seeds": 200},
}
RATE_POWERS = (1.0, 2.0)
HUTCHINSON_SLOPE = (-0.6, -0.4)  # the rule (see the module docstring)
HUTCHPP_SLOPE = -0.85

XTRACE_SIZES = {
    "smoke": {"n": 300, "ms": [30, 90], "seeds": 10},
    "quick": {"n": 1000, "ms": [30, 90, 180], "seeds": 30},
    "full": {"n": 1000, "ms": [20, 60, 100, 140, 180, 220, 260, 300], "seeds": 1000},
}
XTRACE_JUDGED = ("XTrace", "XNysTrace")
XTRACE_FACTOR = 1.25  # the rule (see the module docstring)


def spectra(n):
    """The six test spectra of Epperly, Tropp and Webber (their basic tests), for size `n`."""
    j = np.arange(n, dtype=np.float64)
    head = math.ceil(n / 20)
    step = lambda low: np.concatenate([np.ones(head), np.full(n - head, low)])  # noqa: E731
    return {"flat": np.linspace(1.0, 3.0, n), "poly": (j + 1) ** -2.0, "slowexp": 0.9**j, "fastexp": 0.7**j,
            "smallstep": step(1e-3), "bigstep": step(1e-8)}


def _rms(errors):
    return float(np.sqrt(np.mean(np.square(errors))))


def _slope(ms, errors):
    """Least-squares slope of log(error) against log(m)."""
    return float(np.polyfit(np.log(ms), np.log(errors), 1)[0])


@register("hutchpp-rate",
          paper="Meyer, Musco, Musco, Woodruff, 'Hutch++: optimal stochastic trace estimation', SOSA 2021 "
                "(arXiv:2010.09649)",
          claim="Hutch++ estimates the trace of a PSD matrix to relative error eps with O(1/eps) matrix-vector "
                "products, where Hutchinson's estimator needs O(1/eps^2)")
def run_rate(size="quick", rng=0, progress=None):
    """Relative error against products for Hutchinson and Hutch++; see the module docstring."""
    from ..psd import hutchinson, hutchpp

    cfg = RATE_SIZES[size]
    gen = as_rng(rng)
    seeds = gen.integers(2**31, size=cfg["seeds"])
    n = cfg["n"]
    cases = [(c, m, s) for c in RATE_POWERS for m in cfg["ms"] for s in range(cfg["seeds"])]
    rows = []
    with thread_limit(1):
        for c, m, s in progress(cases, total=len(cases), desc="hutchpp-rate"):
            lam = np.arange(1, n + 1, dtype=np.float64) ** -c
            A = scipy.sparse.diags_array(lam, format="csr")
            for name, f in (("Hutchinson", hutchinson), ("Hutch++", hutchpp)):
                res = f(A, m, distribution="gaussian", rng=int(seeds[s]))
                rows.append({"spectrum": f"j^-{c:g}", "method": name, "matvecs": m, "seed": s,
                             "relative_error": abs(res.estimate - lam.sum()) / lam.sum(),
                             "error_estimate": res.error_estimate / lam.sum()})
    held, lines, slopes = True, [], {}
    for c in RATE_POWERS:
        label = f"j^-{c:g}"
        for name in ("Hutchinson", "Hutch++"):
            rms = [_rms([r["relative_error"] for r in rows if r["spectrum"] == label and r["method"] == name
                         and r["matvecs"] == m]) for m in cfg["ms"]]
            slopes[label, name] = _slope(cfg["ms"], rms)
        hs, hp = slopes[label, "Hutchinson"], slopes[label, "Hutch++"]
        ok = HUTCHINSON_SLOPE[0] <= hs <= HUTCHINSON_SLOPE[1] and hp <= HUTCHPP_SLOPE
        held &= ok
        lines.append(f"{label}: Hutchinson slope {hs:.2f} (rule {HUTCHINSON_SLOPE[0]}..{HUTCHINSON_SLOPE[1]}), "
                     f"Hutch++ slope {hp:.2f} (rule <= {HUTCHPP_SLOPE}){'' if ok else ' FAILS'}")
    summary = (f"n = {n}, matvecs {cfg['ms']}, {cfg['seeds']} seeds, Gaussian test vectors; slopes of log(root-mean-"
               f"square relative error) against log(matvecs). Claim {'held' if held else 'did NOT hold'}.\n\n"
               + "\n".join(f"- {line}" for line in lines))
    return ExperimentResult(table=rows, claim_held=held, summary=summary,
                            figure=_figure(rows, "spectrum", ("Hutchinson", "Hutch++"), _rms, "RMS"))


@register("xtrace-accuracy",
          paper="Epperly, Tropp, Webber, 'XTrace: making the most of every sample in stochastic trace estimation', "
                "SIAM J. Matrix Anal. Appl. 45 (2024) (arXiv:2301.07825)",
          claim="XTrace and XNysTrace are at least as accurate as Hutch++ with the same number of matrix-vector "
                "products, on the paper's test matrices (flat, polynomial, exponential and step spectra)")
def run_xtrace(size="quick", rng=0, progress=None):
    """Mean relative errors of Hutch++, XTrace and XNysTrace at equal matvecs; see the module docstring."""
    from ..psd import hutchpp, xnystrace, xtrace

    cfg = XTRACE_SIZES[size]
    gen = as_rng(rng)
    seeds = gen.integers(2**31, size=cfg["seeds"])
    U, R = np.linalg.qr(gen.standard_normal((cfg["n"], cfg["n"])))
    U *= np.sign(np.diag(R))  # Haar-distributed
    signs = "rademacher"
    methods = (("Hutch++", lambda A, m, s: hutchpp(A, m, distribution=signs, rng=s)),
               ("XTrace", lambda A, m, s: xtrace(A, m, distribution=signs, rng=s)),
               ("XNysTrace", lambda A, m, s: xnystrace(A, m, distribution=signs, rng=s)),
               ("XTrace (default)", lambda A, m, s: xtrace(A, m, rng=s)),
               ("XNysTrace (default)", lambda A, m, s: xnystrace(A, m, rng=s)))
    mats = spectra(cfg["n"])
    cases = [(name, m, s) for name in mats for m in cfg["ms"] for s in range(cfg["seeds"])]
    rows, A, current = [], None, None
    with thread_limit(1):
        for name, m, s in progress(cases, total=len(cases), desc="xtrace-accuracy"):
            lam = mats[name]
            if current != name:
                A, current = (U * lam) @ U.T, name
                A = (A + A.T) / 2
            for method, f in methods:
                res = f(A, m, int(seeds[s]))
                rows.append({"spectrum": name, "method": method, "matvecs": m, "seed": s,
                             "relative_error": abs(res.estimate - lam.sum()) / lam.sum(),
                             "error_estimate": res.error_estimate / lam.sum()})
    held, lines = True, []
    for name in mats:
        parts = []
        for m in cfg["ms"]:
            mean = {method: float(np.mean([r["relative_error"] for r in rows if r["spectrum"] == name
                                           and r["method"] == method and r["matvecs"] == m])) for method, _ in methods}
            ratios = {k: mean[k] / mean["Hutch++"] if mean["Hutch++"] > 0 else (0.0 if mean[k] == 0 else math.inf)
                      for k in mean if k != "Hutch++"}
            ok = all(ratios[k] <= XTRACE_FACTOR for k in XTRACE_JUDGED)
            held &= ok
            parts.append(f"m={m}: Hutch++ {mean['Hutch++']:.2e}, over it: "
                         + ", ".join(f"{k} {v:.2g}" for k, v in ratios.items()) + ("" if ok else " FAILS"))
        lines.append(f"{name}: " + "; ".join(parts))
    summary = (f"n = {cfg['n']}, {cfg['seeds']} seeds, U diag(lambda) U^T with a Haar-random U, random signs for "
               f"Hutch++, XTrace and XNysTrace ('(default)': the library's default vectors, not judged); mean relative "
               f"error. Claim {'held' if held else 'did NOT hold'} (rule: XTrace and XNysTrace within "
               f"{XTRACE_FACTOR}x of Hutch++ in every cell).\n\n" + "\n".join(f"- {line}" for line in lines))
    return ExperimentResult(table=rows, claim_held=held, summary=summary,
                            figure=_figure(rows, "spectrum", tuple(m for m, _ in methods), np.mean, "mean"))


def _figure(rows, key, methods, stat, label):
    plt = pyplot()
    if plt is None:
        return None
    groups = list(dict.fromkeys(r[key] for r in rows))
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.2 * nrows), squeeze=False)
    for ax, group in zip(axes.flat, groups):
        cell = [r for r in rows if r[key] == group]
        ms = sorted({r["matvecs"] for r in cell})
        for method, marker in zip(methods, "os^vd"):
            errs = [stat([r["relative_error"] for r in cell if r["method"] == method and r["matvecs"] == m])
                    for m in ms]
            ax.plot(ms, np.maximum(errs, 1e-17), marker + "-", label=method)
        ax.set(xscale="log", yscale="log", xlabel="matvecs", title=group)
        ticks = spaced_ticks(ms)
        ax.set_xticks(ticks, [str(m) for m in ticks], minor=False)
        ax.set_xticks([], minor=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{label} relative error")
    for ax in axes.flat[len(groups):]:
        ax.remove()
    if len(groups) == 1:
        axes[0, 0].legend()
    else:
        legend_under_panels(axes[0, 0], len(methods))
    return finish(fig)
