"""The harness catches what it is for: crashes, hangs, modified inputs, accepted NaN, unnamed errors, answers
that are not scale-equivariant, float32 not kept (deliberately broken callables registered as ``_selftest.*``)."""

from ._worker import Worker


def test_the_harness_catches_each_kind_of_failure():
    worker = Worker(timeout=3.0)
    try:
        cases = [("_selftest.modifies", "A", "fortran", 0),
                 ("_selftest.accepts_nan", "A", "nan", 0), ("_selftest.crashes", "A", "list", 0),
                 ("_selftest.hangs", "A", "list", 0), ("_selftest.squares", "A", "scale_1e-300", 0),
                 ("_selftest.unnamed", "A", "nan", 0), ("_selftest.accepts_nan", "A", "float32", 0),
                 ("_selftest.squares", "A", "nan", 0)]
        records = worker.run(cases)
    finally:
        worker.close()
    got = [r["category"] for r in records]
    want = ["input-modified", "accepted-invalid", "crash", "hang", "silent-wrong", "error-unnamed", "dtype", ""]
    assert got == want, records
    assert worker.restarts == 2


def test_start_up_is_not_counted_against_a_case():
    # importing the library and the registry takes about 3 s (longer than this timeout); the case takes milliseconds
    worker = Worker(timeout=1.5)
    try:
        records = worker.run([("_selftest.squares", "A", "nan", 0), ("_selftest.squares", "A", "nan", 0)])
    finally:
        worker.close()
    assert [r["category"] for r in records] == ["", ""], records
    assert worker.restarts == 0
