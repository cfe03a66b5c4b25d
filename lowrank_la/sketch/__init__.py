"""Sketching: random dimension-reducing maps and the fast Walsh-Hadamard transform.

Every sketch is a random ``k x d`` linear map ``S`` with ``E ||S x||^2 = ||x||^2``, with one interface
(``S @ X``, ``S.apply(X, axis)``, ``S.T``, ``S.todense()``, ``S.as_linear_operator()``, and scikit-learn's
``fit``/``transform``); the other subpackages draw them by name with :func:`make_sketch`.

=======================  ===========================================================================
:class:`Gaussian`        dense i.i.d. ``N(0, 1/k)`` entries
:class:`SparseSign`      ``s`` entries ``+-1/sqrt(s)`` per column (Kane-Nelson); for sparse data
:class:`CountSketch`     one ``+-1`` per column (``SparseSign`` with ``s = 1``)
:class:`SRHT`            subsampled randomized Hadamard (or DCT) transform
:class:`FJLT`            fast Johnson-Lindenstrauss transform, with the sparser FHL density rule
:class:`VerySparse`      Li-Hastie-Church very sparse projection (scikit-learn's default density)
:class:`Achlioptas`      entries ``sqrt(3/k) * {+1, 0, -1}``
:func:`make_sketch`      any of them by name
:func:`fwht`             fast Walsh-Hadamard transform (Numba on CPU, CUDA on CuPy)
:func:`pad_pow2`         zero-pad to the next power of two; :func:`next_pow2`
:func:`jl_min_dim`       the Johnson-Lindenstrauss target dimension (scikit-learn's formula)
:func:`max_distortion`   largest distortion of pairwise squared distances by an embedding
:func:`lstsq_sketched`   least squares by sketch-and-precondition (Blendenpik/LSRN style)
=======================  ===========================================================================
"""

from ._fwht import *  # noqa: F403
from ._fwht import __all__ as _fwht_all
from ._jl import *  # noqa: F403
from ._jl import __all__ as _jl_all
from ._lstsq import *  # noqa: F403
from ._lstsq import __all__ as _lstsq_all
from ._operators import *  # noqa: F403
from ._operators import __all__ as _operators_all

__all__ = _fwht_all + _jl_all + _lstsq_all + _operators_all
