"""Benchmarks of the auth core, run on demand: ``python -m benchmarks.run`` (see its docstring)."""
