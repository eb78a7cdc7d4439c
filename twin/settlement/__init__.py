"""Nexa settlement: a double-entry ledger for freight and dealer charges, carrier invoice reconciliation,
weekly settlement cycles with dealer statements, and incentive-claim verification.

Pure layer (numpy only; no SimPy, Hydra or MLflow): the same code settles the simulator's shipments and a
live feed's. Money is integer paise (int64) everywhere; tables are columnar (growable int64 columns), so a
year of the default network (~10^6 journal lines) costs arrays, not Python objects.
"""
