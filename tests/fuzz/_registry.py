"""The registry of call specs: how to call every public callable on a small valid input, and what to mutate.

Each :class:`Spec` names a public callable (``module.name`` or ``module.Class.method``), builds its base inputs
from a seed (a dict of argument name to value: 24 x 16 float64 of rank 3 plus noise for a matrix), calls it,
and summarises the result as a dict of arrays. Its :class:`Arg` entries are the array arguments the fuzz
mutates, each with the degree of every scale-equivariant output when that argument (and the spec's `joint`
partners) is multiplied by ``c``. ``NO_ARRAY`` lists the public callables that take no array, with the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Arg:
    """An array argument to mutate.

    `kind` is ``matrix`` (2-D), ``vector`` (1-D), ``tensor`` (3-D) or ``any`` (any number of dimensions);
    `min_ndim` allows any order from it up (tensors of order N >= 2); `sparse` / `complex` whether scipy.sparse /
    complex input is accepted; `scale` maps output names to their degree in this argument; `lenient` marks an
    argument whose valid dtypes are not the float rule's (integer indices, counts): dtype and scale mutations
    need only be accepted or refused cleanly. `ndim` overrides the kind's allowed numbers of dimensions (a
    matrix that may also be given as the 1-D diagonal); `empty_cols_ok` marks a block whose columns pass
    through (``A @ X``): an (n, 0) value is valid, and every output must come back with no columns.
    """

    name: str
    kind: str = "matrix"
    sparse: bool = False
    complex: bool = False
    scale: dict = field(default_factory=dict)
    lenient: bool = False
    min_ndim: int = 0
    ndim: tuple = ()
    empty_cols_ok: bool = False

    @property
    def ndims(self):
        if self.ndim:
            return self.ndim
        if self.min_ndim:
            return tuple(range(self.min_ndim, 8))
        return {"matrix": (2,), "vector": (1,), "tensor": (3,), "any": None}[self.kind]


@dataclass(frozen=True)
class Spec:
    """How to call one public callable and judge its outputs (see the module docstring)."""

    name: str
    base: Callable[[int], dict]
    call: Callable[[dict], Any]
    summary: Callable[[Any], dict]
    args: tuple
    joint: tuple = ()
    rtol: float = 1e-8
    rtol32: float = 2e-3
    discrete: tuple = ()
    scale_rtol: float = 1e-6
    keep_dtype: bool = True

    def arg(self, name):
        return next(a for a in self.args if a.name == name)


# --------------------------------------------------------------------------- base inputs

def low_rank(seed, m=24, n=16, r=3, noise=1e-2):
    """An (m, n) float64 matrix of rank `r` with singular values about 10, 5, 2, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    r = min(r, m, n)
    U = np.linalg.qr(rng.standard_normal((m, r)))[0]
    V = np.linalg.qr(rng.standard_normal((n, r)))[0]
    s = np.array([10.0, 5.0, 2.0, 1.0, 0.5][:r]) * np.sqrt(m * n) / 4
    return (U * s) @ V.T + noise * rng.standard_normal((m, n))


def tucker3(seed, shape=(6, 5, 4), ranks=(2, 2, 2)):
    """A 3-way tensor of multilinear rank `ranks` plus 1e-3 noise."""
    from lowrank_la.datasets import tucker_tensor

    return tucker_tensor(shape, ranks, noise=1e-3, rng=seed)


def orth(seed, m, k):
    """An (m, k) matrix with orthonormal columns."""
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((m, k)))[0]


def spd(seed, n):
    """A well-conditioned symmetric positive definite (n, n) matrix."""
    G = np.random.default_rng(seed).standard_normal((n, n))
    return np.eye(n) + 0.1 * (G @ G.T) / n


def sym_mats(seed, m, n):
    """`m` symmetric (n, n) matrices, shape (m, n, n)."""
    G = np.random.default_rng(seed).standard_normal((m, n, n))
    return G + G.transpose(0, 2, 1)


# --------------------------------------------------------------------------- summaries

def svd_summary(r):
    U, s, Vh = r
    return {"s": s, "USVh": (U * s) @ Vh}


def recon(r):
    return {"recon": r.reconstruct()}


def single(r):
    return {"out": r}


def pieces(r):
    return {f"out{i}": v for i, v in enumerate(r)}


SVD1 = {"s": 1, "USVh": 1}
REGISTRY: dict[str, Spec] = {}


def spec(name, base, call, summary, *args, **options):
    """Register a :class:`Spec`."""
    REGISTRY[name] = Spec(name, base, call, summary, args, **options)


def A_only(seed):
    return {"A": low_rank(seed)}


def matrix_arg(scale=None, *, sparse=True, complex=False, name="A"):
    return Arg(name, "matrix", sparse=sparse, complex=complex, scale=scale or {})


# --------------------------------------------------------------------------- lowrank_la (top level)

def _register_top():
    import lowrank_la as la

    def op_dense(op):
        return {"AX": op.matmat(np.eye(op.shape[1], dtype=op.dtype)),
                "AtY": op.rmatmat(np.eye(op.shape[0], dtype=op.dtype))}

    spec("as_operator", A_only, lambda d: la.as_operator(d["A"]), op_dense,
         matrix_arg({"AX": 1, "AtY": 1}))
    base_x = lambda seed: {"A": low_rank(seed), "X": low_rank(seed + 1, 16, 5)}  # noqa: E731
    spec("MatrixOperator.matmat", base_x, lambda d: la.as_operator(d["A"]).matmat(d["X"]), single,
         Arg("X", scale={"out": 1}, complex=True, empty_cols_ok=True), matrix_arg({"out": 1}), keep_dtype=False)
    base_y = lambda seed: {"A": low_rank(seed), "Y": low_rank(seed + 1, 24, 5)}  # noqa: E731
    spec("MatrixOperator.rmatmat", base_y, lambda d: la.as_operator(d["A"]).rmatmat(d["Y"]), single,
         Arg("Y", scale={"out": 1}, complex=True, empty_cols_ok=True), matrix_arg({"out": 1}), keep_dtype=False)
    base_sym = lambda seed: {"A": low_rank(seed, 16, 16) + low_rank(seed, 16, 16).T,  # noqa: E731
                             "X": low_rank(seed + 1, 16, 5)}
    spec("MatrixOperator.symmetric_matmat", base_sym, lambda d: la.as_operator(d["A"]).symmetric_matmat(d["X"]),
         single, Arg("X", scale={"out": 1}, complex=True, empty_cols_ok=True), matrix_arg({"out": 1}),
         keep_dtype=False)


