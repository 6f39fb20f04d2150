"""Benchmarks: ``make bench`` runs ``bench/exchange.py``; the other modules are its parts."""
