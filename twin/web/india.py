"""A schematic outline of India and the projection that puts dealers on it (an SVG drawn on the server).

The outline is a coarse hand-made polygon of the mainland (about 70 points, longitude/latitude in degrees):
enough to see where dealers sit, not a survey map. The projection is equirectangular with the longitude
scaled by the cosine of the mid latitude, so distances look right in the middle of the country.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: (longitude, latitude) clockwise from the Rann of Kutch
OUTLINE: tuple[tuple[float, float], ...] = (
    (68.2, 23.7),
    (68.9, 24.3),
    (70.0, 24.2),
    (70.6, 25.7),
    (70.1, 26.6),
    (69.5, 27.0),
    (70.6, 28.0),
    (71.9, 28.0),
    (72.9, 29.0),
    (73.9, 30.0),
    (74.6, 31.1),
    (74.7, 32.5),
    (74.0, 32.8),
    (73.6, 33.6),
    (74.0, 34.6),
    (73.8, 35.1),
    (74.5, 36.9),
    (75.8, 36.7),
    (77.0, 35.7),
    (78.0, 35.5),
    (79.5, 34.4),
    (78.9, 33.3),
    (79.5, 32.5),
    (78.7, 31.9),
    (79.0, 31.1),
    (80.2, 30.6),
    (81.0, 30.2),
    (80.1, 28.8),
    (81.3, 28.1),
    (83.3, 27.4),
    (84.6, 27.3),
    (85.9, 26.6),
    (88.0, 26.4),
    (88.2, 26.9),
    (88.1, 27.9),
    (88.8, 27.4),
    (89.0, 26.8),
    (90.5, 26.8),
    (92.0, 26.9),
    (92.1, 27.8),
    (93.8, 28.7),
    (95.4, 29.3),
    (96.2, 29.4),
    (97.4, 28.2),
    (96.6, 27.4),
    (95.3, 26.7),
    (95.0, 25.7),
    (94.6, 25.0),
    (94.2, 23.9),
    (93.4, 23.0),
    (93.2, 22.2),
    (92.6, 21.9),
    (92.3, 23.7),
    (91.8, 23.1),
    (91.4, 24.1),
    (92.3, 24.9),
    (91.0, 25.2),
    (89.9, 25.3),
    (89.8, 26.0),
    (88.9, 26.2),
    (88.1, 25.2),
    (88.7, 24.3),
    (88.7, 23.2),
    (89.1, 22.0),
    (88.2, 21.6),
    (87.1, 21.5),
    (86.7, 20.6),
    (85.9, 19.8),
    (84.8, 19.2),
    (83.4, 17.9),
    (82.3, 16.9),
    (81.3, 16.3),
    (80.3, 15.4),
    (80.1, 14.0),
    (80.3, 13.0),
    (79.8, 11.8),
    (79.8, 10.3),
    (79.0, 9.3),
    (78.2, 8.8),
    (77.5, 8.1),
    (76.9, 8.6),
    (76.3, 9.8),
    (75.8, 11.2),
    (75.2, 12.2),
    (74.8, 12.9),
    (74.4, 14.5),
    (73.8, 15.5),
    (73.3, 17.0),
    (72.9, 18.9),
    (72.8, 20.4),
    (72.6, 21.3),
    (72.2, 21.9),
    (71.3, 20.8),
    (70.1, 21.0),
    (69.0, 22.3),
    (70.4, 22.9),
    (69.2, 22.8),
)

MARGIN_DEGREES = 1.0


@dataclass(frozen=True)
class Projection:
    """Degrees to SVG units over a bounding box that holds the outline and every dealer."""

    west: float
    east: float
    south: float
    north: float
    pixels_per_degree: float = 22.0

    @classmethod
    def around(cls, points: list[tuple[float, float]]) -> Projection:
        longitudes = [longitude for longitude, _ in (*OUTLINE, *points)]
        latitudes = [latitude for _, latitude in (*OUTLINE, *points)]
        return cls(
            min(longitudes) - MARGIN_DEGREES,
            max(longitudes) + MARGIN_DEGREES,
            min(latitudes) - MARGIN_DEGREES,
            max(latitudes) + MARGIN_DEGREES,
        )

    @property
    def _x_scale(self) -> float:
        return self.pixels_per_degree * math.cos(math.radians((self.south + self.north) / 2.0))

    @property
    def width(self) -> int:
        return round((self.east - self.west) * self._x_scale)

    @property
    def height(self) -> int:
        return round((self.north - self.south) * self.pixels_per_degree)

    def xy(self, longitude: float, latitude: float) -> tuple[float, float]:
        return (
            round((longitude - self.west) * self._x_scale, 1),
            round((self.north - latitude) * self.pixels_per_degree, 1),
        )

    def outline_path(self) -> str:
        points = [self.xy(longitude, latitude) for longitude, latitude in OUTLINE]
        return "M" + " L".join(f"{x},{y}" for x, y in points) + " Z"
