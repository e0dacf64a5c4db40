"""Benchmarks: generated dossier exports at province scale and the load/query timings on them."""
