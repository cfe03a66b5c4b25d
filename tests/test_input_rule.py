"""The one input rule (``as_matrix``), sparse structure checks, and ``rng=`` instead of ``random_state=``.

Issue 15, items 1 (malformed sparse input reached the Numba kernels and crashed the process), 7 (operator
products checked nothing), 11 (DOK and other formats, ``np.matrix``) and 16 (DataFrames refused, lists accepted
only in places).
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import lowrank_la as la
from lowrank_la._validate import as_matrix, canonical_sparse, refuse_random_state

pd = pytest.importorskip("pandas")

FORMATS = ["csr", "csc", "coo", "dok", "lil", "dia", "bsr"]


def _sparse(fmt, cls="matrix"):
    A = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    A = A if cls == "matrix" else sp.csr_array(A)
    return A.asformat(fmt)


@pytest.mark.parametrize("cls", ["matrix", "array"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_sparse_format_is_accepted_and_agrees_with_dense(fmt, cls):
    A = _sparse(fmt, cls)
    before = A.copy()
    out = canonical_sparse(A)
    assert out.format in ("csr", "csc") and out.has_canonical_format
    np.testing.assert_array_equal(out.toarray(), before.toarray())
    np.testing.assert_allclose(la.rsvd(A, 3, rng=0).s, la.rsvd(before.toarray(), 3, rng=0).s, rtol=1e-12)
    assert (A != before).nnz == 0  # untouched


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_unsorted_and_duplicate_indices_are_legal_and_mean_their_sum(fmt):
    A = sp.csr_matrix(([1.0, 2.0, 4.0, 8.0], [2, 0, 2, 1], [0, 3, 4]), shape=(2, 3)).asformat(fmt)
    if fmt == "csc":
        A = sp.csc_matrix(([1.0, 2.0, 4.0, 8.0], [1, 0, 1, 0], [0, 3, 3, 4]), shape=(2, 3))
    dense = A.toarray()
    indices = A.indices.copy()
    out = canonical_sparse(A)
    assert out is not A and out.has_canonical_format
    np.testing.assert_array_equal(out.toarray(), dense)
    np.testing.assert_array_equal(A.indices, indices)  # the caller's matrix keeps its order
    canonical = out.copy()
    assert canonical_sparse(canonical) is canonical  # nothing to do: no copy


def _tamper(fmt):
    """A matrix of `fmt` whose index arrays were edited in place into nonsense (what the fuzz campaign did)."""
    A = _sparse(fmt)
    if fmt in ("csr", "csc", "bsr"):
        A.indices[1] = 10**9
    elif fmt == "coo":
        A.row[2] = 50
    elif fmt == "lil":
        A.rows[0] = [10**6]
        A.data[0] = [1.0]
    elif fmt == "dok":
        A._dict[(5, 10**6)] = 1.0  # bypasses DOK's own bounds check
    return A


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr"])
def test_out_of_range_indices_are_refused_before_any_kernel(fmt):
    A = _tamper(fmt)
    with pytest.raises(ValueError, match=rf"^A is a malformed {fmt} sparse matrix: .*0 <= index <"):
        canonical_sparse(A)


@pytest.mark.parametrize("what", ["decreasing", "short", "start", "beyond", "float"])
def test_a_bad_indptr_is_refused(what):
    A = _sparse("csr")
    if what == "decreasing":
        A.indptr[3] = A.indptr[5]
    elif what == "short":
        A.indptr = A.indptr[:-1]
    elif what == "start":
        A.indptr[0] = 1
    elif what == "beyond":
        A.indptr[-1] = A.nnz + 10
    else:
        A.indices = A.indices.astype(np.float64)
    with pytest.raises(ValueError, match=r"^A is a malformed csr sparse matrix: (its indptr|its indices|indptr\[-1\])"):
        canonical_sparse(A)


def test_item_1_malformed_sparse_no_longer_crashes_the_process():
    """The issue's reproducer, in a child process: it segfaulted or aborted before the check."""
    code = textwrap.dedent("""
        import scipy.sparse as sp, lowrank_la as la
        A = sp.random(300, 200, density=0.05, format="csr", random_state=0)
        A.indices[5] = 10**9
        for call in (lambda: la.rsvd(A, 5, rng=0), lambda: la.svd_tol(A, 0.1, rng=0),
                     lambda: la.make_sketch("sparse_sign", 20, 300, rng=0) @ A):
            try:
                call()
            except ValueError as exc:
                assert "malformed csr" in str(exc), exc
            else:
                raise SystemExit("accepted")
        print("refused")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "refused"


def test_trusted_input_skips_the_structure_pass():
    A = _sparse("csr")
    assert canonical_sparse(A, check=False) is A
    assert canonical_sparse(A.tocoo(), check=False).format == "csr"


@pytest.mark.parametrize("kind", ["list", "tuple", "matrix", "frame", "read_only", "fortran", "strided"])
def test_array_likes_are_accepted_and_give_the_ndarray_answer(kind):
    A = la.datasets.low_rank_matrix(30, 20, rank=4, rng=1)
    if kind == "list":
        given = A.tolist()
    elif kind == "tuple":
        given = tuple(map(tuple, A.tolist()))
    elif kind == "matrix":
        with pytest.warns(PendingDeprecationWarning):
            given = np.asmatrix(A)
    elif kind == "frame":
        given = pd.DataFrame(A, columns=[f"c{j}" for j in range(20)])
    elif kind == "read_only":
        given = A.copy()
        given.flags.writeable = False
    elif kind == "fortran":
        given = np.asfortranarray(A)
    else:
        given = np.repeat(A, 2, axis=1)[:, ::2]
    out = as_matrix(given)
    assert type(out) is np.ndarray and out.shape == (30, 20)
    np.testing.assert_allclose(la.rsvd(given, 4, rng=0).s, la.rsvd(A, 4, rng=0).s, rtol=1e-10)


def test_series_and_nullable_frames():
    assert as_matrix(pd.Series([1.0, 2.0, 3.0]), "b", ndim=1).shape == (3,)
    frame = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": [0.5, 1.5]})
    np.testing.assert_array_equal(as_matrix(frame), [[1.0, 0.5], [2.0, 1.5]])
    frame.loc[0, "a"] = pd.NA
    with pytest.raises(ValueError, match=r"^A must be finite, but it holds 1 NaN"):
        as_matrix(frame)
    with pytest.raises(TypeError, match=r"^A must hold numbers; this pandas DataFrame has non-numeric values"):
        as_matrix(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}))


@pytest.mark.parametrize("bad", [None, "abc", {"a": 1}, {1, 2}, object()])
def test_anything_else_is_refused_naming_the_argument(bad):
    with pytest.raises(TypeError, match=r"^M must be (a NumPy or other array-API array|an array|hold numbers)"):
        as_matrix(bad, "M")
    with pytest.raises((TypeError, ValueError), match=r"^A "):
        la.rsvd(bad, 2)


def test_sparse_and_operators_are_refused_where_a_function_needs_dense():
    with pytest.raises(TypeError, match=r"^X must be a dense array, got a sparse csr_matrix; pass X.toarray"):
        as_matrix(_sparse("csr"), "X", sparse=False)
    op = sp.linalg.aslinearoperator(np.eye(3))
    with pytest.raises(TypeError, match=r"^X must be an array, got a .*linear operator"):
        as_matrix(op, "X")
    assert as_matrix(op, "X", operator=True) is op


def test_item_7_operator_products_check_their_block():
    op = la.as_operator(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"^X must be finite"):
        op.matmat(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(TypeError, match=r"^X must hold numbers"):
        op.matmat(np.array([["a"], ["b"], ["c"]]))
    with pytest.raises(ValueError, match=r"^X must be 1-D or 2-D"):
        op.matmat(np.ones((3, 2, 2)))
    assert op.n_passes == 0
    assert op.matmat(np.ones((3, 0))).shape == (4, 0) and op.n_passes == 0  # an empty block costs no pass
    np.testing.assert_array_equal(op.matmat([1.0, 1.0, 1.0]), [3.0] * 4)
    assert op.n_passes == 1


def test_random_state_is_refused_with_a_pointer_to_rng():
    with pytest.raises(TypeError, match=r"^rsvd\(\) takes rng= \(scipy's SPEC 7\), not random_state=; pass rng=0$"):
        la.rsvd(np.eye(5), 2, random_state=0)

    @refuse_random_state
    def draw(n, *, rng=None):
        """Draw."""
        return n

    assert draw(2, rng=1) == 2 and draw.__doc__ == "Draw." and draw.__name__ == "draw"