# --------------------------------------------------------------------------- svd

def _register_svd():
    from lowrank_la import svd

    spec("svd.randomized_range_finder", A_only, lambda d: svd.randomized_range_finder(d["A"], 3, n_iter=2, rng=0),
         lambda Q: {"QQt": Q @ Q.conj().T}, matrix_arg({"QQt": 0}, complex=True))
    spec("svd.rsvd", A_only, lambda d: svd.rsvd(d["A"], 3, rng=0), svd_summary, matrix_arg(SVD1, complex=True))
    # rank 5 on a matrix of rank 3 plus noise: a QB of exactly rank 3 (no oversampling) was over 10x the best rank-3
    # error in 13.5% of 200 draws (up to 63x), so float32 and float64, which draw different sketches, disagreed
    spec("svd.rand_qb", A_only, lambda d: svd.rand_qb(d["A"], rank=5, rng=0), lambda r: {"QB": r.Q @ r.B},
         matrix_arg({"QB": 1}, complex=True), rtol32=5e-2)
    spec("svd.svd_tol", A_only, lambda d: svd.svd_tol(d["A"], 0.05, rng=0), svd_summary,
         matrix_arg(SVD1, complex=True))

    def err_base(seed):
        A = low_rank(seed)
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        return {"A": A, "U": U[:, :3], "s": s[:3], "Vh": Vh[:3]}

    spec("svd.svd_error_estimate", err_base,
         lambda d: svd.svd_error_estimate(d["A"], d["U"], d["s"], d["Vh"], rng=0), lambda e: {"err": e},
         matrix_arg({"err": 1}, complex=True), Arg("U", complex=True), Arg("s", "vector"), Arg("Vh", complex=True),
         joint=("A", "s"), rtol32=0.5)

    def stream(d, then):
        sk = svd.StreamingSketch((24, 16), 3, rng=0)
        sk.linear_update(d["H"])
        return then(sk)

    H_only = lambda seed: {"H": low_rank(seed)}  # noqa: E731
    low = lambda f: {"recon": f.Q @ f.C @ f.P.T}  # noqa: E731
    spec("svd.StreamingSketch.linear_update", H_only, lambda d: stream(d, lambda sk: sk.low_rank()), low,
         matrix_arg({"recon": 1}, name="H"), keep_dtype=False)
    spec("svd.StreamingSketch.low_rank", H_only, lambda d: stream(d, lambda sk: sk.low_rank()), low,
         matrix_arg({"recon": 1}, name="H"), keep_dtype=False)
    spec("svd.StreamingSketch.fixed_rank", H_only, lambda d: stream(d, lambda sk: sk.fixed_rank(3)), svd_summary,
         matrix_arg(SVD1, name="H"), keep_dtype=False)

    def upd_base(seed):
        return {"A0": low_rank(seed), "E": low_rank(seed + 1, 6, 16)}

    def updater(d, then=None):
        u = svd.TruncatedSVDUpdater(d["A0"], 3, rng=0)
        if then is not None:
            then(u)
        return u.result

    spec("svd.TruncatedSVDUpdater", upd_base, updater, svd_summary, matrix_arg(SVD1, name="A0"))
    spec("svd.TruncatedSVDUpdater.add_rows", upd_base, lambda d: updater(d, lambda u: u.add_rows(d["E"])),
         svd_summary, matrix_arg(SVD1, name="E"), matrix_arg(SVD1, name="A0"), joint=("A0", "E"))
    col_base = lambda seed: {"A0": low_rank(seed), "E": low_rank(seed + 1, 24, 5)}  # noqa: E731
    spec("svd.TruncatedSVDUpdater.add_columns", col_base, lambda d: updater(d, lambda u: u.add_columns(d["E"])),
         svd_summary, matrix_arg(SVD1, name="E"), joint=("A0", "E"), keep_dtype=False)
    lr_base = lambda seed: {"A0": low_rank(seed), "D": low_rank(seed + 1, 24, 2),  # noqa: E731
                            "E": low_rank(seed + 2, 16, 2)}
    spec("svd.TruncatedSVDUpdater.update_low_rank", lr_base,
         lambda d: updater(d, lambda u: u.update_low_rank(d["D"], d["E"])), svd_summary,
         matrix_arg(SVD1, name="D"), matrix_arg({}, name="E"), joint=("A0", "D"))
    spec("svd.TruncatedSVDUpdater.row_factors", upd_base, lambda d: svd.TruncatedSVDUpdater(
        d["A0"], 3, rng=0).row_factors([0, 5]), single, matrix_arg({"out": 0}, name="A0"))
    spec("svd.TruncatedSVDUpdater.orthonormality_error", upd_base, lambda d: svd.TruncatedSVDUpdater(
        d["A0"], 3, rng=0).orthonormality_error(), lambda e: {"err": np.array(e) < 1e-4},
        matrix_arg({"err": 0}, name="A0"))
    spec("svd.TruncatedSVDUpdater.refactorize", upd_base, lambda d: updater(d, lambda u: u.refactorize()),
         svd_summary, matrix_arg(SVD1, name="A0"))

    def su_base(seed):
        U, s, Vh = np.linalg.svd(low_rank(seed), full_matrices=False)
        return {"U": U[:, :3], "s": s[:3], "Vh": Vh[:3], "E": low_rank(seed + 1, 6, 16)}

    spec("svd.svd_update", su_base, lambda d: svd.svd_update(d["U"], d["s"], d["Vh"], d["E"], rng=0), svd_summary,
         matrix_arg(SVD1, name="E"), Arg("s", "vector", scale=SVD1), Arg("U"), Arg("Vh"), joint=("s", "E"))


# --------------------------------------------------------------------------- sketch

SKETCH_CLASSES = {"Achlioptas": {}, "CountSketch": {}, "FJLT": {}, "Gaussian": {}, "SRHT": {}, "SparseSign": {},
                  "VerySparse": {}}


