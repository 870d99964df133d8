"""Benchmarks: ``make bench`` runs them all through ``bench/run_all.py``."""
