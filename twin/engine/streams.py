"""Named random streams spawned from one seed, so each stochastic process has its own generator.

A stream's seed depends only on the run seed and the stream's name (not on creation order), so adding a
stream never shifts another; two policies run on the same seed see the same demand and lead-time draws
(common random numbers) as long as each draw comes from a stream whose use does not depend on decisions.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np


def _stream_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._generators: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        generator = self._generators.get(name)
        if generator is None:
            sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=(_stream_key(name),))
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._generators[name] = generator
        return generator

    def state(self) -> dict[str, dict[str, Any]]:
        """Bit-generator states of every stream used so far (for snapshots)."""
        return {name: dict(generator.bit_generator.state) for name, generator in self._generators.items()}

    def restore(self, states: dict[str, dict[str, Any]]) -> None:
        for name, state in states.items():
            self.get(name).bit_generator.state = state
