"""What Clara can recognise in a dealer's text: the network's names and ids, read once from the world.

The vocabulary is plain lower-cased strings mapped to master-data ids, so recognising a name is a dictionary or
fuzzy look-up and the classifier's training corpus can be filled from the same names dealers will type. It is
built from the ``World`` (generated or the user's own master data); nothing here is hard-coded to the default
network.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from twin.domain.world import World

#: words in a dealer's name that say "a dealership", not which one (dropped to find the city part)
DEALER_NAME_GENERIC_WORDS = frozenset(
    {
        "motors",
        "motor",
        "auto",
        "autos",
        "automobiles",
        "cars",
        "car",
        "dealers",
        "dealer",
        "wheels",
        "pvt",
        "ltd",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9+]+")


def normalise(text: str) -> str:
    """Lower case, every run of punctuation or space one space (``+`` kept: it is part of ``ZXi+``)."""
    return _NON_WORD.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class PartEntry:
    """One SKU as a dealer may name it: its number(s), its description words and the models it fits."""

    sku_id: str
    part_number: str
    description: str
    category: str
    fits_models: tuple[str, ...]
    #: index of the SKU that replaces this one in the catalog, -1 when current
    superseded_by: int


@dataclass(frozen=True)
class Vocabulary:
    """Names and ids of one network, lower-cased for matching; see ``from_world``."""

    #: dealer id ("D0042") -> dealer name ("Pune Motors 3")
    dealer_names: dict[str, str]
    #: normalised full dealer name -> dealer id
    dealer_by_name: dict[str, str]
    #: normalised city (the dealer name without its generic words and number) -> dealer ids in that city
    dealers_by_city: dict[str, tuple[str, ...]]
    #: model names as written ("Dhruv")
    models: tuple[str, ...]
    #: model -> its variant suffixes as written ("ZXi+", "VXi AT")
    variants_by_model: dict[str, tuple[str, ...]]
    #: colour names as written ("Magma Grey")
    colours: tuple[str, ...]
    #: (model, variant suffix, colour) -> spec id; spec id -> (model, variant suffix, colour)
    spec_by_parts: dict[tuple[str, str, str], str]
    spec_parts: dict[str, tuple[str, str, str]]
    #: stockyard id -> name; normalised names and cities -> stockyard id
    stockyard_names: dict[str, str]
    stockyard_by_name: dict[str, str]
    #: carrier id -> name; normalised name and its distinctive first word -> carrier id
    carrier_names: dict[str, str]
    carrier_by_name: dict[str, str]
    #: plant and parts-DC ids -> names (recognised as ids, so their codes are not read as part numbers)
    site_names: dict[str, str]
    parts: tuple[PartEntry, ...] = field(default=())
    #: upper-cased sku id or part number without separators -> sku id
    sku_by_number: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_world(cls, world: World) -> Vocabulary:
        network = world.network
        dealers = network.dealers
        dealer_names = {
            str(key): str(name) for key, name in zip(dealers.dealer_id, dealers.name, strict=True)
        }
        dealer_by_name: dict[str, str] = {}
        by_city: dict[str, list[str]] = defaultdict(list)
        for dealer_id, name in dealer_names.items():
            dealer_by_name[normalise(name)] = dealer_id
            city = " ".join(
                word
                for word in normalise(name).split()
                if word not in DEALER_NAME_GENERIC_WORDS and not word.isdigit()
            )
            if city:
                by_city[city].append(dealer_id)
        specs = world.specs
        models = tuple(str(name) for name in specs.model_names)
        variants_by_model: dict[str, list[str]] = {model: [] for model in models}
        spec_by_parts: dict[tuple[str, str, str], str] = {}
        spec_parts: dict[str, tuple[str, str, str]] = {}
        for spec_id, model_index, variant_index, colour_index in zip(
            specs.spec_id, specs.model, specs.variant, specs.colour, strict=True
        ):
            model = models[int(model_index)]
            variant_name = str(specs.variant_names[int(variant_index)])
            suffix = variant_name[len(model) :].strip() if variant_name.startswith(model) else variant_name
            if suffix not in variants_by_model[model]:
                variants_by_model[model].append(suffix)
            colour = str(specs.colour_names[int(colour_index)])
            spec_by_parts.setdefault((model, suffix, colour), str(spec_id))
            spec_parts[str(spec_id)] = (model, suffix, colour)
        yards = network.stockyards
        stockyard_names = {str(key): str(name) for key, name in zip(yards.site_id, yards.name, strict=True)}
        stockyard_by_name: dict[str, str] = {}
        for yard_id, name in stockyard_names.items():
            stockyard_by_name[normalise(name)] = yard_id
            place = " ".join(word for word in normalise(name).split() if word not in {"yard", "stockyard"})
            if place:
                stockyard_by_name.setdefault(place, yard_id)
                stockyard_by_name.setdefault(place.split()[0], yard_id)
        carriers = network.carriers
        carrier_names = {
            str(key): str(name) for key, name in zip(carriers.carrier_id, carriers.name, strict=True)
        }
        carrier_by_name: dict[str, str] = {}
        for carrier_id, name in carrier_names.items():
            carrier_by_name[normalise(name)] = carrier_id
            carrier_by_name.setdefault(normalise(name).split()[0], carrier_id)
        site_names = {
            str(key): str(name)
            for sites in (network.plants, network.parts_dcs)
            for key, name in zip(sites.site_id, sites.name, strict=True)
        }
        parts = _part_entries(world, models)
        sku_by_number: dict[str, str] = {}
        for entry in parts:
            sku_by_number[_compact(entry.sku_id)] = entry.sku_id
            if entry.part_number:
                sku_by_number.setdefault(_compact(entry.part_number), entry.sku_id)
        return cls(
            dealer_names=dealer_names,
            dealer_by_name=dealer_by_name,
            dealers_by_city={city: tuple(ids) for city, ids in by_city.items()},
            models=models,
            variants_by_model={model: tuple(names) for model, names in variants_by_model.items()},
            colours=tuple(str(name) for name in specs.colour_names),
            spec_by_parts=spec_by_parts,
            spec_parts=spec_parts,
            stockyard_names=stockyard_names,
            stockyard_by_name=stockyard_by_name,
            carrier_names=carrier_names,
            carrier_by_name=carrier_by_name,
            site_names=site_names,
            parts=parts,
            sku_by_number=sku_by_number,
        )

    @property
    def described_parts(self) -> tuple[PartEntry, ...]:
        """Parts whose description a dealer could type (a placeholder like "fast mover #3" is not one)."""
        return tuple(entry for entry in self.parts if entry.description and "#" not in entry.description)

    def digest(self) -> str:
        """A short fingerprint of everything the classifier's corpus is filled from (its cache key)."""
        hasher = hashlib.sha256()
        for values in (
            sorted(self.dealer_names.items()),
            self.models,
            sorted(self.variants_by_model.items()),
            self.colours,
            sorted(self.stockyard_names.items()),
            sorted(self.carrier_names.items()),
            [(entry.sku_id, entry.part_number, entry.description) for entry in self.described_parts],
        ):
            hasher.update(repr(values).encode("utf-8"))
        return hasher.hexdigest()[:16]


