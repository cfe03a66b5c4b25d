"""Packaging for lowrank_la (see README.md)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "lowrank_la" / "__init__.py").read_text()).group(1)

EXPERIMENTS = ["matplotlib>=3.7", "tqdm>=4.64", "scikit-learn>=1.3", "scikit-image>=0.21"]
DASK = ["dask[array]>=2024.1", "distributed>=2024.1", "zarr>=2.16", "h5py>=3.9"]  # zarr, h5py: out-of-core input
EXTRAS = {
    "experiments": EXPERIMENTS,
    "dask": DASK,
    "gpu": ["cupy-cuda13x>=13.6"],
    "sklearn": ["scikit-learn>=1.6"],
    "test": EXPERIMENTS + DASK + ["pytest>=7.4", "hypothesis>=6.90", "array-api-strict>=2.0", "ruff>=0.6",
                                  "scikit-learn>=1.6", "pandas>=2.0"],
    "bench": ["asv>=0.6.4", "virtualenv", "scikit-learn>=1.6", "scikit-image>=0.21", *DASK,
              "fbpca>=1.0", "fht-cpu>=1.0", "tensorly>=0.8", "gensim>=4.3", "incsvd>=0.2", "pylops>=2.0",
              "cosmic-ray>=8.7", "coverage>=7.0"],  # cosmic-ray, coverage: tools/mutation_sample.py
    "dev": ["mypy>=1.10"],  # the type check of .ci/run
    "docs": ["sphinx>=7.2", "numpydoc>=1.6", "pydata-sphinx-theme>=0.15", "matplotlib>=3.7"],
}

setup(
    name="lowrank_la",
    version=VERSION,
    description="Low-rank and randomized numerical linear algebra on NumPy, CuPy and Dask",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    license_files=["LICENSE"],
    python_requires=">=3.10",
    packages=find_packages(include=["lowrank_la", "lowrank_la.*"]) + ["lowrank_la._cuda"],
    # The CUDA sources live in src/cuda and are carried inside the package, so that wheels hold them.
    package_dir={"lowrank_la._cuda": "src/cuda"},
    package_data={"lowrank_la": ["py.typed"], "lowrank_la._cuda": ["*.cu", "*.cuh"]},
    install_requires=[
        "numpy>=1.25",
        "scipy>=1.11",
        "numba>=0.59",
        "array-api-compat>=1.9",
        "threadpoolctl>=3.1",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["lowrank-la = lowrank_la.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Mathematics",
    ],
)