def _register_sketch():
    from lowrank_la import sketch

    x_base = lambda seed: {"x": low_rank(seed, 8, 16)}  # noqa: E731
    spec("sketch.fwht", x_base, lambda d: sketch.fwht(d["x"]), lambda y: {"out": y},
         Arg("x", "any", scale={"out": 1}))
    spec("sketch.pad_pow2", lambda seed: {"x": low_rank(seed, 8, 12)}, lambda d: sketch.pad_pow2(d["x"]), single,
         Arg("x", "any", scale={"out": 1}))
    spec("sketch.max_distortion", lambda seed: {"X": low_rank(seed, 20, 16), "Y": low_rank(seed + 1, 20, 6)},
         lambda d: sketch.max_distortion(d["X"], d["Y"]), lambda v: {"out": v},
         Arg("X", scale={"out": 0}, sparse=True), Arg("Y", sparse=True), joint=("X", "Y"))

    def ls_base(seed):
        A = low_rank(seed, 40, 6, r=5, noise=1.0)
        return {"A": A, "b": A @ np.ones(6) + 0.1 * np.random.default_rng(seed).standard_normal(40)}

    spec("sketch.lstsq_sketched", ls_base, lambda d: sketch.lstsq_sketched(d["A"], d["b"], rng=0),
         lambda r: {"x": r.x}, matrix_arg({"x": -1}), Arg("b", "vector", scale={"x": 1}))
    for cls in SKETCH_CLASSES:
        _register_sketch_class(sketch, cls)


def _register_sketch_class(sketch, cls):
    make = lambda: getattr(sketch, cls)(8, rng=0)  # noqa: E731
    X_base = lambda seed: {"X": low_rank(seed, 20, 16)}  # noqa: E731
    dense = lambda S: {"S": S.todense()}  # noqa: E731
    spec(f"sketch.{cls}.fit", X_base, lambda d: make().fit(d["X"]), dense, Arg("X", scale={"S": 0}, sparse=True),
         keep_dtype=False)
    spec(f"sketch.{cls}.transform", X_base, lambda d: make().fit(np.zeros((1, 16))).transform(d["X"]), single,
         Arg("X", scale={"out": 1}, sparse=True))
    spec(f"sketch.{cls}.fit_transform", X_base, lambda d: make().fit_transform(d["X"]), single,
         Arg("X", scale={"out": 1}, sparse=True))
    spec(f"sketch.{cls}.apply", lambda seed: {"X": low_rank(seed, 16, 5)},
         lambda d: getattr(sketch, cls)(8, 16, rng=0).apply(d["X"], axis=0), single,
         Arg("X", "any", scale={"out": 1}, sparse=True))
    if cls == "FJLT":
        spec("sketch.FJLT.sparse_step", lambda seed: {"Z": low_rank(seed, 20, 16)},
             lambda d: make().fit(np.zeros((1, 16))).sparse_step(d["Z"]), single, Arg("Z", scale={"out": 1}))
    if cls in ("FJLT", "SRHT"):
        spec(f"sketch.{cls}.spread", X_base, lambda d: make().fit(np.zeros((1, 16))).spread(d["X"]),
             single, Arg("X", scale={"out": 1}, sparse=True))


# --------------------------------------------------------------------------- factor

def _register_factor():
    from lowrank_la import factor

    for name, f in (("mf_svd", factor.mf_svd), ("mf_cpqr", factor.mf_cpqr), ("utv", factor.utv)):
        spec(f"factor.{name}", A_only, lambda d, f=f: f(d["A"], 3), recon, matrix_arg({"recon": 1}))
    # 8 sketch columns for a matrix of rank 3 plus noise (see svd.rand_qb: with 3, 27.5% of 200 draws were over 10x
    # the best rank-3 error, up to 135x)
    spec("factor.generalized_nystrom", A_only, lambda d: factor.generalized_nystrom(d["A"], 8, rng=0), recon,
         matrix_arg({"recon": 1}), rtol32=5e-2)
    spec("factor.interpolative", A_only, lambda d: factor.interpolative(d["A"], 3, rng=0), recon,
         matrix_arg({"recon": 1}))
    spec("factor.cur", A_only, lambda d: factor.cur(d["A"], 3, rng=0),
         lambda r: {"recon": r.reconstruct(), "rows": r.rows, "cols": r.cols},
         matrix_arg({"recon": 1, "rows": 0, "cols": 0}), rtol32=5e-2)
    spec("factor.cur_from_indices", A_only, lambda d: factor.cur_from_indices(d["A"], [1, 5, 9], [0, 3, 7]), recon,
         matrix_arg({"recon": 1}))
    spec("factor.select_indices", A_only, lambda d: factor.select_indices(d["A"], 3, rng=0), pieces,
         matrix_arg({"out0": 0, "out1": 0}))
    spec("factor.deim", lambda seed: {"U": orth(seed, 24, 3)}, lambda d: factor.deim(d["U"]), single,
         Arg("U", scale={"out": 0}, complex=True))
    spec("factor.rank_factorization", lambda seed: {"A": low_rank(seed, noise=0.0)},
         lambda d: factor.rank_factorization(d["A"]), lambda r: {"BD": r[0] @ r[1], "piv": r[2]},
         matrix_arg({"BD": 1, "piv": 0}, sparse=False))
    spec("factor.pinv_from_rank_factorization",
         lambda seed: {"B": low_rank(seed, 24, 3, noise=0.0), "D": low_rank(seed + 1, 3, 16, noise=0.0)},
         lambda d: factor.pinv_from_rank_factorization(d["B"], d["D"]), single,
         Arg("B", scale={"out": -1}), Arg("D", scale={"out": -1}))
    rp_base = lambda seed: {"A": low_rank(seed), "P": low_rank(seed + 1, 24, 5, noise=1.0),  # noqa: E731
                            "Q": low_rank(seed + 2, 16, 5, noise=1.0)}
    spec("factor.randomized_pinv", rp_base, lambda d: factor.randomized_pinv(d["A"], d["P"], d["Q"]), single,
         matrix_arg({"out": -1}), Arg("P", scale={"out": 0}), Arg("Q", scale={"out": 0}))
    ny_base = lambda seed: {"A": low_rank(seed), "Omega": low_rank(seed + 1, 16, 3, noise=1.0),  # noqa: E731
                            "Psi": low_rank(seed + 2, 24, 5, noise=1.0)}
    spec("factor.nystrom_from_sketches", ny_base, lambda d: factor.nystrom_from_sketches(d["A"], d["Omega"], d["Psi"]),
         recon, matrix_arg({"recon": 1}), Arg("Omega", scale={"recon": 0}), Arg("Psi", scale={"recon": 0}))
    mf_base = lambda seed: {"A": low_rank(seed), "F": low_rank(seed, 24, 3, noise=0.0),  # noqa: E731
                            "H": low_rank(seed + 1, 16, 3, noise=0.0)}
    spec("factor.meta_factorize", mf_base, lambda d: factor.meta_factorize(d["A"], d["F"], d["H"]), recon,
         matrix_arg({"recon": 1}), Arg("F", scale={"recon": 0}), Arg("H", scale={"recon": 0}))

    def mf_parts(seed):
        r = factor.mf_svd(low_rank(seed), 3)
        return {"F": np.array(r.F), "G": np.array(r.G), "H": np.array(r.H)}

    spec("factor.MetaFactorization", mf_parts, lambda d: factor.MetaFactorization(d["F"], d["G"], d["H"]), recon,
         Arg("G", scale={"recon": 1}), Arg("F", scale={"recon": 1}), Arg("H", scale={"recon": 1}))
    builders = {"MetaFactorization": lambda A: factor.mf_svd(A, 3),
                "CURDecomposition": lambda A: factor.cur(A, 3, rng=0),
                "InterpolativeDecomposition": lambda A: factor.interpolative(A, 3, rng=0)}
    for cls, build in builders.items():
        _register_factorization_methods(cls, build)


