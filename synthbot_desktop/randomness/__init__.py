"""Randomness sources for "enhanced" mode (issue #20): IBM Quantum, the local Aer simulator, the OS CSPRNG.

Qiskit is an optional extra (``pip install synthbot-desktop[quantum]``) and is imported only
when a quantum source is used, so the core never pays for it.
"""
