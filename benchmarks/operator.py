"""The operator adapter's overhead against a raw product.

Every algorithm touches its matrix only through ``lowrank_la.as_operator(A).matmat(X)``; this suite measures
what that costs beside ``A @ X`` (dense, CSR) or ``A.matmat(X)`` (LinearOperator) on the same inputs, for a
thin, a medium and a wide block ``X``:

* ``time_raw_product``: the product without lowrank_la;
* ``time_adapter_product``: the product through an operator built in ``setup`` (the per-product overhead:
  the shape check, the pass counter, the dtype conversion of LinearOperator results);
* ``time_adapter_wrap_and_product``: wrapping plus one product, including the validation pass over ``A``
  (2-D, non-empty, finite), which is what a one-product call of a public function pays;
* ``peakmem_adapter_product``: the peak memory of the process around one adapter product;
* ``track_relative_difference``: the largest entrywise relative difference between the adapter's and the raw
  result (it should be 0: the adapter calls the same product).
"""

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

import lowrank_la

from .common import max_relative_error

M, N = 2000, 1000


class OperatorOverhead:
    params = (["dense", "csr", "linear_operator"], [1, 16, 256])
    param_names = ["kind", "n_cols"]

    def setup(self, kind, n_cols):
        rng = np.random.default_rng(0)
        if kind == "dense":
            A = rng.standard_normal((M, N))
        elif kind == "csr":
            A = scipy.sparse.random(M, N, density=0.01, format="csr", dtype=np.float64, rng=rng)
        elif kind == "linear_operator":
            A = scipy.sparse.linalg.aslinearoperator(rng.standard_normal((M, N)))
        else:
            raise ValueError(f"kind={kind!r}")
        self.A = A
        self.X = rng.standard_normal((N, n_cols))
        self.raw = A.matmat if kind == "linear_operator" else A.__matmul__
        self.op = lowrank_la.as_operator(A)

    def time_raw_product(self, kind, n_cols):
        self.raw(self.X)

    def time_adapter_product(self, kind, n_cols):
        self.op.matmat(self.X)

    def time_adapter_wrap_and_product(self, kind, n_cols):
        lowrank_la.as_operator(self.A).matmat(self.X)

    def peakmem_adapter_product(self, kind, n_cols):
        self.op.matmat(self.X)

    def track_relative_difference(self, kind, n_cols):
        return max_relative_error(self.op.matmat(self.X), self.raw(self.X))

    track_relative_difference.unit = "relative"