def _register_factorization_methods(cls, build):
    fixed = functools.cache(lambda: build(low_rank(0)))  # one factorisation, probed by every case
    for meth, shape, kind, x_name in (("matmat", (16, 4), "matrix", "V"), ("rmatmat", (24, 4), "matrix", "U"),
                                      ("matvec", (16,), "vector", "x"), ("rmatvec", (24,), "vector", "y")):
        spec(f"factor.{cls}.{meth}",
             lambda seed, shape=shape, x_name=x_name: {x_name: np.random.default_rng(seed).standard_normal(shape)},
             lambda d, meth=meth, x_name=x_name: getattr(fixed(), meth)(d[x_name]), single,
             Arg(x_name, kind, scale={"out": 1}, sparse=kind == "matrix", complex=True), keep_dtype=False)
    spec(f"factor.{cls}.relative_error", A_only, lambda d: fixed().relative_error(d["A"]), lambda e: {"err": e},
         matrix_arg({}), keep_dtype=False)
    spec(f"factor.{cls}.reconstruct", A_only, lambda d: build(d["A"]).reconstruct(), single, matrix_arg({"out": 1}),
         rtol32=5e-2)
    spec(f"factor.{cls}.as_linear_operator", A_only, lambda d: build(d["A"]).as_linear_operator() @ np.eye(16),
         single, matrix_arg({"out": 1}), rtol32=5e-2, keep_dtype=False)


# --------------------------------------------------------------------------- completion

def _register_completion():
    from lowrank_la import completion

    def obs(seed):
        rng = np.random.default_rng(seed)
        M = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 15))
        rows, cols = np.nonzero(rng.random((20, 15)) < 0.6)
        return {"rows": rows, "cols": cols, "vals": M[rows, cols]}

    run = lambda d: completion.altmin_complete(d["rows"], d["cols"], d["vals"], (20, 15), 2, n_iter=20, rng=0)  # noqa
    spec("completion.altmin_complete", obs, run, lambda r: {"UVt": r.U @ r.V.T},
         Arg("vals", "vector", scale={"UVt": 1}), Arg("rows", "vector", lenient=True),
         Arg("cols", "vector", lenient=True))
    # the distributed AltMin (threads, no cluster) on the same input; its index arrays share altmin_complete's rule
    run_dist = lambda d: completion.altmin_distributed(d["rows"], d["cols"], d["vals"], (20, 15), 2, n_iter=5,  # noqa
                                                       tol=0.0, rng=0)
    spec("completion.altmin_distributed", obs, run_dist, lambda r: {"UVt": (r.U @ r.V.T).compute()},
         Arg("vals", "vector", scale={"UVt": 1}))
    ce_base = lambda seed: {"U": low_rank(seed, 20, 2), "V": low_rank(seed + 1, 15, 2)}  # noqa: E731
    truth = (low_rank(7, 20, 2), low_rank(8, 15, 2))
    spec("completion.completion_error", ce_base, lambda d: completion.completion_error(d["U"], d["V"], truth),
         lambda e: {"err": e}, Arg("U"), Arg("V"))
    parse = lambda d: completion.parse_observations(d["rows"], d["cols"], d["vals"], (20, 15))  # noqa: E731
    spec("completion.parse_observations", obs, parse, lambda o: {"vals": o.vals, "rows": o.rows, "cols": o.cols},
         Arg("vals", "vector", scale={"vals": 1, "rows": 0}), Arg("rows", "vector", lenient=True),
         Arg("cols", "vector", lenient=True))

    def sp_base(seed):
        o = obs(seed)
        return {"U": low_rank(seed, 20, 2), "V": low_rank(seed + 1, 15, 2), "rows": o["rows"], "cols": o["cols"]}

    spec("completion.sampled_product", sp_base,
         lambda d: completion.sampled_product(d["U"], d["V"], d["rows"], d["cols"]), single,
         Arg("U", scale={"out": 1}), Arg("V", scale={"out": 1}), Arg("rows", "vector", lenient=True),
         Arg("cols", "vector", lenient=True))
    spec("completion.half_step", lambda seed: {"design": low_rank(seed + 1, 15, 2)},
         lambda d: completion.half_step(d["design"], parse(obs(0)).by_row), single,
         Arg("design", scale={"out": -1}))
    spec("completion.halfstep_costs", lambda seed: {"counts": np.random.default_rng(seed).integers(1, 9, 12)},
         lambda d: completion.halfstep_costs(d["counts"], 2), lambda c: {k: np.float64(v) for k, v in c.items()},
         Arg("counts", "vector", lenient=True))


# --------------------------------------------------------------------------- sensing

def _gauss_op():
    from lowrank_la.sensing import GaussianSensing

    return GaussianSensing(8, 150, rng=0)


