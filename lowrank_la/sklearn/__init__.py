"""scikit-learn estimators over the algorithms (:mod:`lowrank_la.sklearn`).

Transformers with scikit-learn's estimator API (``fit``/``transform``/``inverse_transform``, ``random_state``,
``get_params``/``set_params``, ``clone``, pipelines, grid searches, pickling, ``set_output``) that pass
scikit-learn's estimator checks. scikit-learn is needed by this subpackage only: ``import lowrank_la`` does not
import it.

Truncated SVD and PCA
---------------------
RandomizedTruncatedSVD   ``TruncatedSVD`` / randomized ``PCA`` (``center=True``) over ``rsvd`` and ``svd_tol``:
                         a number of components or a fraction of the variance, sparse input kept sparse
IncrementalTruncatedSVD  ``IncrementalPCA`` over ``TruncatedSVDUpdater``: ``partial_fit`` on batches of any
                         size, dense or sparse, centred or not

Random projections
------------------
FJLTProjection           fast Johnson-Lindenstrauss transform
SRHTProjection           subsampled randomized Hadamard (or DCT) transform
SparseSignProjection     sparse sign sketch (sparse input gives sparse output)
CountSketchProjection    CountSketch (sparse input gives sparse output)

Imputation
----------
LowRankImputer           fill NaN with a low-rank model (``altmin_complete``); new rows solved against its
                         column factors
"""

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - the test extra installs scikit-learn
    raise ImportError("lowrank_la.sklearn needs scikit-learn >= 1.6: pip install 'lowrank_la[sklearn]'") from exc

from ._imputer import *  # noqa: F403, E402
from ._imputer import __all__ as _imputer_all  # noqa: E402
from ._projection import *  # noqa: F403, E402
from ._projection import __all__ as _projection_all  # noqa: E402
from ._svd import *  # noqa: F403, E402
from ._svd import __all__ as _svd_all  # noqa: E402

__all__ = [*_svd_all, *_projection_all, *_imputer_all]
