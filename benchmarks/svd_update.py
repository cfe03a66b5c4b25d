"""Truncated-SVD updating: lowrank_la's updater (three methods, two forms) beside IncSVD, gensim, scikit-learn, svds.

The problem: a sparse power-law matrix with ``n = 10^5`` columns and density ``1e-5``
(:func:`lowrank_la.datasets.sparse_power_law`), its first ``m0 = 10^5`` rows factored once at rank ``k`` (in
``setup_cache``, by :func:`lowrank_la.svd.rsvd` with 10 power iterations and 30 oversamples: the same initial
SVD for every implementation), then ``N_BATCHES = 10`` batches of ``s`` new rows each.

* ``time_updates``: the 10 updates, from a fresh copy of the initial state (``number = 1``, so ``setup`` runs
  before every sample; the copy is not timed);
* ``track_sv_error``: the largest relative error of the ``k`` singular values after the 10 updates against the
  truncated SVD of the whole matrix recomputed from scratch (``rsvd`` with 10 power iterations and 30
  oversamples, in ``setup_cache``).

The peers:

* ``IncSVD`` (Deng et al.'s package, ``EvolvingMatrix(sparse=True)``, methods ZhaSimon/GKL/RPI with
  ``l = min(10, s)``, ``t = 3``). Its constructor computes the initial SVD with ``svds``; here it gets the same
  initial factors as everybody by setting its state attributes (``_Uk``, ``_sigmak``, ``_Vk``, ``_m``, ``_n``)
  after building it on a tiny matrix; its prints are silenced.
* ``gensim`` (``lsimodel.Projection.merge``): our rows are gensim's documents; each batch is decomposed by
  gensim's stochastic SVD and merged. gensim tracks ``U`` (here the right factor) and ``S`` only.
* ``sklearn`` (``IncrementalPCA.partial_fit`` on the densified batch, rows only). It computes a *centred* PCA,
  a different problem; it is started from the same factors with a zero mean. It refuses batches smaller than
  ``k`` (those combinations are skipped).
* ``svds``: one recomputation of the final matrix from scratch (an updating stream needs one per batch).

``SVDUpdateThreads`` times the sparse-aware update on 1 and 2 threads (the others pin one BLAS thread).

``SVDUpdateCentred`` is the same stream as PCA (``center=True``: the SVD of ``A - 1 mu^T``, sparse rows never
densified), every implementation started from the same centred initial state (``TruncatedSVDUpdater(A0, k,
center=True, init_iter=10)``, built in ``setup_cache``): lowrank_la's centred updater (Zha-Simon and GKL), its
uncentred update on the same stream (what centring costs), and scikit-learn's ``IncrementalPCA.partial_fit``
(the densified batch; batches below ``k`` rows are refused by it and skipped). ``track_sv_error`` is against
``rsvd(A, k, center=True)`` of the whole matrix (the uncentred row: against the uncentred reference);
``track_extra_mb`` is the peak of the memory allocated during the 10 updates (tracemalloc), beyond the input
and the state.

Run: ``asv run --python=same --quick --bench SVDUpdate`` and compare the rows of one run as ratios.
"""

import contextlib
import copy
import io
import tracemalloc

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg
from threadpoolctl import threadpool_limits

from lowrank_la._backend import thread_limit
from lowrank_la.datasets import sparse_power_law
from lowrank_la.svd._update import TruncatedSVDUpdater

from .common import require

N = 100_000
DENSITY = 1e-5
N_BATCHES = 10
KS = [16, 64]
BATCHES = [1, 10, 100]


def _problem():
    """The initial matrix, the pool of new rows, the initial SVDs and the recomputed references."""
    from lowrank_la.svd import rsvd

    extra = N_BATCHES * max(BATCHES)
    A = sparse_power_law(N + extra, N, nnz=int(DENSITY * N * (N + extra)), rng=0)
    A0, pool = A[:N], A[N:]
    with thread_limit(1):
        init = {k: tuple(np.asarray(a) for a in rsvd(A0, k, n_iter=10, oversamples=30, rng=0)) for k in KS}
        ref = {(k, s): np.asarray(rsvd(A[: N + N_BATCHES * s], k, n_iter=10, oversamples=30, rng=1).s)
               for k in KS for s in BATCHES}
    return {"A0": A0, "pool": pool, "init": init, "ref": ref}


