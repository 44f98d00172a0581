"""Benchmarks: run as modules (``python -m tests.bench.registry``); pytest does not collect them."""
