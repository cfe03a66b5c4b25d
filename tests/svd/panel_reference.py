"""Dense reference SVDs of the small real-data panel (``lowrank_la.datasets.real_panel("small")``), for tests.

``reference_svd(name)`` returns numpy's dense SVD (``numpy.linalg.svd``, LAPACK gesdd) of the panel matrix
`name`: every singular value, and the leading ``N_VECTORS`` singular vectors, signed by lowrank_la's rule (the
largest-magnitude entry of each left singular vector is positive, ``lowrank_la._backend.flip_signs``). The
arrays are read-only (they are shared by every caller in the process).

The large matrices cost time (on one core: ``stdlib_tfidf`` 8,582 x 3,146 about 35 s, ``power_law`` 20,000 x
2,000 about 25 s; ``digits``, ``coffee`` and ``grass`` well under a second), so each result is cached twice: in
the process (``functools.lru_cache``) and on disk in pytest's cache directory
(``.pytest_cache/d/lowrank_la_panel_svd/<name>-<digest>.npz``, a few MB each), under a digest of the matrix's
bytes, so a changed panel is recomputed, never served stale. A missing or unreadable cache file is recomputed;
a read-only checkout just skips the write. Use the cheap matrices in fast tests.

Example (in a test)::

    from tests.svd.panel_reference import reference_svd

    U, s, Vh = reference_svd("coffee")
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import zipfile
from collections import namedtuple
from pathlib import Path

import numpy as np

from lowrank_la import datasets
from lowrank_la._backend import flip_signs

__all__ = ["CACHE_DIR", "N_VECTORS", "PanelSVD", "reference_svd"]

#: Singular vectors kept per matrix (every singular value is kept).
N_VECTORS = 100

#: Where the results persist between test runs: pytest's own cache directory at the repository root.
CACHE_DIR = Path(__file__).resolve().parents[2] / ".pytest_cache" / "d" / "lowrank_la_panel_svd"

#: ``U`` (m, r) and ``Vh`` (r, n): the leading ``r = min(N_VECTORS, m, n)`` singular vectors; ``s``: all
#: ``min(m, n)`` singular values, descending.
PanelSVD = namedtuple("PanelSVD", ["U", "s", "Vh"])


def _digest(A) -> str:
    """A digest of the matrix's shape and bytes (dense, or CSR data, indices and indptr)."""
    h = hashlib.sha256(repr((type(A).__name__, A.shape, str(A.dtype))).encode())
    for part in (A.data, A.indices, A.indptr) if hasattr(A, "indptr") else (A,):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()[:16]


def _compute(A) -> PanelSVD:
    dense = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    U, s, Vh = np.linalg.svd(dense, full_matrices=False)
    r = min(N_VECTORS, s.size)
    U, Vh = flip_signs(U[:, :r], Vh[:r])
    return PanelSVD(np.ascontiguousarray(U), s, np.ascontiguousarray(Vh))


def _load_or_compute(name: str, directory: Path) -> PanelSVD:
    """The reference SVD of panel matrix `name`, read from `directory` if there, else computed and written."""
    A = datasets.real_panel("small")[name]
    path = Path(directory) / f"{name}-{_digest(A)}.npz"
    try:
        with np.load(path) as stored:
            result = PanelSVD(stored["U"], stored["s"], stored["Vh"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # absent, or a damaged file
        result = _compute(A)
        try:  # write a temporary file, then rename: a concurrent reader never sees half a file
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
                np.savez(handle, **result._asdict())
            os.replace(handle.name, path)
        except OSError:  # a read-only checkout: keep the in-process cache only
            pass
    for array in result:
        array.flags.writeable = False
    return result


@functools.cache
def reference_svd(name: str) -> PanelSVD:
    """numpy's dense SVD of ``datasets.real_panel("small")[name]``: all singular values, leading vectors.

    `name` is one of ``lowrank_la.datasets.PANEL``. Cached in the process and in pytest's cache directory.
    """
    if name not in datasets.PANEL:
        raise ValueError(f"name={name!r} must be one of {', '.join(map(repr, datasets.PANEL))}")
    return _load_or_compute(name, CACHE_DIR)