def _relative_error(s, ref):
    s = np.sort(np.asarray(s))[::-1][: ref.size]
    return float(np.max(np.abs(s - ref) / ref))


class _Base:
    number = 1
    repeat = (1, 3, 60.0)
    timeout = 600

    def setup_cache(self):
        return _problem()

    def _one_thread(self):
        """One BLAS thread for the whole sample, set outside the timed region (setting it costs milliseconds,
        as much as a sparse-aware update)."""
        self._limits = threadpool_limits(limits=1)

    def teardown(self, *args):
        limits = getattr(self, "_limits", None)
        if limits is not None:
            limits.restore_original_limits()

    def _batches(self, data, s):
        pool = data["pool"]
        return [sp.csr_array(pool[i * s: (i + 1) * s]) for i in range(N_BATCHES)]


class SVDUpdate(_Base):
    """lowrank_la: the three methods in the sparse-aware and the dense form."""

    params = (["sparse-aware", "dense"], ["zha-simon", "gkl", "rpi"], KS, BATCHES)
    param_names = ["form", "method", "k", "s"]

    def setup(self, data, form, method, k, s):
        U, sv, Vh = data["init"][k]
        self.batches = self._batches(data, s)
        self.up = TruncatedSVDUpdater(U=U, s=sv, Vh=Vh, method=method, sparse_path=form == "sparse-aware",
                                      l=min(10, s), n_power=3, rng=0)
        self.ref = data["ref"][(k, s)]
        self._one_thread()

    def _run(self):
        for E in self.batches:
            self.up.add_rows(E)

    def time_updates(self, data, form, method, k, s):
        self._run()

    def track_sv_error(self, data, form, method, k, s):
        self._run()
        return _relative_error(self.up.s, self.ref)


class SVDUpdateThreads(_Base):
    """The sparse-aware Zha-Simon update (k = 64, s = 10) with BLAS and Numba on 1 and on 2 threads.

    Its small dense work must not get slower with more threads (it ran 10x to 40x slower on 2 threads before
    the updater ran it on one BLAS thread and in NumPy's LAPACK: see ``lowrank_la._backend.SMALL_WORK_NOTE``).
    """

    params = ([1, 2],)
    param_names = ["threads"]

    def setup(self, data, threads):
        U, sv, Vh = data["init"][64]
        self.batches = self._batches(data, 10)
        self.up = TruncatedSVDUpdater(U=U, s=sv, Vh=Vh, method="zha-simon", rng=0)
        self._threads = contextlib.ExitStack()
        self._threads.enter_context(thread_limit(threads))

    def teardown(self, data, threads):
        self._threads.close()

    def time_updates(self, data, threads):
        for E in self.batches:
            self.up.add_rows(E)


class SVDUpdatePeers(_Base):
    """The peers on the same stream."""

    params = (["IncSVD-ZhaSimon", "IncSVD-GKL", "IncSVD-RPI", "gensim", "sklearn", "svds"], KS, BATCHES)
    param_names = ["impl", "k", "s"]

    def setup(self, data, impl, k, s):
        U, sv, Vh = data["init"][k]
        self.batches = self._batches(data, s)
        self.ref = data["ref"][(k, s)]
        m0 = data["A0"].shape[0]
        if impl.startswith("IncSVD"):
            em_mod = require("IncSVD.EvolvingMatrix")
            method = impl.split("-")[1]
            with contextlib.redirect_stdout(io.StringIO()):
                em = em_mod.EvolvingMatrix(sp.csr_matrix(np.eye(k + 2, N)), k, sparse=True, method=method)
            em._m, em._n = m0, N
            em._Uk, em._sigmak, em._Vk = U.copy(), sv.copy(), Vh.T.copy()
            em._inverted_index = [0] * max(m0, N)
            lt = {"ZhaSimon": {}, "GKL": {"l": min(10, s)}, "RPI": {"l": min(10, s), "t": 3}}[method]
            batches = [sp.csr_matrix(E) for E in self.batches]

            def run():
                with contextlib.redirect_stdout(io.StringIO()):
                    for E in batches:
                        em.add_row(E, **lt)
                return em.Sigmak
        elif impl == "gensim":
            lsi = require("gensim.models.lsimodel")
            proj = lsi.Projection(N, k, random_seed=0)
            proj.u, proj.s = Vh.T.copy(), sv.copy()
            batches = [sp.csc_matrix(E.T) for E in self.batches]

            def run():
                for E in batches:
                    proj.merge(lsi.Projection(N, k, docs=E, random_seed=0))
                return proj.s
        elif impl == "sklearn":
            decomposition = require("sklearn.decomposition")
            if s < k:
                raise NotImplementedError("IncrementalPCA needs batches of at least n_components rows")
            ipca = decomposition.IncrementalPCA(n_components=k)
            ipca.components_, ipca.singular_values_ = Vh.copy(), sv.copy()
            ipca.mean_, ipca.var_ = np.zeros(N), np.zeros(N)
            ipca.n_samples_seen_ = m0
            ipca.n_components_, ipca.n_features_in_ = k, N
            ipca.explained_variance_ = sv**2 / (m0 - 1)
            ipca.explained_variance_ratio_ = np.zeros(k)
            ipca.noise_variance_ = 0.0
            batches = [E.toarray() for E in self.batches]

            def run():
                for E in batches:
                    ipca.partial_fit(E)
                return ipca.singular_values_
        else:
            full = sp.vstack([data["A0"], *self.batches]).tocsr()

            def run():
                return scipy.sparse.linalg.svds(full, k, random_state=0, return_singular_vectors=False)
        self.run = run
        self._one_thread()

    def time_updates(self, data, impl, k, s):
        self.run()

    def track_sv_error(self, data, impl, k, s):
        return _relative_error(self.run(), self.ref)