def _compact(number: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", number.upper())


def _column(parts: Any, name: str, size: int) -> list[Any] | None:
    """A catalog column that a richer catalog may carry (description, category, fits, part number), or None."""
    values = getattr(parts, name, None)
    if values is None:
        return None
    listed = list(values)
    return listed if len(listed) == size else None


def _part_entries(world: World, models: tuple[str, ...]) -> tuple[PartEntry, ...]:
    parts = world.parts
    size = len(parts.sku_id)
    descriptions = _column(parts, "description", size) or [""] * size
    categories = _column(parts, "category", size) or [""] * size
    numbers = _column(parts, "part_number", size) or [""] * size
    fits = _column(parts, "fits_models", size) or [()] * size
    entries = []
    for index, sku_id in enumerate(parts.sku_id):
        fit = fits[index]
        if isinstance(fit, str):
            fit_models = tuple(name for name in re.split(r"[|;,]\s*", fit) if name in models)
        else:
            fit_models = tuple(str(name) for name in fit if str(name) in models)
        entries.append(
            PartEntry(
                sku_id=str(sku_id),
                part_number=str(numbers[index] or ""),
                description=str(descriptions[index] or ""),
                category=str(categories[index] or ""),
                fits_models=fit_models,
                superseded_by=int(parts.superseded_by[index]),
            )
        )
    return tuple(entries)
