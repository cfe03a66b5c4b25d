"""Measure the "Which method should I use" tables of the algorithm pages on real data.

A plain script, not an asv suite (it defines no asv benchmark names and does its work only when run)::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/which_method.py [PAGE ...]

PAGE is one of factor, completion, matmul, projection, psd, sensing, svd_update, sklearn, tensor (default:
all). For each page it runs the handful of alternatives the page discusses, at the library's defaults, on
real data that ships inside installed packages (scikit-learn's ``load_digits`` / ``load_breast_cancer`` /
``load_wine``, scikit-image's pictures, :func:`lowrank_la.datasets.stdlib_tfidf`; nothing is downloaded),
and prints an RST ``list-table``: the error in the page's natural metric against the optimal or exact
answer, and the time as a ratio to the page's default call. The competitors of one table are timed
interleaved, in one process (the median of a few rounds), so that the ratios survive a shared machine.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

import lowrank_la as la

PAGES = ("factor", "completion", "matmul", "projection", "psd", "sensing", "svd_update", "sklearn", "tensor")

_CACHE: dict = {}


def tfidf():
    """The stdlib TF-IDF matrix (8582 x 3146 sparse), built once per process."""
    if "tfidf" not in _CACHE:
        _CACHE["tfidf"] = la.datasets.stdlib_tfidf().tocsr()
    return _CACHE["tfidf"]


def interleaved(fns: dict[str, Callable], rounds: int = 3) -> tuple[dict, dict]:
    """Run every function `rounds` times, round-robin; return (first outputs, median seconds) by name."""
    out: dict = {}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            res = fn()
            times[name].append(time.perf_counter() - t0)
            out.setdefault(name, res)
    return out, {name: float(np.median(t)) for name, t in times.items()}


def fmt(x: float, digits: int = 3) -> str:
    """A number for a table cell: 3 significant digits."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "--"
    return f"{x:.{digits}g}"


