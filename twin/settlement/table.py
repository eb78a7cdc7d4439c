"""A growable columnar table of int64 columns: many rows appended per call, amortised O(1) per row.

The ledger, shipment register, disputes, claims and statements are all tables of this kind, so a year of
the default network is a handful of numpy arrays rather than a million Python objects, and a snapshot is a
dict of arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

Column = npt.NDArray[np.int64]
INITIAL_CAPACITY = 1024


class Table:
    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._data = {name: np.zeros(INITIAL_CAPACITY, dtype=np.int64) for name in self.columns}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, **values: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Append rows (every column given; scalars broadcast); returns the new row numbers."""
        missing = set(self.columns) - set(values)
        if missing or set(values) - set(self.columns):
            raise KeyError(f"columns {sorted(self.columns)} expected, got {sorted(values)}")
        arrays = {name: np.asarray(value, dtype=np.int64) for name, value in values.items()}
        count = max((array.size for array in arrays.values() if array.ndim), default=1)
        start, end = self.size, self.size + count
        self._reserve(end)
        for name, array in arrays.items():
            self._data[name][start:end] = array
        self.size = end
        return np.arange(start, end, dtype=np.int64)

    def _reserve(self, rows: int) -> None:
        capacity = self._data[self.columns[0]].size
        if rows <= capacity:
            return
        while capacity < rows:
            capacity *= 2
        for name in self.columns:
            grown = np.zeros(capacity, dtype=np.int64)
            grown[: self.size] = self._data[name][: self.size]
            self._data[name] = grown

    def __getitem__(self, name: str) -> Column:
        """A view of a column's filled rows (writable: state columns such as ``status`` are updated)."""
        return self._data[name][: self.size]

    def arrays(self, prefix: str = "") -> dict[str, Column]:
        return {f"{prefix}{name}": self[name].copy() for name in self.columns}

    def load(self, arrays: Mapping[str, npt.ArrayLike], prefix: str = "") -> None:
        """Replace the contents (snapshot restore, CSV reload)."""
        columns = {name: np.asarray(arrays[f"{prefix}{name}"], dtype=np.int64) for name in self.columns}
        self.size = 0
        if columns[self.columns[0]].size:
            self.append(**columns)