def _register_sensing():
    from lowrank_la import sensing

    def y_base(seed):
        L = np.random.default_rng(seed).standard_normal((8, 2))
        return {"y": _gauss_op().forward(L @ L.T)}

    def summary(r):
        if r.get("X") is not None:
            X = r["X"]
            return {"X": X @ X.T if X.shape[1] != X.shape[0] else X}
        return {"X": r["L"] @ r["R"].T}

    # the subgradient method runs its step schedule down (about 540 iterations in float64, 225 in float32, and as
    # many again after a restart): cut at 60 it was 1e-2 to 7e-2 from the solution, where float32 and float64 part
    for name, n_iter in (("gd", 60), ("precgd", 60), ("scaled_gd", 60), ("scaled_gd_lambda", 60),
                         ("subgradient_l1", 2000)):
        f = getattr(sensing, name)
        spec(f"sensing.{name}", y_base, lambda d, f=f, n=n_iter: f(_gauss_op(), d["y"], 2, n_iter=n, rng=0), summary,
             Arg("y", "vector", scale={"X": 1}), scale_rtol=1e-5, rtol32=5e-2)

    X_base = lambda seed: {"X": low_rank(seed, 8, 8, r=2)}  # noqa: E731
    z_base = lambda seed: {"z": np.random.default_rng(seed).standard_normal(150)}  # noqa: E731
    samp = lambda: sensing.SamplingOperator(np.arange(8), (np.arange(8) * 3) % 8, 8)  # noqa: E731
    lin = lambda: sensing.LinearMapSensing(lambda X: np.diag(X).copy(), np.diag, 8, 8)  # noqa: E731
    for cls, make, m in (("GaussianSensing", _gauss_op, 150), ("SamplingOperator", samp, 8),
                         ("LinearMapSensing", lin, 8)):
        spec(f"sensing.{cls}.forward", X_base, lambda d, make=make: make().forward(d["X"]), single,
             Arg("X", scale={"out": 1}))
        spec(f"sensing.{cls}.adjoint", lambda seed, m=m: {"z": z_base(seed)["z"][:m]},
             lambda d, make=make: make().adjoint(d["z"]), single, Arg("z", "vector", scale={"out": 1}))
    spec("sensing.SamplingOperator", lambda seed: {"rows": np.arange(8), "cols": (np.arange(8) * 3) % 8},
         lambda d: sensing.SamplingOperator(d["rows"], d["cols"], 8).forward(np.arange(64.0).reshape(8, 8)),
         single, Arg("rows", "vector", lenient=True), Arg("cols", "vector", lenient=True))


# --------------------------------------------------------------------------- tensor

def _register_tensor():
    from lowrank_la import tensor

    X_base = lambda seed: {"X": tucker3(seed)}  # noqa: E731
    tuck = lambda r: {"recon": tensor.tucker_to_tensor(r.core, r.factors)}  # noqa: E731
    for name in ("hooi", "hosvd", "st_hosvd"):
        f = getattr(tensor, name)
        spec(f"tensor.{name}", X_base, lambda d, f=f: f(d["X"], (2, 2, 2), rng=0), tuck,
             Arg("X", "tensor", scale={"recon": 1}, min_ndim=2))
    spec("tensor.unfold", X_base, lambda d: tensor.unfold(d["X"], 1), single,
         Arg("X", "tensor", scale={"out": 1}, min_ndim=2, complex=True))
    spec("tensor.fold", lambda seed: {"M": low_rank(seed, 5, 24)}, lambda d: tensor.fold(d["M"], 1, (6, 5, 4)),
         single, Arg("M", scale={"out": 1}, complex=True))
    spec("tensor.mode_product", lambda seed: {"X": tucker3(seed), "M": low_rank(seed, 3, 5)},
         lambda d: tensor.mode_product(d["X"], d["M"], 1), single,
         Arg("X", "tensor", scale={"out": 1}, min_ndim=2, complex=True), Arg("M", scale={"out": 1}, complex=True))
    tt_base = lambda seed: {"core": tucker3(seed, (2, 3, 2), (2, 2, 2))}  # noqa: E731
    facs = [orth(1, 6, 2), orth(2, 5, 3), orth(3, 4, 2)]
    spec("tensor.tucker_to_tensor", tt_base, lambda d: tensor.tucker_to_tensor(d["core"], facs), single,
         Arg("core", "tensor", scale={"out": 1}, complex=True), keep_dtype=False)
    values = lambda r: {f"s{i}": v for i, v in enumerate(r.values)}  # noqa: E731
    spec("tensor.hosvd_spectrum", X_base, lambda d: tensor.hosvd_spectrum(d["X"], rng=0), values,
         Arg("X", "tensor", scale={"s0": 1, "s1": 1}, min_ndim=2))
    spec("tensor.tt_spectrum", X_base, lambda d: tensor.tt_spectrum(d["X"]), values,
         Arg("X", "tensor", scale={"s0": 1, "s1": 1}, min_ndim=2))
    spec("tensor.tt_svd", X_base, lambda d: tensor.tt_svd(d["X"], (2, 2), rng=0),
         lambda cores: {"recon": tensor.tt_to_tensor(cores)}, Arg("X", "tensor", scale={"recon": 1}, min_ndim=2))
    g_base = lambda seed: {"cores": np.random.default_rng(seed).standard_normal((1, 6, 2))}  # noqa: E731
    rest = [np.random.default_rng(5).standard_normal((2, 5, 2)), np.random.default_rng(6).standard_normal((2, 4, 1))]
    # the first core is mutated: errors must name "cores"
    spec("tensor.tt_to_tensor", g_base, lambda d: tensor.tt_to_tensor([d["cores"], *rest]), single,
         Arg("cores", "tensor", scale={"out": 1}, complex=True), keep_dtype=False)
    ranks = lambda r: {"ranks": np.array(r.ranks)}  # noqa: E731
    spec("tensor.core_shape_search", X_base, lambda d: tensor.core_shape_search(d["X"], 60), ranks,
         Arg("X", "tensor", scale={"ranks": 0}, min_ndim=2))
    spec("tensor.core_shape_path", X_base, lambda d: tensor.core_shape_path(d["X"], (40, 60)),
         lambda rs: {"ranks": np.array([r.ranks for r in rs])}, Arg("X", "tensor", scale={"ranks": 0}, min_ndim=2))
    spec("tensor.rre_greedy", X_base, lambda d: tensor.rre_greedy(d["X"], 60), ranks,
         Arg("X", "tensor", scale={"ranks": 0}, min_ndim=2))
    spec("tensor.tt_rank_search", X_base, lambda d: tensor.tt_rank_search(d["X"], 60), ranks,
         Arg("X", "tensor", scale={"ranks": 0}, min_ndim=2))


# --------------------------------------------------------------------------- matmul