def list_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print an RST list-table."""
    print(f"\n{title}\n")
    print(".. list-table::")
    print("   :header-rows: 1\n")
    for row in [header, *rows]:
        for j, cell in enumerate(row):
            print(("   * - " if j == 0 else "     - ") + str(cell))
    print(flush=True)


def best_rank_k_error(A, k: int) -> float:
    """``||A - A_k||_F`` from the exact singular values."""
    A = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    s = np.linalg.svd(A, compute_uv=False)
    return float(np.sqrt(np.sum(s[k:] ** 2)))


# --------------------------------------------------------------------------------------------------- factor
def page_factor() -> None:
    from lowrank_la.factor import cur, generalized_nystrom, interpolative
    from lowrank_la.svd import rsvd

    datasets = {
        "digits (1797 x 64), k = 20": (la.datasets.digits_matrix(), 20),
        "coffee (400 x 600), k = 40": (la.datasets.image_matrix("coffee"), 40),
        "stdlib TF-IDF (8582 x 3146 sparse), k = 100": (tfidf(), 100),
    }
    header = ["method"]
    cols: dict[str, list[str]] = {}
    for dname, (A, k) in datasets.items():
        opt = best_rank_k_error(A, k)
        normA = float(np.sqrt((A.multiply(A)).sum())) if hasattr(A, "multiply") else float(np.linalg.norm(A))
        fns = {
            'cur(A, k) (select="deim")': lambda A=A, k=k: cur(A, k, rng=0),
            'cur(A, k, select="qr")': lambda A=A, k=k: cur(A, k, select="qr", rng=0),
            'cur(A, k, select="leverage")': lambda A=A, k=k: cur(A, k, select="leverage", rng=0),
            "interpolative(A, k)": lambda A=A, k=k: interpolative(A, k, rng=0),
            "generalized_nystrom(A, k)": lambda A=A, k=k: generalized_nystrom(A, k, rng=0),
            "rsvd(A, k) (not interpolatory)": lambda A=A, k=k: rsvd(A, k, rng=0),
        }
        out, t = interleaved(fns, rounds=5)
        t0 = t['cur(A, k) (select="deim")']
        header.append(f"{dname}: error / optimal, time")
        for name, res in out.items():
            if name.startswith("rsvd"):
                U, s, Vh = res
                Ad = A.toarray() if hasattr(A, "toarray") else A
                err = float(np.linalg.norm(Ad - (U * s) @ Vh))
            else:
                err = float(res.relative_error(A)) * normA
            cols.setdefault(name, []).append(f"{fmt(err / opt)}, {fmt(t[name] / t0, 2)}x")
    list_table("factor: ||A - F G H^T||_F / ||A - A_k||_F at rank k, time / cur's", header,
               [[name, *c] for name, c in cols.items()])


# ----------------------------------------------------------------------------------------------- completion
def _hide(M: np.ndarray, frac: float, seed: int) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random(M.shape) < frac, M, np.nan)


def page_completion() -> None:
    from lowrank_la.completion import altmin_complete

    datasets = {
        "digits (1797 x 64), 30% seen": la.datasets.digits_matrix(),
        "coffee (400 x 600), 20% seen": la.datasets.image_matrix("coffee"),
    }
    fracs = {"digits (1797 x 64), 30% seen": 0.3, "coffee (400 x 600), 20% seen": 0.2}
    header = ["call"]
    cols: dict[str, list[str]] = {}
    for dname, M in datasets.items():
        X = _hide(M, fracs[dname], 1)
        hidden = np.isnan(X)
        ref = M[hidden] - np.nanmean(X)

        def herr(filled, M=M, hidden=hidden, ref=ref):
            return float(np.linalg.norm(filled[hidden] - M[hidden]) / np.linalg.norm(ref))

        # oracle: the best rank-r approximation of the full matrix (all entries seen), best r for the hidden ones
        U, s, Vh = np.linalg.svd(M, full_matrices=False)
        oracle = min(herr((U[:, :r] * s[:r]) @ Vh[:r]) for r in range(1, 41))
        fns = {
            "altmin_complete(X) (rank, reg chosen on held-out)": lambda X=X: altmin_complete(X, rng=0),
            "rank=10, reg=0 (plain AltMin)": lambda X=X: altmin_complete(X, 10, reg=0.0, rng=0),
            "rank=10 (reg chosen)": lambda X=X: altmin_complete(X, 10, rng=0),
            "reg=1, offsets=True (offsets only: mean, row and column effects)": lambda X=X: altmin_complete(
                X, 1, reg=1.0, offsets=True, rng=0),
            "rank=10, reg=0.1, offsets=True": lambda X=X: altmin_complete(X, 10, reg=0.1, offsets=True, rng=0),
            "rank=40, reg=0 (too large, no ridge)": lambda X=X: altmin_complete(X, 40, reg=0.0, rng=0),
            "rank=40 (reg chosen)": lambda X=X: altmin_complete(X, 40, rng=0),
            'method="softimpute"': lambda X=X: altmin_complete(X, method="softimpute", rng=0),
        }
        out, t = interleaved(fns, rounds=1)
        t0 = t["altmin_complete(X) (rank, reg chosen on held-out)"]
        header.append(f"{dname}: hidden error, rank / reg, time")
        for name, res in out.items():
            e = herr(res.fill(X))
            cols.setdefault(name, []).append(
                f"{fmt(e)}, {res.rank} / {fmt(float(res.reg), 2)}, {fmt(t[name] / t0, 2)}x")
        cols.setdefault("oracle: best rank-r SVD of the full matrix (sees every entry)", []).append(
            f"{fmt(oracle)}, --, --")
    list_table("completion: ||X_hat - M||_F / ||M - mean||_F on the hidden entries, chosen rank / reg, "
               "time / default's", header, [[name, *c] for name, c in cols.items()])


# --------------------------------------------------------------------------------------------------- matmul
def page_matmul() -> None:
    from sklearn.datasets import load_breast_cancer

    from lowrank_la.matmul import mlmc_matmul, sampled_matmul, sketched_matmul

    X = la.datasets.digits_matrix()
    bc = load_breast_cancer().data
    bc = (bc - bc.mean(0)) / bc.std(0)
    T = tfidf()[:, :].T.tocsr()[:400].toarray()  # 400 words x 8582 documents, dense
    datasets = {
        "digits X^T X (64 x 1797 x 64), c = 180": (X.T.copy(), X, 180),
        "breast cancer Z^T Z (30 x 569 x 30), c = 57": (bc.T.copy(), bc, 57),
        "TF-IDF T T^T (400 x 8582 x 400), c = 860": (T, T.T.copy(), 860),
    }
    header = ["estimator"]
    cols: dict[str, list[str]] = {}
    n_seeds = 10
    for dname, (A, B, c) in datasets.items():
        AB = A @ B
        scale = float(np.linalg.norm(A) * np.linalg.norm(B))
        fns = {
            "sampled_matmul(A, B, c) (norm probs)": lambda A=A, B=B, c=c, r=0: sampled_matmul(A, B, c, rng=r),
            'probs="uniform"': lambda A=A, B=B, c=c, r=0: sampled_matmul(A, B, c, probs="uniform", rng=r),
        }
        for kind in ("gaussian", "countsketch", "srht", "sparse_sign"):
            fns[f'sketched_matmul(A, B, c, kind="{kind}")'] = (
                lambda A=A, B=B, c=c, kind=kind, r=0: sketched_matmul(A, B, c, kind=kind, rng=r))
        _, t = interleaved(fns, rounds=11)
        t0 = t["sampled_matmul(A, B, c) (norm probs)"]
        header.append(f"{dname}: error, time")
        for name, fn in fns.items():
            errs = [float(np.linalg.norm(fn(r=seed) - AB)) / scale for seed in range(n_seeds)]
            cols.setdefault(name, []).append(f"{fmt(float(np.median(errs)))}, {fmt(t[name] / t0, 2)}x")
    list_table("matmul: ||P - AB||_F / (||A||_F ||B||_F), median of 10 seeds, at the same number c of sampled "
               "pairs or sketch rows; time / sampled_matmul's", header, [[name, *c] for name, c in cols.items()])

    # a nonlinear f: MLMC against one level at the same number of multiply-adds
    D = tfidf()[:200].toarray()  # 200 documents x 3146 words, rows of unit norm
    F = np.tanh(4 * (D @ D.T))
    rows = []
    for rtol in (0.05, 0.02):
        t1 = time.perf_counter()
        P, info = mlmc_matmul(4 * D, D.T, f=np.tanh, rtol=rtol, rng=0, return_info=True)
        tm = time.perf_counter() - t1
        c_eq = max(1, int(info.total_cost / (D.shape[0] ** 2)))
        t1 = time.perf_counter()
        errs = [float(np.linalg.norm(np.tanh(sampled_matmul(4 * D, D.T, c_eq, rng=s)) - F)) for s in range(10)]
        ts = (time.perf_counter() - t1) / 10
        nF = float(np.linalg.norm(F))
        rows.append([f"rtol={rtol}", f"{fmt(float(np.linalg.norm(P - F)) / nF)}, {len(info.N_l)} levels",
                     f"{fmt(float(np.median(errs)) / nF)} (c = {c_eq})", f"{fmt(tm / ts, 2)}x",
                     fmt(info.total_cost / info.single_level_cost, 2)])
    list_table("matmul, nonlinear f: tanh(4 D D^T), D = 200 TF-IDF documents x 3146 words; relative Frobenius "
               "error of mlmc_matmul(4 D, D.T, f=np.tanh, rtol) and of tanh(sampled_matmul(4 D, D.T, c)) with c "
               "spending the same multiply-adds (median of 10 seeds); time of MLMC / one sampled_matmul",
               ["target", "mlmc_matmul", "one level, same cost", "time", "MLMC cost / its single-level estimate"],
               rows)


# ----------------------------------------------------------------------------------------------- projection
def page_projection() -> None:
    from sklearn.datasets import load_wine

    from lowrank_la.projection import KroneckerProjectionMaintainer

    def standardized(Z):
        Z = Z[:, Z.std(0) > 0]
        return (Z - Z.mean(0)) / Z.std(0)

    def problem(Z, m, seed=0):
        n = Z.shape[1]
        idx = np.random.default_rng(seed).permutation(len(Z))
        A = np.einsum("ia,ib->iab", Z[idx[:m]], Z[idx[:m]]) / n  # A_i = x_i x_i^T, phase-retrieval-like
        W0 = np.cov(Z[idx[m:m + 3 * n]].T) + np.eye(n)
        return A, W0, Z[idx[m + 3 * n:]]

    def run(A, W0, stream, form, method, ridge=0.0, n_upd=40, k=2, n_q=1):
        n = W0.shape[0]
        pm = KroneckerProjectionMaintainer(A, W0, form=form, method=method, ridge=ridge, rng=0)
        out = []
        for j in range(n_upd):
            U = np.linalg.qr(stream[(k * j) % (len(stream) - k):][:k].T)[0]
            pm.update(U, 0.05 * np.eye(k))
            for q in range(n_q):
                out.append(pm.query(np.random.default_rng(100 * j + q).standard_normal(n * n)))
        return np.array(out)

    digits = standardized(la.datasets.digits_matrix())  # n = 61
    wine = standardized(load_wine().data)  # n = 13, n (n + 1) / 2 = 91
    scenarios = {
        "digits, m = 300, n = 61, 40 rank-2 updates, 1 query each": (problem(digits, 300), {}),
        "same, 10 queries per update": (problem(digits, 300), {"n_q": 10}),
        "same, rank-8 updates": (problem(digits, 300), {"k": 8}),
        "wine, m = 60, n = 13, 40 rank-2 updates, 1 query each": (problem(wine, 60), {}),
    }
    header = ["form, method", *[f"{name}: error, time" for name in scenarios]]
    cols: dict[str, list[str]] = {}
    for (A, W0, stream), kw in scenarios.values():
        fns = {(form, meth): (lambda form=form, meth=meth, A=A, W0=W0, stream=stream, kw=kw:
                              run(A, W0, stream, form, meth, **kw))
               for form in ("sqrt", "identity") for meth in ("lazy_pcg", "woodbury", "rebuild")}
        out, t = interleaved(fns, rounds=3)
        t0 = t[("sqrt", "lazy_pcg")]
        for (f, meth), P in out.items():
            ref = out[(f, "rebuild")]
            err = float(np.max(np.linalg.norm(P - ref, axis=1) / np.linalg.norm(ref, axis=1)))
            cols.setdefault(f'form="{f}", method="{meth}"', []).append(f"{fmt(err, 2)}, {fmt(t[(f, meth)] / t0, 2)}x")
    list_table("projection: A_i = x_i x_i^T from standardized rows of the data, W = covariance + I, updates "
               "W += 0.05 U U^T from later rows; max relative error of P h against method='rebuild' of the same "
               "form; total time / the default's (sqrt, lazy_pcg)", header, [[name, *c] for name, c in cols.items()])

    # rank deficiency: m > n (n + 1) / 2 makes B B^T singular
    A, W0, stream = problem(wine, 120)
    rows = []
    t_ref = None
    for ridge in ("pinv", 0.0, 1e-8, 1e-4):
        for meth in ("lazy_pcg", "woodbury"):
            try:
                t1 = time.perf_counter()
                P = run(A, W0, stream, "sqrt", meth, ridge=ridge, n_upd=10)
                tt = time.perf_counter() - t1
                ref = run(A, W0, stream, "sqrt", "rebuild", ridge="pinv", n_upd=10)
                err = float(np.max(np.linalg.norm(P - ref, axis=1) / np.linalg.norm(ref, axis=1)))
                t_ref = t_ref or tt
                rows.append([f"ridge={ridge!r}, method={meth!r}", fmt(err, 2), f"{fmt(tt / t_ref, 2)}x"])
            except (ValueError, np.linalg.LinAlgError) as exc:
                rows.append([f"ridge={ridge!r}, method={meth!r}", f"raises {type(exc).__name__}", "--"])
    list_table("projection, rank deficient: wine, m = 120 > n (n + 1) / 2 = 91; error against the exact "
               "projection onto the row space of B (ridge='pinv', rebuild)",
               ["ridge, method", "error", "time / first row's"], rows)


# ------------------------------------------------------------------------------------------------------ psd
def page_psd() -> None:
    from sklearn.metrics.pairwise import rbf_kernel

    from lowrank_la import psd

    X = la.datasets.digits_matrix() / 16.0
    K_digits = rbf_kernel(X, gamma=1.0 / (X.shape[1] * X.var()))
    T = tfidf()
    G = (T @ T.T)[:3000, :3000].toarray()  # document Gram matrix, PSD
    datasets = {"digits RBF kernel (1797 x 1797), k = 50": K_digits,
                "TF-IDF document Gram (3000 x 3000), k = 100": G}
    header = ["method"]
    cols: dict[str, list[str]] = {}
    for dname, K in datasets.items():
        k = 50 if K.shape[0] < 2000 else 100
        w_all = np.linalg.eigvalsh(K)[::-1]
        opt = float(np.sqrt(np.sum(w_all[k:] ** 2)))

        def lowrank_err(res, K=K):
            if hasattr(res, "F"):
                Ah = res.F @ res.F.T
            else:
                w, V = res
                Ah = (V * w) @ V.T
            return float(np.linalg.norm(K - Ah))

        def refused(fn):
            def run():
                try:
                    return fn()
                except ValueError as exc:  # report a refusal in the table rather than stop
                    return exc
            return run

        fns = {
            "nystrom(A, k)": lambda K=K, k=k: psd.nystrom(K, k, rng=0),
            "eigh(A, k, psd=True)": refused(lambda K=K, k=k: psd.eigh(K, k, psd=True, rng=0)),
            "eigh(A, k)": lambda K=K, k=k: psd.eigh(K, k, rng=0),
            "rpcholesky(A, k)": lambda K=K, k=k: psd.rpcholesky(K, k, rng=0),
            "rpcholesky(A, 2 k)": lambda K=K, k=k: psd.rpcholesky(K, 2 * k, rng=0),
            "numpy.linalg.eigh (exact)": lambda K=K: np.linalg.eigh(K),
        }
        out, t = interleaved(fns)
        t0 = t["nystrom(A, k)"]
        header.append(f"{dname}: error / optimal, time")
        for name, res in out.items():
            if isinstance(res, ValueError):
                cols.setdefault(name, []).append(f"refused: {str(res)[:60]}...")
                continue
            if name.startswith("numpy"):
                e = 1.0
            elif name.startswith("eigh"):
                e = lowrank_err((res.w, res.V)) / opt
            else:
                e = lowrank_err(res) / opt
            cols.setdefault(name, []).append(f"{fmt(e)}, {fmt(t[name] / t0, 2)}x")
    list_table("psd, low rank: ||A - A_hat||_F / ||A - A_k||_F, time / nystrom's", header,
               [[name, *c] for name, c in cols.items()])

    # trace estimators: median relative error over 20 seeds at 60 matvecs
    header = ["estimator (60 matvecs)"]
    cols = {}
    C = np.cov(X.T * 16)
    datasets2 = {**{n: v for n, v in datasets.items()}, "digits covariance (64 x 64)": C}
    for dname, K in datasets2.items():
        tr = float(np.trace(K))
        fns = {
            "xnystrace(A, 60)": lambda K=K, s=0: psd.xnystrace(K, 60, rng=s),
            "xtrace(A, 60)": lambda K=K, s=0: psd.xtrace(K, 60, rng=s),
            "hutchpp(A, 60)": lambda K=K, s=0: psd.hutchpp(K, 60, rng=s),
            "hutchinson(A, 60)": lambda K=K, s=0: psd.hutchinson(K, 60, rng=s),
        }
        _, t = interleaved(fns)
        t0 = t["xnystrace(A, 60)"]
        header.append(f"{dname.split(',')[0]}: error, time")
        for name, fn in fns.items():
            errs = [abs(float(fn(s=s).estimate) - tr) / tr for s in range(20)]
            cols.setdefault(name, []).append(f"{fmt(float(np.median(errs)), 2)}, {fmt(t[name] / t0, 2)}x")
    list_table("psd, trace: |estimate - tr A| / tr A, median of 20 seeds, time / xnystrace's", header,
               [[name, *c] for name, c in cols.items()])


# -------------------------------------------------------------------------------------------------- sensing
def page_sensing() -> None:
    from sklearn.datasets import load_wine

    from lowrank_la.sensing import GaussianSensing, gd, precgd, scaled_gd, scaled_gd_lambda

    def corr(Z):
        Z = Z[:, Z.std(0) > 0]
        return np.corrcoef(Z.T)

    C_d = corr(la.datasets.digits_matrix())[:40, :40]
    C_w = corr(load_wine().data)
    datasets = {}
    for label, C, r in (("digits pixels 0-39", C_d, 4), ("digits pixels 0-39", C_d, 10), ("wine", C_w, 3)):
        w, V = np.linalg.eigh(C)
        w, V = w[::-1], V[:, ::-1]
        M = (V[:, :r] * w[:r]) @ V[:, :r].T
        datasets[f"{label} correlation, top {r} (n = {C.shape[0]}, kappa = {w[0] / w[r - 1]:.2g})"] = (M, r, 0.0)
    M, r, _ = next(iter(datasets.values()))
    datasets[f"digits top {r}, 1% noise"] = (M, r, 0.01)
    w = np.linalg.eigvalsh(C_d)[::-1]
    best = float(np.sqrt(np.sum(w[4:] ** 2) / np.sum(w**2)))
    datasets[f"digits, whole correlation (not low rank; best rank 4: {best:.2g}), r = 4"] = (C_d, 4, 0.0)
    header = ["solver"]
    cols: dict[str, list[str]] = {}
    for dname, (M, r, noise) in datasets.items():
        n = M.shape[0]
        m = 10 * n * r
        op = GaussianSensing(n, m, rng=1)
        y = op.forward(M)
        if noise:
            y = y + noise * np.linalg.norm(y) / np.sqrt(m) * np.random.default_rng(3).standard_normal(m)
        fns = {
            "scaled_gd_lambda(op, y, 2 r)": lambda op=op, y=y, r=r: scaled_gd_lambda(op, y, 2 * r, rng=2),
            "scaled_gd_lambda(op, y, r)": lambda op=op, y=y, r=r: scaled_gd_lambda(op, y, r, rng=2),
            "scaled_gd(op, y, r)": lambda op=op, y=y, r=r: scaled_gd(op, y, r, asymmetric=False, rng=2),
            "precgd(op, y, r)": lambda op=op, y=y, r=r: precgd(op, y, r, rng=2),
            "precgd(op, y, 2 r)": lambda op=op, y=y, r=r: precgd(op, y, 2 * r, rng=2),
            "gd(op, y, r)": lambda op=op, y=y, r=r: gd(op, y, r, rng=2),
        }
        out, t = interleaved(fns, rounds=3)
        t0 = t["scaled_gd_lambda(op, y, 2 r)"]
        header.append(f"{dname}: error, iterations, time")
        for name, res in out.items():
            e = float(np.linalg.norm(res.X @ res.X.T - M) / np.linalg.norm(M))
            cols.setdefault(name, []).append(f"{fmt(e, 2)}, {res.n_iter}, {fmt(t[name] / t0, 2)}x")
    list_table("sensing: ||X X^T - M||_F / ||M||_F, iterations, time / ScaledGD(lambda)'s; m = 10 n r "
               "Gaussian measurements", header, [[name, *c] for name, c in cols.items()])


# ----------------------------------------------------------------------------------------------- svd_update
def page_svd_update() -> None:
    import scipy.sparse as sp

    from lowrank_la.svd import TruncatedSVDUpdater, rsvd

    D = la.datasets.digits_matrix()
    D = D[np.random.default_rng(0).permutation(len(D))]
    T = tfidf()
    T = T[np.random.default_rng(0).permutation(T.shape[0])]
    datasets = {
        "digits, 600 + 12 x 100 rows, k = 10": (D, 600, 100, 10),
        "TF-IDF, 4000 + 23 x 200 rows, k = 50": (T, 4000, 200, 50),
    }
    header = ["method"]
    cols: dict[str, list[str]] = {}
    for dname, (A, m0, b, k) in datasets.items():
        opt = best_rank_k_error(A, k)
        Ad = A.toarray() if sp.issparse(A) else A

        def stream(method, A=A, m0=m0, b=b, k=k):
            up = TruncatedSVDUpdater(A[:m0], k, method=method, rng=0)
            for s0 in range(m0, A.shape[0], b):
                up.add_rows(A[s0:s0 + b])
            return up.result

        def recompute(A=A, m0=m0, b=b, k=k):
            res = None
            for s0 in range(m0, A.shape[0], b):
                res = rsvd(A[:s0 + b], k, rng=0)
            return res

        fns = {f'method="{meth}"': (lambda meth=meth: stream(meth)) for meth in ("zha-simon", "gkl", "rpi")}
        fns["rsvd of all rows after every batch"] = recompute
        out, t = interleaved(fns, rounds=1)
        t0 = t['method="zha-simon"']
        header.append(f"{dname}: error / optimal, time")
        for name, (U, s, Vh) in out.items():
            e = float(np.linalg.norm(Ad - (U * s) @ Vh)) / opt
            cols.setdefault(name, []).append(f"{fmt(e)}, {fmt(t[name] / t0, 2)}x")
    list_table("svd_update: final ||A - U S V^T||_F / ||A - A_k||_F after the last batch; total time / "
               "zha-simon's", header, [[name, *c] for name, c in cols.items()])


# -------------------------------------------------------------------------------------------------- sklearn
def page_sklearn() -> None:
    from sklearn.decomposition import PCA, IncrementalPCA, TruncatedSVD
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    from lowrank_la.sklearn import IncrementalTruncatedSVD, LowRankImputer, RandomizedTruncatedSVD

    rows = []
    T = tfidf()
    k = 50
    optT = float(np.sum(np.linalg.svd(T.toarray(), compute_uv=False)[:k] ** 2))

    def captured(est, Z, opt):
        Y = est.fit_transform(Z)
        return float(np.sum(Y**2)) / opt  # ||A V_k||_F^2 / sum of the top k sigma^2

    fns = {
        "RandomizedTruncatedSVD(50)": lambda: RandomizedTruncatedSVD(k, random_state=0),
        "TruncatedSVD(50) (scikit-learn, randomized)": lambda: TruncatedSVD(k, random_state=0),
        'TruncatedSVD(50, algorithm="arpack")': lambda: TruncatedSVD(k, algorithm="arpack", random_state=0),
        "IncrementalTruncatedSVD(50, batch_size=1000)": lambda: IncrementalTruncatedSVD(k, batch_size=1000,
                                                                                          random_state=0),
    }
    out, t = interleaved({n: (lambda f=f: captured(f(), T, optT)) for n, f in fns.items()})
    t0 = t["RandomizedTruncatedSVD(50)"]
    for name, v in out.items():
        rows.append(["TF-IDF, truncated SVD", name, f"captured variance {fmt(v, 4)}", f"{fmt(t[name] / t0, 2)}x"])

    D = la.datasets.digits_matrix()
    Dc = D - D.mean(0)
    optD = float(np.sum(np.linalg.svd(Dc, compute_uv=False)[:20] ** 2))
    fns = {
        "RandomizedTruncatedSVD(20, center=True)": lambda: RandomizedTruncatedSVD(20, center=True, random_state=0),
        "PCA(20) (scikit-learn)": lambda: PCA(20, random_state=0),
        "IncrementalTruncatedSVD(20, center=True, batch_size=200)": lambda: IncrementalTruncatedSVD(
            20, center=True, batch_size=200, random_state=0),
        "IncrementalPCA(20, batch_size=200)": lambda: IncrementalPCA(20, batch_size=200),
    }
    out, t = interleaved({n: (lambda f=f: captured(f(), D, optD)) for n, f in fns.items()})
    t0 = t["RandomizedTruncatedSVD(20, center=True)"]
    for name, v in out.items():
        rows.append(["digits, PCA", name, f"captured variance {fmt(v, 4)}", f"{fmt(t[name] / t0, 2)}x"])

    Xh = _hide(D, 0.7, 4)  # 30% of the pixels missing
    hidden = np.isnan(Xh)
    base = float(np.linalg.norm(SimpleImputer().fit_transform(Xh)[hidden] - D[hidden]))
    fns = {
        "LowRankImputer()": lambda: LowRankImputer(random_state=0),
        "SimpleImputer() (column means)": lambda: SimpleImputer(),
        "KNNImputer()": lambda: KNNImputer(),
        "IterativeImputer()": lambda: IterativeImputer(random_state=0),
    }

    def imp_err(est):
        Y = est.fit_transform(Xh)
        return float(np.linalg.norm(Y[hidden] - D[hidden])) / base

    out, t = interleaved({n: (lambda f=f: imp_err(f())) for n, f in fns.items()}, rounds=1)
    t0 = t["LowRankImputer()"]
    for name, v in out.items():
        rows.append(["digits, 30% missing", name, f"error / column means' {fmt(v, 3)}", f"{fmt(t[name] / t0, 2)}x"])
    list_table("sklearn: captured variance ||A V_k||_F^2 / sum_{i<=k} sigma_i^2 (1 is optimal), imputation error "
               "on the hidden entries / SimpleImputer's; time / the first row of each task",
               ["task", "estimator", "quality", "time"], rows)


# --------------------------------------------------------------------------------------------------- tensor
def page_tensor() -> None:
    import skimage.data

    from lowrank_la.tensor import (
        core_shape_search,
        hooi,
        hosvd,
        st_hosvd,
        tt_svd,
        tt_to_tensor,
        tucker_size,
        tucker_to_tensor,
    )

    digits = la.datasets.digits_matrix().reshape(-1, 8, 8)
    astro = skimage.data.astronaut().astype(np.float64) / 255.0
    datasets = {
        "digits (1797 x 8 x 8), ranks (40, 6, 6)": (digits, (40, 6, 6)),
        "astronaut (512 x 512 x 3), ranks (60, 60, 3)": (astro, (60, 60, 3)),
    }
    header = ["method"]
    cols: dict[str, list[str]] = {}
    for dname, (X, ranks) in datasets.items():
        nx = float(np.linalg.norm(X))
        budget = tucker_size(X.shape, ranks)
        shape = core_shape_search(X, budget).ranks
        n3 = X.shape[2]
        tt_r = (budget // (X.shape[0] + X.shape[1] * n3), n3)  # about the same number of parameters
        fns = {
            "st_hosvd(X, ranks)": lambda X=X, ranks=ranks: st_hosvd(X, ranks, rng=0),
            "hosvd(X, ranks)": lambda X=X, ranks=ranks: hosvd(X, ranks, rng=0),
            "hooi(X, ranks)": lambda X=X, ranks=ranks: hooi(X, ranks, rng=0),
            "hooi(X, core_shape_search(X, same budget).ranks)": lambda X=X, s=shape: hooi(X, s, rng=0),
            "tt_svd(X, (r1, r2)), about the same size": lambda X=X, r=tt_r: tt_svd(X, r, rng=0),
        }
        out, t = interleaved(fns)
        t0 = t["st_hosvd(X, ranks)"]
        header.append(f"{dname}: relative error, parameters, time")
        for name, res in out.items():
            if name.startswith("tt"):
                Xh = tt_to_tensor(res)
                size = sum(g.size for g in res)
            else:
                Xh = tucker_to_tensor(res)
                size = tucker_size(X.shape, res.core.shape)
            e = float(np.linalg.norm(X - Xh)) / nx
            label = name if "core_shape" not in name else "hooi(X, core_shape_search(X, budget).ranks)"
            extra = f" {tuple(int(r) for r in shape)}" if "core_shape" in name else ""
            extra = f" {tt_r}" if name.startswith("tt") else extra
            cols.setdefault(label, []).append(f"{fmt(e)}, {size}{extra}, {fmt(t[name] / t0, 2)}x")
    list_table("tensor: ||X - X_hat||_F / ||X||_F, number of parameters, time / st_hosvd's", header,
               [[name, *c] for name, c in cols.items()])


def main(argv: list[str]) -> None:
    pages = argv or list(PAGES)
    for page in pages:
        if page not in PAGES:
            raise SystemExit(f"unknown page {page!r}; one of {', '.join(PAGES)}")
    for page in pages:
        t0 = time.perf_counter()
        globals()[f"page_{page}"]()
        print(f"({page}: {time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
