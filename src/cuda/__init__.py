"""CUDA C sources of lowrank_la's GPU kernels, compiled at run time by CuPy (see lowrank_la._kernels)."""