def _register_matmul():
    from lowrank_la import matmul

    AB = lambda seed: {"A": low_rank(seed, 12, 24), "B": low_rank(seed + 1, 24, 10)}  # noqa: E731
    deg = lambda out="out", d=1, sparse=False: (Arg("A", scale={out: d}, sparse=sparse),  # noqa: E731
                                                 Arg("B", scale={out: d}, sparse=sparse))
    spec("matmul.sampled_matmul", AB, lambda d: matmul.sampled_matmul(d["A"], d["B"], 10, rng=0), single,
         *deg(sparse=True))
    spec("matmul.sketched_matmul", AB, lambda d: matmul.sketched_matmul(d["A"], d["B"], 10, rng=0), single, *deg())
    spec("matmul.matmul_variance", AB, lambda d: matmul.matmul_variance(d["A"], d["B"], 10),
         lambda v: {"sd": np.sqrt(v)}, *deg("sd"))
    spec("matmul.mlmc_matmul", AB, lambda d: matmul.mlmc_matmul(d["A"], d["B"], rtol=0.3, rng=0), single, *deg(),
         scale_rtol=1e-5)
    spec("matmul.MatmulLevels", AB, lambda d: matmul.MatmulLevels(d["A"], d["B"]).cost(1),
         lambda c: {"cost": np.float64(c)}, *deg("cost", 0))
    spec("matmul.MatmulLevels.cost", AB, lambda d: matmul.MatmulLevels(d["A"], d["B"]).cost(2),
         lambda c: {"cost": np.float64(c)}, *deg("cost", 0))
    spec("matmul.MatmulLevels.draw", AB,
         lambda d: matmul.MatmulLevels(d["A"], d["B"]).draw(2, 3, np.random.default_rng(0)),
         lambda fc: {"fine": fc[0], "coarse": fc[1]}, *deg("fine"))


# --------------------------------------------------------------------------- projection

def _register_projection():
    from lowrank_la import projection

    def kb(seed):
        return {"A_mats": sym_mats(seed, 5, 4), "W": spd(seed, 4), "h": np.random.default_rng(seed).standard_normal(16),
                "y": np.random.default_rng(seed + 1).standard_normal(5)}

    spec("projection.kron_apply_B", kb, lambda d: projection.kron_apply_B(d["A_mats"], d["W"], d["h"]), single,
         Arg("A_mats", "tensor", scale={"out": 1}), Arg("W", scale={"out": 1}), Arg("h", "vector", scale={"out": 1}))
    spec("projection.kron_apply_BT", kb, lambda d: projection.kron_apply_BT(d["A_mats"], d["W"], d["y"]), single,
         Arg("A_mats", "tensor", scale={"out": 1}), Arg("W", scale={"out": 1}), Arg("y", "vector", scale={"out": 1}))
    spec("projection.kron_normal_matrix", kb, lambda d: projection.kron_normal_matrix(d["A_mats"], d["W"]), single,
         Arg("A_mats", "tensor", scale={"out": 2}), Arg("W", scale={"out": 2}))
    maint = lambda d: projection.KroneckerProjectionMaintainer(d["A_mats"], d["W"], rng=0)  # noqa: E731
    spec("projection.KroneckerProjectionMaintainer", kb, lambda d: maint(d).projector_dense(), single,
         Arg("A_mats", "tensor", scale={"out": 0}), Arg("W", scale={"out": 0}), scale_rtol=1e-5)
    spec("projection.KroneckerProjectionMaintainer.projector_dense", kb, lambda d: maint(d).projector_dense(),
         single, Arg("W", scale={"out": 0}), scale_rtol=1e-5, keep_dtype=False)
    spec("projection.KroneckerProjectionMaintainer.normal_matrix", kb, lambda d: maint(d).normal_matrix(), single,
         Arg("W", scale={"out": 2}), keep_dtype=False)
    spec("projection.KroneckerProjectionMaintainer.query", kb, lambda d: maint(kb(0)).query(d["h"]), single,
         Arg("h", "vector", scale={"out": 1}), scale_rtol=1e-5, keep_dtype=False)
    spec("projection.KroneckerProjectionMaintainer.query_sketched", kb,
         lambda d: maint(kb(0)).query_sketched(d["h"], [0, 3], rng=0), single,
         Arg("h", "vector", scale={"out": 1}), scale_rtol=1e-5, keep_dtype=False)
    spec("projection.KroneckerProjectionMaintainer.robust_query", kb,
         lambda d: maint(kb(0)).robust_query(d["h"], [0, 3], 4, n_sketches=2, n_bins=64), single,
         Arg("h", "vector"), keep_dtype=False)

    def up(seed):
        return {"U": orth(seed, 4, 1) * 0.3, "C": np.eye(1)}

    def do_update(d):
        m = maint(kb(0))
        m.update(d["U"], d["C"])
        return m.projector_dense()

    # C is (k, k) or its (k,) diagonal (documented): a 1-D C is valid
    spec("projection.KroneckerProjectionMaintainer.update", up, do_update, single, Arg("U"), Arg("C", ndim=(1, 2)),
         scale_rtol=1e-5, keep_dtype=False)
    spec("projection.coordinate_estimate_std", lambda seed: {"v": np.random.default_rng(seed).standard_normal(16)},
         lambda d: projection.coordinate_estimate_std(d["v"], [0, 3], 8), single,
         Arg("v", "vector", scale={"out": 1}))


# --------------------------------------------------------------------------- datasets

def _register_datasets():
    from lowrank_la import datasets

    spec("datasets.coherence", lambda seed: {"U": orth(seed, 24, 3)}, lambda d: datasets.coherence(d["U"]),
         lambda c: {"mu": np.float64(c)}, Arg("U", scale={"mu": 2}), keep_dtype=False)
    spec("datasets.matrix_with_spectrum", lambda seed: {"s": np.array([5.0, 2.0, 1.0])},
         lambda d: datasets.matrix_with_spectrum(24, 16, d["s"], rng=0), single, Arg("s", "vector", scale={"out": 1}),
         keep_dtype=False)
    spec("datasets.low_rank_matrix", lambda seed: {"singular_values": np.array([5.0, 2.0, 1.0])},
         lambda d: datasets.low_rank_matrix(24, 16, 3, singular_values=d["singular_values"], rng=0), single,
         Arg("singular_values", "vector", scale={"out": 1}), keep_dtype=False)
    spec("datasets.tucker_tensor", lambda seed: {"core": np.random.default_rng(seed).standard_normal((2, 2, 2))},
         lambda d: datasets.tucker_tensor((6, 5, 4), (2, 2, 2), core=d["core"], rng=0), single,
         Arg("core", "tensor", scale={"out": 1}), keep_dtype=False)


# --------------------------------------------------------------------------- psd

def psd_matrix(seed, n=16):
    """A symmetric positive definite (n, n) matrix: rank 3 with eigenvalues 40, 20, 8, plus 0.5 * spd(seed, n)."""
    U = orth(seed, n, 3)
    A = (U * np.array([40.0, 20.0, 8.0])) @ U.T + 0.5 * spd(seed + 1, n)
    return (A + A.T) / 2


