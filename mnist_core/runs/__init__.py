"""Runs: trainings in background threads, their records, and the store that keeps them.

`records` (what a run is, as plain values) ← `store` (runs on disk) ← `train`
(one training) ← `registry` (every run of a server, a queue). Each imports only
those before it.
"""
