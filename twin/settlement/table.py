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
        self._column_names = frozenset(self.columns)
        self._data = {name: np.zeros(INITIAL_CAPACITY, dtype=np.int64) for name in self.columns}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, **values: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Append rows (every column given; scalars broadcast); returns the new row numbers.

        Called thousands of times a run with a few rows each: integers and int64 arrays go straight into
        the columns (the slice assignment broadcasts and casts as ``np.asarray(value, dtype=np.int64)``
        would), so a call costs a few microseconds, not one conversion per column."""
        if values.keys() != self._column_names:
            raise KeyError(f"columns {sorted(self.columns)} expected, got {sorted(values)}")
        count = -1
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                if value.ndim and value.size > count:
                    count = value.size
            elif not isinstance(value, (int, np.integer)):
                array = np.asarray(value, dtype=np.int64)
                values[name] = array
                if array.ndim and array.size > count:
                    count = array.size
        if count < 0:  # scalars only: one row
            count = 1
        start, end = self.size, self.size + count
        self._reserve(end)
        data = self._data
        for name, value in values.items():
            data[name][start:end] = value
        self.size = end
        return np.arange(start, end, dtype=np.int64)

    def _reserve(self, rows: int) -> None:
        capacity = self._data[self.columns[0]].size
        if rows <= capacity:
            return
        while capacity < rows:
            capacity *= 2
        for name in self.columns:
            grown = np.empty(capacity, dtype=np.int64)  # rows past ``size`` are written before they are read
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
