"""The fuzz suite: every public callable x every mutation of each of its array arguments (issue 15).

One test per callable runs the deterministic sweep of its cases in the shared worker and lists every failing
mutation with its outcome; a hypothesis test draws further (callable, argument, mutation, seed) combinations,
on other seeds. See ``_worker`` for the outcome categories and ``_mutations`` for what each mutation expects.
"""

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from ._cases import all_cases, cases_for, format_failures
from ._registry import REGISTRY


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if not n.startswith("_")))
def test_sweep(fuzz_worker, name):
    cases = cases_for(name)
    failures = format_failures(cases, fuzz_worker.run(cases))
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


CASES = all_cases()


# no shrinking: a case is already minimal (a name, a mutation, a seed), and each shrink step costs a worker call
@settings(derandomize=True, deadline=None, max_examples=60, database=None, phases=(Phase.explicit, Phase.generate))
@given(index=st.integers(0, len(CASES) - 1), seed=st.integers(1, 2**16))
def test_random_cases(fuzz_worker, index, seed):
    name, arg, mutation, _ = CASES[index]
    case = (name, arg, mutation, seed)
    failures = format_failures([case], fuzz_worker.run([case]))
    assert not failures, failures[0]
