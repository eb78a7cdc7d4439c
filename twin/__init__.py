"""Digital twin of an automotive OEM dealer inventory network.

Layers (imports point one way only): ``twin.domain`` (pure data), ``twin.policies`` (pure decisions, shared
with the live control tower), ``twin.engine`` (SimPy clock and processes), ``twin.io`` (edges: master data,
MLflow, plots), ``twin.cli`` (Hydra entry points).
"""

__version__ = "0.1.0"
