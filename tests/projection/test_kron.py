"""kron_apply_B / kron_apply_BT / kron_normal_matrix against dense numpy.kron references, and the boundary."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank_la.projection import kron_apply_B, kron_apply_BT, kron_normal_matrix
from lowrank_la.projection._kron import gather, gather_packed, pack_upper, pair, pair_packed, unpack_upper

from ._problems import dense_B, problem

FORMS = ["sqrt", "identity"]
VECS = ["F", "C"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("vec", VECS)
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("n", [3, 7, 12])
def test_products_match_numpy_kron(form, vec, symmetric, n):
    A, W = problem(n, 2 * n, n, symmetric=symmetric)
    B = dense_B(A, W, form, vec)
    gen = np.random.default_rng(n)
    h, y = gen.standard_normal(n * n), gen.standard_normal(2 * n)
    scale = np.linalg.norm(B, 2)
    assert np.abs(kron_apply_B(A, W, h, form=form, vec=vec) - B @ h).max() <= 1e-12 * scale * np.linalg.norm(h)
    assert np.abs(kron_apply_BT(A, W, y, form=form, vec=vec) - B.T @ y).max() <= 1e-12 * scale * np.linalg.norm(y)
    M = kron_normal_matrix(A, W, form=form, vec=vec)
    assert np.abs(M - B @ B.T).max() <= 1e-12 * scale**2
    assert (M == M.T).all()


def test_packed_symmetric_stack_pairs_and_gathers_like_the_full_one():
    # the maintainer's queries read symmetric A_i as their upper triangles: half the memory traffic
    A, _ = problem(5, 7, 2)
    P = pack_upper(A)
    assert P.shape == (7, 15) and (unpack_upper(P, 5) == A).all()
    X = np.random.default_rng(3).standard_normal((5, 5))  # not symmetric: <A_i, X> = <A_i, (X + X^T) / 2>
    assert np.allclose(pair_packed(P, X), pair(A, X), rtol=1e-14, atol=1e-14)
    y = np.arange(7.0)
    assert (gather_packed(P, y, 5) == gather_packed(P, y, 5).T).all()
    assert np.allclose(gather_packed(P, y, 5), gather(A, y), rtol=1e-14, atol=1e-13)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("vec", VECS)
def test_matrix_inputs_follow_the_vec_convention(form, vec):
    A, W = problem(4, 5, 0, symmetric=False)
    h = np.random.default_rng(1).standard_normal(16)
    H = h.reshape(4, 4, order=vec)  # mat(h) in the convention
    assert np.allclose(kron_apply_B(A, W, H, form=form, vec=vec), kron_apply_B(A, W, h, form=form, vec=vec))
    y = np.arange(5.0)
    flat = kron_apply_BT(A, W, y, form=form, vec=vec)
    assert np.allclose(kron_apply_BT(A, W, y, form=form, vec=vec, shape="matrix"), flat.reshape(4, 4, order=vec))


def test_known_rows_of_the_identity_form():
    # column-major: row i of A (W kron I) is vec_F(A_i W); row-major: vec_C(W A_i)  (spec section 4)
    A, W = problem(4, 3, 2, symmetric=False)
    e = np.eye(16)
    rows_f = np.array([kron_apply_B(A, W, e[j], form="identity", vec="F") for j in range(16)]).T
    rows_c = np.array([kron_apply_B(A, W, e[j], form="identity", vec="C") for j in range(16)]).T
    assert np.allclose(rows_f, np.array([(Ai @ W).reshape(-1, order="F") for Ai in A]))
    assert np.allclose(rows_c, np.array([(W @ Ai).reshape(-1) for Ai in A]))


def test_sqrt_normal_matrix_is_the_trace_formula():
    A, W = problem(5, 6, 3)
    M = kron_normal_matrix(A, W)
    assert np.allclose(M, [[np.trace(Ai @ W @ Aj @ W) for Aj in A] for Ai in A], rtol=1e-12, atol=1e-12)


def test_dtype_kept_and_inputs_untouched():
    A, W = problem(4, 5, 0, dtype=np.float32)
    h = np.ones(16, dtype=np.float32)
    copies = [A.copy(), W.copy(), h.copy()]
    assert kron_apply_B(A, W, h).dtype == np.float32
    assert kron_apply_BT(A, W, np.ones(5, dtype=np.float32)).dtype == np.float32
    assert kron_normal_matrix(A, W).dtype == np.float32
    assert kron_normal_matrix(A.astype(np.int64), np.eye(4, dtype=np.int64)).dtype == np.float64
    for a, b in zip((A, W, h), copies):
        assert (a == b).all()
    ref = kron_normal_matrix(A.astype(np.float64), W.astype(np.float64))
    assert np.abs(kron_normal_matrix(A, W) - ref).max() <= 1e-4 * np.abs(ref).max()


def test_generic_namespaces(xp_dense_backend):
    A, W = problem(4, 5, 0)
    h = np.random.default_rng(0).standard_normal(16)
    be = xp_dense_backend
    for form in FORMS:
        B = dense_B(A, W, form, "F")
        got = kron_apply_B(be.asarray(A), be.asarray(W), be.asarray(h), form=form)
        assert np.allclose(be.tonumpy(got), B @ h)
        got = kron_normal_matrix(be.asarray(A), be.asarray(W), form=form, vec="C")
        assert np.allclose(be.tonumpy(got), dense_B(A, W, form, "C") @ dense_B(A, W, form, "C").T)
        got = kron_apply_BT(be.asarray(A), be.asarray(W), be.asarray(h[:5]), form=form)
        assert np.allclose(be.tonumpy(got), B.T @ h[:5])


@pytest.mark.parametrize("call, match", [
    (lambda A, W: kron_apply_B(A[0], W, np.ones(16)), "A_mats must be 3-D"),
    (lambda A, W: kron_apply_B(A[:, :, :3], W, np.ones(16)), r"A_mats.shape\[2\]=3"),
    (lambda A, W: kron_apply_B(A, W[:3, :3], np.ones(16)), r"W.shape\[0\]=3"),
    (lambda A, W: kron_apply_B(A, W, np.ones(15)), r"h.shape\[0\]=15 must equal n\^2 = 16"),
    (lambda A, W: kron_apply_B(A, W, np.ones((3, 3))), r"h.shape\[0\]=3"),
    (lambda A, W: kron_apply_BT(A, W, np.ones(4)), r"y.shape\[0\]=4 must equal m"),
    (lambda A, W: kron_apply_B(A, W + np.triu(np.ones((4, 4)), 1), np.ones(16)), "W must be symmetric"),
    (lambda A, W: kron_apply_B(A, -W, np.ones(16)), "W must be symmetric positive semidefinite"),
    (lambda A, W: kron_apply_B(A, W * np.nan, np.ones(16)), "W must be finite"),
    (lambda A, W: kron_apply_B(A, W, np.full(16, np.inf)), "h must be finite"),
    (lambda A, W: kron_apply_B(A, W, np.ones(16), form="half"), "form='half' must be one of"),
    (lambda A, W: kron_apply_B(A, W, np.ones(16), vec="A"), "vec='A' must be one of"),
    (lambda A, W: kron_apply_BT(A, W, np.ones(5), shape="tensor"), "shape='tensor'"),
])
def test_bad_input_is_refused_with_its_name(call, match):
    A, W = problem(4, 5, 0)
    with pytest.raises(ValueError, match=match):
        call(A, W)


def test_complex_input_is_refused():
    A, W = problem(3, 2, 0)
    with pytest.raises(TypeError, match="complex"):
        kron_normal_matrix(A + 0j, W)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 4), n1=st.integers(0, 5), n2=st.integers(0, 5), w=st.integers(0, 5), d=st.integers(0, 30),
       bad=st.sampled_from([None, np.nan, np.inf]))
def test_fuzzed_shapes_are_answered_or_refused_by_name(m, n1, n2, w, d, bad):
    gen = np.random.default_rng(0)
    A = gen.standard_normal((m, n1, n2))
    W = np.eye(w)
    h = gen.standard_normal(d)
    if bad is not None:
        h[:1] = bad
    try:
        out = kron_apply_B(A, W, h)
    except ValueError as exc:
        assert any(name in str(exc) for name in ("A_mats", "W", "h"))
        return
    assert out.shape == (m,) and m >= 1 and n1 == n2 == w >= 1 and d == n1 * n1 and bad is None


def test_products_leave_every_input_untouched():
    A, W = problem(4, 5, 1, symmetric=False)
    gen = np.random.default_rng(2)
    h, y = gen.standard_normal(16), gen.standard_normal(5)
    H = h.reshape(4, 4)
    copies = [x.copy() for x in (A, W, h, y, H)]
    for form in FORMS:
        for vec in VECS:
            kron_apply_B(A, W, h, form=form, vec=vec)
            kron_apply_B(A, W, H, form=form, vec=vec)
            kron_apply_BT(A, W, y, form=form, vec=vec, shape="matrix")
            kron_normal_matrix(A, W, form=form, vec=vec)
    for x, c in zip((A, W, h, y, H), copies):
        assert (x == c).all()


@pytest.mark.parametrize("call, err, match", [
    (lambda A, W: kron_apply_B(A, W + 0j, np.ones(16)), TypeError, "W has complex dtype"),
    (lambda A, W: kron_apply_B(A, W, np.ones(16) + 0j), TypeError, "h has complex dtype"),
    (lambda A, W: kron_apply_BT(A, W, np.ones(5) + 0j), TypeError, "y has complex dtype"),
    (lambda A, W: kron_apply_B(A, {"W": W}, np.ones(16)), TypeError, "W must be a NumPy or other array-API array"),
    (lambda A, W: kron_apply_B(A, W, [["a"]] * 16), TypeError, "h must hold numbers"),
    (lambda A, W: kron_apply_BT(A, W, np.array(["a"] * 5)), TypeError, "y must hold numbers"),
])
def test_wrong_kinds_are_refused_with_the_right_name(call, err, match):
    A, W = problem(4, 5, 0)
    with pytest.raises(err, match=match):
        call(A, W)


def test_issue15_lists_follow_the_input_rule():
    A, W = problem(3, 4, 0)
    h = np.arange(9.0)
    assert np.array_equal(kron_apply_B(A.tolist(), W.tolist(), h.tolist()), kron_apply_B(A, W, h))
    assert np.array_equal(kron_apply_BT(A, W, [1.0, 2.0, 3.0, 4.0]), kron_apply_BT(A, W, np.arange(1.0, 5.0)))
