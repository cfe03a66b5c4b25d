"""The registry's base calls agree with a dense reference (LAPACK, explicit products) where one exists.

The sweep compares every mutated input with the ndarray answer; this module anchors the ndarray answers
themselves, so that a wrong base answer cannot hide behind agreeing mutations.
"""

import numpy as np
import pytest
from scipy.linalg import hadamard

from ._registry import REGISTRY


def _best_rank(A, k):
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    return s[:k], (U[:, :k] * s[:k]) @ Vh[:k]


def _kron_B(d, form="sqrt"):
    w, V = np.linalg.eigh(d["W"])
    half = (V * np.sqrt(w)) @ V.T
    rows = np.stack([a.reshape(-1, order="F") for a in d["A_mats"]])
    return rows @ np.kron(half, half)


# name -> (reference outputs from the base inputs, relative tolerance); rank-3 inputs with 1e-2 noise
REFERENCES = {
    "svd.rsvd": (lambda d: dict(zip(("s", "USVh"), _best_rank(d["A"], 3))), 1e-6),
    "svd.svd_tol": (lambda d: dict(zip(("s", "USVh"), _best_rank(d["A"], 3))), 1e-6),
    "svd.rand_qb": (lambda d: {"QB": _best_rank(d["A"], 3)[1]}, 1e-2),
    "factor.mf_svd": (lambda d: {"recon": _best_rank(d["A"], 3)[1]}, 1e-12),
    "svd.svd_update": (lambda d: dict(zip(("s", "USVh"), _best_rank(
        np.vstack([(d["U"] * d["s"]) @ d["Vh"], d["E"]]), 3))), 1e-6),
    "sketch.fwht": (lambda d: {"out": d["x"] @ hadamard(16) / 4}, 1e-12),
    "as_operator": (lambda d: {"AX": d["A"], "AtY": d["A"].T}, 1e-15),
    "tensor.unfold": (lambda d: {"out": np.moveaxis(d["X"], 1, 0).reshape(5, -1)}, 0.0),
    "tensor.mode_product": (lambda d: {"out": np.einsum("ij,ajb->aib", d["M"], d["X"])}, 1e-14),
    "projection.kron_apply_B": (lambda d: {"out": _kron_B(d) @ d["h"]}, 1e-10),
    "projection.kron_apply_BT": (lambda d: {"out": _kron_B(d).T @ d["y"]}, 1e-10),
    "projection.kron_normal_matrix": (lambda d: {"out": _kron_B(d) @ _kron_B(d).T}, 1e-10),
    "completion.sampled_product": (lambda d: {"out": (d["U"] @ d["V"].T)[d["rows"], d["cols"]]}, 1e-14),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_base_answer_matches_dense_reference(name):
    spec = REGISTRY[name]
    inputs = spec.base(0)
    got = spec.summary(spec.call(inputs))
    reference, rtol = REFERENCES[name]
    for key, want in reference(inputs).items():
        err = np.linalg.norm(np.asarray(got[key]) - want) / np.linalg.norm(want)
        assert err <= rtol, f"{name}: {key} differs from the dense reference by {err:.1e} (rtol {rtol:.0e})"
