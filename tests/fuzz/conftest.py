"""The fuzz worker shared by the whole session (one subprocess, restarted after a crash or a hang)."""

import pytest

from ._worker import Worker


@pytest.fixture(scope="session")
def fuzz_worker():
    worker = Worker(timeout=20.0)
    yield worker
    worker.close()