def rbf(X, Y):
    """The Gaussian kernel ``exp(-|x - y|^2 / 2)`` between the rows of X and Y."""
    return np.exp(-((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) / 2)


def _register_psd():
    from lowrank_la import psd

    A_psd = lambda seed: {"A": psd_matrix(seed)}  # noqa: E731
    eig = lambda r: {"w": r[0], "recon": (r[1] * r[0]) @ r[1].T}  # noqa: E731
    spec("psd.nystrom", A_psd, lambda d: psd.nystrom(d["A"], 3, rng=0), eig, matrix_arg({"w": 1, "recon": 1}))
    spec("psd.eigh", A_psd, lambda d: psd.eigh(d["A"], 3, rng=0), eig, matrix_arg({"w": 1, "recon": 1}))
    spec("psd.rpcholesky", A_psd, lambda d: psd.rpcholesky(d["A"], 3, rng=0),
         lambda r: {"FFt": r.F @ r.F.T, "piv": r.pivots}, matrix_arg({"FFt": 1, "piv": 0}), discrete=("piv",))
    est = lambda r: {"est": np.asarray(r.estimate), "err": np.asarray(r.error_estimate)}  # noqa: E731
    for name in ("hutchinson", "hutchpp", "xtrace", "xnystrace", "xdiag"):
        spec(f"psd.{name}", A_psd, lambda d, name=name: getattr(psd, name)(d["A"], 8, rng=0), est,
             matrix_arg({"est": 1, "err": 1}))
    pcg_base = lambda seed: {"A": psd_matrix(seed), "b": np.random.default_rng(seed).standard_normal(16)}  # noqa
    spec("psd.nystrom_pcg", pcg_base, lambda d: psd.nystrom_pcg(d["A"], d["b"], 1.0, rng=0), lambda r: {"x": r.x},
         matrix_arg({}), Arg("b", "vector", scale={"x": 1}))
    pts = lambda seed: {"points": np.random.default_rng(seed).standard_normal((20, 2))}  # noqa: E731
    spec("psd.KernelMatrix", pts, lambda d: psd.KernelMatrix(rbf, d["points"]),
         lambda K: {"diag": K.diagonal(), "cols": K.columns([0, 3])}, Arg("points"))
    pv = lambda seed: {"points": np.random.default_rng(seed).standard_normal((20, 2)),  # noqa: E731
                       "V": np.random.default_rng(seed + 1).standard_normal((20, 3))}
    for meth in ("matmat", "rmatmat"):
        spec(f"psd.KernelMatrix.{meth}", pv, lambda d, m=meth: getattr(psd.KernelMatrix(rbf, d["points"]), m)(d["V"]),
             single, Arg("V", scale={"out": 1}), Arg("points"), keep_dtype=False)
    pi = lambda seed: {"points": np.random.default_rng(seed).standard_normal((20, 2)),  # noqa: E731
                       "idx": np.array([0, 3, 7])}
    for meth in ("columns", "block"):
        spec(f"psd.KernelMatrix.{meth}", pi, lambda d, m=meth: getattr(psd.KernelMatrix(rbf, d["points"]), m)(d["idx"]),
             single, Arg("idx", "vector", lenient=True), Arg("points"), keep_dtype=False)


SKLEARN_PROJECTIONS = ("CountSketchProjection", "FJLTProjection", "SRHTProjection", "SparseSignProjection")


def _register_sklearn():
    from lowrank_la import sklearn as sk

    X_base = lambda seed: {"X": low_rank(seed, 20, 16)}  # noqa: E731
    for cls in SKLEARN_PROJECTIONS:
        make = lambda cls=cls: getattr(sk, cls)(8, random_state=0)  # noqa: E731
        dense = lambda Y: {"out": Y.toarray() if hasattr(Y, "toarray") else Y}  # noqa: E731
        spec(f"sklearn.{cls}.transform", X_base, lambda d, make=make: make().fit(np.zeros((1, 16))).transform(d["X"]),
             dense, Arg("X", scale={"out": 1}, sparse=True))
        spec(f"sklearn.{cls}.fit_transform", X_base, lambda d, make=make: make().fit_transform(d["X"]), dense,
             Arg("X", scale={"out": 1}, sparse=True))
    svd = lambda: sk.RandomizedTruncatedSVD(3, random_state=0)  # noqa: E731
    spec("sklearn.RandomizedTruncatedSVD.fit", X_base, lambda d: svd().fit(d["X"]),
         lambda e: {"s": e.singular_values_, "P": e.components_.T @ e.components_}, Arg("X", scale={"s": 1, "P": 0},
                                                                                      sparse=True))
    spec("sklearn.IncrementalTruncatedSVD.partial_fit", X_base,
         lambda d: sk.IncrementalTruncatedSVD(3, random_state=0).partial_fit(d["X"]),
         lambda e: {"s": e.singular_values_, "P": e.components_.T @ e.components_}, Arg("X", scale={"s": 1, "P": 0},
                                                                                      sparse=True))


for _register in (_register_top, _register_svd, _register_sketch, _register_factor, _register_completion,
                  _register_sensing, _register_tensor, _register_matmul, _register_projection, _register_datasets,
                  _register_psd, _register_sklearn):
    _register()


_SKETCH_CONFIG = {f"sketch.{cls}{meth}": reason for cls in (*SKETCH_CLASSES, "SketchOperator") for meth, reason in (
    ("", "takes sizes and options only; its array methods are fuzzed"),
    (".todense", "takes no argument (the drawn operator is checked through fit)"),
    (".as_linear_operator", "takes no argument"))}
_SKLEARN_MACHINERY = ("scikit-learn's own estimator machinery (parameters, metadata routing, output container, "
                      "feature names), inherited from sklearn.base; run by its estimator checks in tests/sklearn")
_SKLEARN_SAME_PATH = ("validates X by scikit-learn's validate_data and the input rule, exactly as the fuzzed methods "
                      "of the same class do, then passes it to already-fuzzed functions (rsvd, svd_tol, "
                      "TruncatedSVDUpdater.add_rows, the sketches' apply, altmin_complete); NaN, shape and dtype "
                      "refusals are checked by scikit-learn's estimator checks in tests/sklearn")
_SKLEARN_EXEMPT = {
    **{f"sklearn.{cls}": "takes parameters only (scikit-learn's rule: nothing is validated before fit)"
       for cls in ("IncrementalTruncatedSVD", "LowRankImputer", "RandomizedTruncatedSVD", *SKLEARN_PROJECTIONS)},
    **{f"sklearn.{cls}.{meth}": _SKLEARN_MACHINERY
       for cls in ("IncrementalTruncatedSVD", "LowRankImputer", "RandomizedTruncatedSVD", *SKLEARN_PROJECTIONS)
       for meth in ("get_feature_names_out", "get_metadata_routing", "get_params", "set_output", "set_params")},
    **{f"sklearn.{cls}.{meth}": _SKLEARN_SAME_PATH for cls, meth in (
        *((c, m) for c in SKLEARN_PROJECTIONS for m in ("fit", "inverse_transform")),
        *(("RandomizedTruncatedSVD", m) for m in ("fit_transform", "transform", "inverse_transform")),
        *(("IncrementalTruncatedSVD", m) for m in ("fit", "fit_transform", "transform", "inverse_transform")),
        *(("LowRankImputer", m) for m in ("fit", "fit_transform", "transform")))},
}
_ABSTRACT = "abstract base class: its methods are fuzzed through the concrete subclasses"
_RESULT = "result type (named tuple, dict, dataclass) or warning: built by the library, holds no algorithm"
_IO = "reads or writes the state at a path; save/load round trips are tested beside each class"
NO_ARRAY = {
    **_SKETCH_CONFIG,
    **{f"sketch.SketchOperator.{m}": _ABSTRACT for m in ("apply", "fit", "fit_transform", "transform")},
    **{f"sensing.SensingOperator{m}": _ABSTRACT for m in ("", ".adjoint", ".adjoint_error", ".forward")},
    **{name: _RESULT for name in (
        "ConvergenceWarning", "SVDAccuracyResult", "SVDResult", "SolverResult", "factor.RankConditionWarning",
        "matmul.MLMCInfo",
        "matmul.UnbiasedLevelsWarning", "svd.QBResult", "svd.SVDTolResult", "tensor.CoreShapeResult",
        "psd.EighResult", "psd.TraceEstimate", "psd.DiagonalEstimate", "psd.RPCholeskyResult",
        "tensor.HosvdSpectrum", "tensor.TTRankResult", "tensor.TuckerResult", "completion.Observations",
        "completion.Segments", "completion.CompletionResult")},
    "completion.segment_ridges": "takes a Segments record (built by parse_observations, fuzzed) and sizes",
    **{name: _IO for name in (
        "projection.KroneckerProjectionMaintainer.load", "projection.KroneckerProjectionMaintainer.save",
        "svd.StreamingSketch.load", "svd.StreamingSketch.save", "svd.TruncatedSVDUpdater.load",
        "svd.TruncatedSVDUpdater.save")},
    "MatrixOperator": "built by as_operator (fuzzed), not by users",
    "MatrixOperator.reset_passes": "takes no argument",
    "MatrixOperator.asarray": "a namespace conversion helper for the algorithms' own blocks (no validation)",
    "thread_limit": "takes a thread count only",
    "psd.KernelMatrix.diagonal": "takes no argument (the points are fuzzed through KernelMatrix)",
    "datasets.incoherent_low_rank": "takes sizes and options only",
    "datasets.low_rank_plus_noise": "takes sizes and options only",
    "datasets.psd_low_rank": "takes sizes and options only",
    "datasets.ratings_matrix": "takes sizes and options only",
    "datasets.sparse_power_law": "takes sizes and options only",
    "datasets.spectrum": "takes sizes and options only",
    **{f"datasets.{name}": "builds a real-data matrix from installed files; takes options only" for name in (
        "digits_matrix", "image_matrix", "real_panel", "stdlib_tfidf")},
    "factor.CURDecomposition": "result type built by cur() (fuzzed); its methods are fuzzed",
    "factor.InterpolativeDecomposition": "result type built by interpolative() (fuzzed); its methods are fuzzed",
    "matmul.mlmc": "takes a level sampler (a callable) and tolerances; its array use is fuzzed through mlmc_matmul",
    "projection.KroneckerProjectionMaintainer.reset_robust": "takes no argument",
    "projection.default_sketch_size": "takes a dimension only",
    "sensing.GaussianSensing": "takes sizes and options only; its array methods are fuzzed",
    "sensing.GaussianSensing.adjoint_error": "takes an rng and a dtype only",
    "sensing.GaussianSensing.todense": "takes no argument",
    "sensing.LinearMapSensing": "takes two callables and sizes; its array methods are fuzzed",
    "sensing.LinearMapSensing.adjoint_error": "takes an rng and a dtype only",
    "sensing.SamplingOperator.adjoint_error": "takes an rng and a dtype only",
    "sketch.FJLT.density": "takes sizes only",
    "sketch.jl_min_dim": "takes sample counts and distortions (numbers or int arrays), no matrix",
    "sketch.make_sketch": "takes a kind and sizes only",
    "sketch.next_pow2": "takes an int only",
    "svd.StreamingSketch": "takes a shape and options only; its array methods are fuzzed",
    "tensor.tt_size": "takes shapes and ranks only",
    "tensor.tucker_size": "takes shapes and ranks only",
    **_SKLEARN_EXEMPT,
}


# --------------------------------------------------------------------------- the harness's own checks

def _selftest_callables():
    """Deliberately broken callables (names start with ``_selftest.``): each must be caught by its category."""

    def modifies(A):
        A = np.asarray(A) if not hasattr(A, "tocoo") else A
        if isinstance(A, np.ndarray) and A.flags.writeable:
            A[0, 0] = 0.0
        return np.asarray(A.sum())

    def accepts_nan(A):
        return np.asarray(A, dtype=float) * 2

    def crashes(A):
        import ctypes

        return ctypes.string_at(0)  # a segmentation fault

    def hangs(A):
        import time

        time.sleep(60)

    def squares(A):
        if not np.all(np.isfinite(np.asarray(A, dtype=float))):
            raise ValueError("A must be finite")
        return np.asarray(A, dtype=float) ** 2 / np.max(np.abs(np.asarray(A, dtype=float)))

    def unnamed(A):
        raise ValueError("bad input")

    for name, f in (("modifies", modifies), ("accepts_nan", accepts_nan), ("crashes", crashes), ("hangs", hangs),
                    ("squares", squares), ("unnamed", unnamed)):
        spec(f"_selftest.{name}", A_only, lambda d, f=f: f(d["A"]), single, matrix_arg({"out": 1}, sparse=False))


_selftest_callables()
