"""The judge of an ``empty_cols_ok`` argument: an (n, 0) block must be accepted and give outputs with no
columns; without the flag it must be refused (checked in this process on small stand-in callables)."""

import numpy as np
import pytest

from ._registry import REGISTRY, A_only, Arg, Spec, single
from ._worker import evaluate


def _twice(A):
    return 2 * np.asarray(A, dtype=float)


def _refuses_empty(A):
    if np.shape(A)[1] == 0:
        raise ValueError("A must have at least one column")
    return _twice(A)


def _one_column_too_many(A):
    return np.zeros((np.shape(A)[0], max(np.shape(A)[1], 1)))


@pytest.mark.parametrize("f, ok, category", [
    (_twice, True, ""),
    (_refuses_empty, True, "refused-valid"),
    (_one_column_too_many, True, "silent-wrong"),
    (_twice, False, "accepted-invalid"),
    (_refuses_empty, False, ""),
])
def test_empty_cols_ok_expects_an_empty_result(monkeypatch, f, ok, category):
    arg = Arg("A", sparse=False, empty_cols_ok=ok)
    name = f"_judged.{f.__name__}.{ok}"  # the worker caches base answers by name
    monkeypatch.setitem(REGISTRY, name, Spec(name, A_only, lambda d: f(d["A"]), single, (arg,)))
    record = evaluate(name, "A", "empty_cols", 0)
    assert record["category"] == category, record