class SVDUpdateCentred(_Base):
    """Centred updating (PCA of the rows seen so far) beside the uncentred update and IncrementalPCA."""

    params = (["centred-zha-simon", "centred-gkl", "uncentred-zha-simon", "sklearn-IPCA"], KS, BATCHES)
    param_names = ["impl", "k", "s"]

    def setup_cache(self):
        from lowrank_la.svd import rsvd

        data = _problem()
        A0 = data["A0"]
        with thread_limit(1):
            data["centred"] = {(k, method): TruncatedSVDUpdater(A0, k, center=True, method=method, init_iter=10,
                                                                 rng=0)
                               for k in KS for method in ("zha-simon", "gkl")}
            full = {s: sp.vstack([A0, data["pool"][: N_BATCHES * s]]).tocsr() for s in BATCHES}
            data["ref_centred"] = {(k, s): np.asarray(rsvd(full[s], k, n_iter=10, oversamples=30, center=True,
                                                           rng=1).s) for k in KS for s in BATCHES}
        return data

    def setup(self, data, impl, k, s):
        start = data["centred"][(k, "zha-simon")]
        batches = self._batches(data, s)
        self.ref = data["ref" if impl.startswith("uncentred") else "ref_centred"][(k, s)]
        if impl == "sklearn-IPCA":
            decomposition = require("sklearn.decomposition")
            if s < k:
                raise NotImplementedError("IncrementalPCA needs batches of at least n_components rows")
            ipca = decomposition.IncrementalPCA(n_components=k)
            ipca.components_, ipca.singular_values_ = start.Vh.copy(), start.s.copy()
            ipca.mean_, ipca.var_ = start.mean.copy(), np.zeros(N)
            ipca.n_samples_seen_ = start.shape[0]
            ipca.n_components_, ipca.n_features_in_ = k, N
            dense = [E.toarray() for E in batches]

            def run():
                for E in dense:
                    ipca.partial_fit(E)
                return ipca.singular_values_
        else:
            if impl == "uncentred-zha-simon":  # the uncentred problem from its own initial SVD: the cost baseline
                U, sv, Vh = data["init"][k]
                up = TruncatedSVDUpdater(U=U, s=sv, Vh=Vh, rng=0)
            else:
                up = copy.deepcopy(data["centred"][(k, impl.split("-", 1)[1])])

            def run():
                for E in batches:
                    up.add_rows(E)
                return up.s
        self.run = run
        self._one_thread()

    def time_updates(self, data, impl, k, s):
        self.run()

    def peakmem_updates(self, data, impl, k, s):
        self.run()

    def track_extra_mb(self, data, impl, k, s):
        tracemalloc.start()
        try:
            self.run()
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    def track_sv_error(self, data, impl, k, s):
        return _relative_error(self.run(), self.ref)


SVDUpdateCentred.track_extra_mb.unit = "MiB"
