"""What a dealer's parts counter calls the generated SKUs: descriptions, families, fitments and OEM numbers.

The network generator draws each SKU's class, cost, popularity and supersession first; those draws set every
simulated number. ``name_catalog`` then names the SKUs from a random stream of its own, so a readable catalog
changes no KPI. A SKU gets
- a description as a dealer would type it: "Oil filter Dhruv petrol", "Brake pad set front Arka/Bolt",
  "Tyre 185/65 R15 88H MRF ZVTV", "Seat cover set Dhruv ZXi+ PU leather black";
- a ``category``, the counter's word for the family (filter, brake, clutch, tyre, body_panel, ...);
- ``fits_models``, the models it fits (semicolon-separated; empty = universal), taken from the vehicle specs of
  the same network, with the petrol/diesel/CNG engines each model's variants have;
- an OEM-style ``part_number`` beside the SKU id: a five-digit function group, a three-character model code and a
  suffix (``16510M68K00``). A superseded part keeps its successor's description, as real catalogs do, and its
  number differs only in the revision digit (``16510M68K00`` is superseded by ``16510M68K10``).

The SKU ids (``P000001``) stay as they were: they key snapshots, feeds and saved examples.

Each class draws from a pool of distinct descriptions (every template once before any twice, so a small catalog
still has every family); a catalog larger than its pool stocks the same parts again under supplier brands
("Oil filter Dhruv petrol (Bosch)"), and only past those (or for tyres and batteries, which name their makes)
repeats a description, under another number.
Parts of models that fit more cars (universal oils, platform brake pads) tend to get the more popular SKUs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from twin.domain.parts import FITS_SEPARATOR

#: the naming stream's key next to the generator seed: names never consume the generator's own draws
CATALOG_NAMING_STREAM = 0x5EED_CA7A
#: the model code of a part that fits any vehicle (engine oils, bulbs, fuses)
UNIVERSAL_MODEL_CODE = "990"
#: model codes in the order the vehicle specs list the models (the generator's MODELS)
MODEL_PART_CODES = ("M51", "M55", "M61", "M68", "M74", "M79", "M83", "M86")
#: the series letters of a part number's suffix (I and O are never used: they read as 1 and 0)
SERIES_LETTERS = "KLMNPRSTUVWXYZ"
#: the brands a catalog larger than its pool of parts stocks the same parts under, one round of the pool each
#: ("Oil filter Dhruv petrol (Bosch)"); past them a description repeats under another part number
SUPPLIER_BRANDS = (
    "Bosch",
    "Valeo",
    "Denso",
    "Mahle",
    "Uno Minda",
    "Lumax",
    "Rane",
    "Purolator",
    "Hella",
    "SKF",
    "Gabriel",
    "Mann",
)
PETROL_DIESEL = ("petrol", "diesel")
LEFT_RIGHT = ("LH", "RH")


@dataclass(frozen=True)
class PartTemplate:
    """One kind of part, expanded into one SKU per model (or platform, variant, size), engine and spec.

    ``fits``: ``universal`` (any vehicle), ``model``, ``platform`` (two sister models share it, named
    "Arka/Bolt"), ``variant`` (one trim of a model) or ``size`` (``specs`` are sizes, smallest first, and each
    model takes ``sizes_per_model`` neighbouring ones by its price rank: tyres, batteries)."""

    category: str
    function_group: str
    name: str
    fits: str = "model"
    #: tokens written after the model ("LH", "RH"), or the sizes of a ``size`` template
    specs: tuple[str, ...] = ("",)
    #: one SKU per engine the model has among these (empty: the part does not depend on the engine)
    fuels: tuple[str, ...] = ()
    #: brands and product lines, one SKU each (tyres, batteries)
    makes: tuple[str, ...] = ("",)
    #: only for models at or above this price rank (0 the cheapest model, 1 the dearest)
    from_model_rank: float = 0.0
    sizes_per_model: int = 2
    #: how often the part is asked for beside the class's other parts that fit as many cars (an engine oil
    #: fits every car and sells like it; a horn fits every car and is seldom asked for)
    usage: float = 1.0


TYRE_SIZES = (
    "145/80 R12 74T",
    "155/80 R13 79T",
    "165/80 R14 85T",
    "175/65 R14 82H",
    "185/65 R15 88H",
    "195/55 R16 87V",
    "205/60 R16 92H",
    "215/60 R17 96H",
    "225/65 R17 102H",
    "235/55 R18 100V",
)
TYRE_MAKES = (
    "MRF ZVTV",
    "MRF Wanderer",
    "Apollo Alnac 4G",
    "Apollo Amazer 4G",
    "CEAT SecuraDrive",
    "CEAT Milaze",
    "JK Tyre UX Royale",
    "Bridgestone Ecopia EP150",
    "Bridgestone Turanza T005",
    "Goodyear Assurance TripleMax",
    "Michelin Energy XM2+",
    "Yokohama BluEarth",
    "Continental UltraContact",
    "Hankook Kinergy Eco",
)
BATTERY_SIZES = (
    "12V 32Ah 34B19L",
    "12V 35Ah 38B20L",
    "12V 40Ah 42B20L",
    "12V 45Ah 55B24L",
    "12V 55Ah 65D23L",
    "12V 65Ah 75D23L",
    "12V 75Ah 80D26L",
)
BATTERY_MAKES = (
    "Amaron Go",
    "Amaron Pro",
    "Exide Mileage",
    "Exide Matrix",
    "SF Sonic Flash Start",
    "Tata Green",
    "Bosch S4",
    "Livguard",
)

#: the templates of each part class, in the order a small catalog takes them
TEMPLATES: dict[str, tuple[PartTemplate, ...]] = {
    "fast_mover": (
        PartTemplate("filter", "16510", "Oil filter", fuels=PETROL_DIESEL),
        PartTemplate("filter", "13780", "Air filter element", fuels=PETROL_DIESEL),
        PartTemplate("brake", "55810", "Brake pad set front", fits="platform"),
        PartTemplate(
            "oil_fluid",
            "99000",
            "Engine oil",
            fits="universal",
            specs=(
                "5W-30 3.5 L",
                "0W-20 3.5 L",
                "5W-30 1 L",
                "0W-20 1 L",
                "15W-40 diesel 5 L",
                "5W-40 diesel 3 L",
            ),
            usage=2.0,
        ),
        PartTemplate("filter", "95860", "Cabin AC filter"),
        PartTemplate("ignition", "09482", "Spark plug", fuels=("petrol", "CNG")),
        PartTemplate("wiper", "38340", "Wiper blade front", specs=("driver side", "passenger side")),
        PartTemplate("brake", "53200", "Brake shoe set rear", fits="platform"),
        PartTemplate("clutch", "22400", "Clutch plate", fuels=PETROL_DIESEL),
        PartTemplate("belt", "17521", "Drive belt (fan belt)", fuels=PETROL_DIESEL),
        PartTemplate("filter", "15410", "Fuel filter", fuels=("diesel",)),
        PartTemplate("oil_fluid", "99001", "Coolant long life", fits="universal", specs=("1 L", "2 L")),
        PartTemplate(
            "bulb",
            "35100",
            "Headlamp bulb",
            fits="universal",
            specs=("H4 12V 60/55W", "H7 12V 55W"),
            usage=0.5,
        ),
        PartTemplate("clutch", "22100", "Clutch pressure plate", fuels=PETROL_DIESEL),
        PartTemplate("clutch", "23265", "Clutch release bearing", fuels=PETROL_DIESEL),
        PartTemplate("gasket", "09168", "Oil drain plug washer", fits="universal", specs=("12 mm", "14 mm")),
        PartTemplate("wiper", "38350", "Wiper blade rear"),
        PartTemplate("suspension", "42420", "Stabiliser link front", specs=LEFT_RIGHT),
        PartTemplate("belt", "12761", "Timing belt", fuels=("diesel",)),
        PartTemplate("brake", "55800", "Brake pad set rear", fits="platform", from_model_rank=0.6),
        PartTemplate(
            "electrical", "38500", "Horn", fits="universal", specs=("high tone", "low tone"), usage=0.15
        ),
    ),
    "consumable": (
        PartTemplate(
            "oil_fluid",
            "99002",
            "Brake fluid",
            fits="universal",
            specs=("DOT 3 500 ml", "DOT 4 500 ml", "DOT 4 1 L"),
        ),
        PartTemplate(
            "bulb",
            "35910",
            "Bulb",
            fits="universal",
            specs=(
                "W5W 12V 5W",
                "P21W 12V 21W",
                "P21/5W 12V 21/5W",
                "PY21W amber 12V 21W",
                "R5W 12V 5W",
                "W16W 12V 16W",
                "H11 12V 55W fog lamp",
                "HB3 12V 60W",
                "festoon 31 mm 12V 10W",
                "T5 wedge 12V 1.2W",
            ),
            usage=0.5,
        ),
        PartTemplate(
            "fuse",
            "36130",
            "Fuse blade",
            fits="universal",
            specs=("7.5A", "10A", "15A", "20A", "25A", "30A"),
            usage=0.3,
        ),
        PartTemplate("clip", "09409", "Clip bumper"),
        PartTemplate("oil_fluid", "99003", "Coolant concentrate", fits="universal", specs=("1 L", "5 L")),
        PartTemplate("gasket", "11189", "Valve cover gasket", fuels=PETROL_DIESEL),
        PartTemplate(
            "oil_fluid",
            "99004",
            "Windscreen washer fluid",
            fits="universal",
            specs=("1 L", "concentrate 250 ml"),
        ),
        PartTemplate("clip", "09409", "Clip fender liner"),
        PartTemplate(
            "fuse", "36131", "Fuse mini blade", fits="universal", specs=("5A", "10A", "15A", "20A"), usage=0.3
        ),
        PartTemplate("fastener", "09140", "Oil drain plug", fuels=PETROL_DIESEL),
        PartTemplate(
            "oil_fluid", "99005", "Gear oil", fits="universal", specs=("75W-80 1 L", "75W-90 1 L"), usage=0.7
        ),
        PartTemplate("clip", "09409", "Clip door trim"),
        PartTemplate(
            "grease",
            "99006",
            "Grease",
            fits="universal",
            specs=("multi-purpose 500 g", "wheel bearing 100 g", "CV joint 80 g"),
        ),
        PartTemplate("fastener", "09159", "Wheel nut", fits="platform"),
        PartTemplate("gasket", "17668", "Exhaust manifold gasket", fuels=PETROL_DIESEL),
        PartTemplate(
            "oil_fluid",
            "99007",
            "Automatic transmission fluid ATF",
            fits="universal",
            specs=("1 L", "4 L"),
            usage=0.5,
        ),
        PartTemplate("clip", "09409", "Clip roof lining"),
        PartTemplate(
            "fuse", "36132", "Fusible link", fits="universal", specs=("40A", "60A", "80A"), usage=0.15
        ),
        PartTemplate("oil_fluid", "99008", "CVT fluid", fits="universal", specs=("1 L", "4 L"), usage=0.5),
        PartTemplate("clip", "09409", "Clip bonnet insulator"),
        PartTemplate("gasket", "17671", "Thermostat gasket", fuels=PETROL_DIESEL),
        PartTemplate("air_conditioning", "95999", "AC refrigerant R134a 450 g", fits="universal", usage=0.5),
        PartTemplate("clip", "09409", "Clip radiator grille"),
        PartTemplate(
            "fastener",
            "09401",
            "Hose clamp",
            fits="universal",
            specs=("10-16 mm", "16-25 mm", "20-32 mm", "32-50 mm"),
            usage=0.3,
        ),
        PartTemplate("exhaust", "14281", "Exhaust hanger rubber"),
        PartTemplate("oil_fluid", "99009", "Power steering fluid 1 L", fits="universal", usage=0.3),
        PartTemplate("clip", "09409", "Clip engine undercover"),
        PartTemplate("brake", "55200", "Brake caliper boot kit", fits="platform"),
        PartTemplate(
            "chemical",
            "99010",
            "Cleaner",
            fits="universal",
            specs=(
                "throttle body 500 ml",
                "fuel injector 300 ml",
                "engine flush 300 ml",
                "brake parts 500 ml",
            ),
            usage=0.3,
        ),
        PartTemplate(
            "electrical", "38800", "Relay 12V", fits="universal", specs=("4-pin", "5-pin"), usage=0.2
        ),
        PartTemplate("brake", "53401", "Wheel cylinder repair kit", fits="platform"),
        PartTemplate(
            "air_conditioning", "95998", "AC compressor oil PAG 46 250 ml", fits="universal", usage=0.2
        ),
        PartTemplate(
            "fastener",
            "09402",
            "Cable tie pack of 100",
            fits="universal",
            specs=("200 mm", "300 mm"),
            usage=0.2,
        ),
        PartTemplate("chemical", "99011", "Silicone gasket maker 85 g", fits="universal", usage=0.3),
        PartTemplate("oil_fluid", "99012", "Distilled battery water 1 L", fits="universal", usage=0.3),
        PartTemplate("wiper", "38420", "Wiper arm cap"),
        PartTemplate("wiper", "38480", "Washer nozzle"),
        PartTemplate("fastener", "09139", "Mud guard screw set"),
        PartTemplate("brake", "55810", "Brake pad shim kit", fits="platform"),
        PartTemplate("engine", "16620", "Oil filler cap", fuels=PETROL_DIESEL),
        PartTemplate("engine", "89100", "Fuel tank cap"),
        PartTemplate("gasket", "15719", "Injector O-ring kit", fuels=("diesel",)),
        PartTemplate("gasket", "11193", "Spark plug tube seal", fuels=("petrol",)),
    ),
    "tyre": (PartTemplate("tyre", "42150", "Tyre", fits="size", specs=TYRE_SIZES, makes=TYRE_MAKES),),
    "battery": (
        PartTemplate("battery", "33610", "Battery", fits="size", specs=BATTERY_SIZES, makes=BATTERY_MAKES),
        PartTemplate(
            "battery", "37145", "Key fob battery", fits="universal", specs=("CR2032", "CR2025"), usage=0.3
        ),
        PartTemplate(
            "battery",
            "33660",
            "Battery terminal clamp",
            fits="universal",
            specs=("positive", "negative"),
            usage=0.2,
        ),
    ),
    "accessory": (
        PartTemplate(
            "accessory", "99511", "Floor mat set", specs=("rubber", "carpet black", "carpet beige", "3D tray")
        ),
        PartTemplate(
            "accessory",
            "99521",
            "Seat cover set",
            fits="variant",
            specs=("fabric grey", "PU leather black", "PU leather tan"),
        ),
        PartTemplate("accessory", "99531", "Mud flap set"),
        PartTemplate("accessory", "99541", "Body side moulding", specs=("chrome", "body colour")),
        PartTemplate(
            "accessory", "99900", "Dash camera", fits="universal", specs=("single channel", "dual channel")
        ),
        PartTemplate("accessory", "99551", "Roof rails", from_model_rank=0.5),
        PartTemplate("accessory", "99561", "Door visor set"),
        PartTemplate("accessory", "99571", "Chrome garnish", specs=("tailgate", "fog lamp", "window line")),
        PartTemplate("accessory", "99581", "Car body cover", specs=("silver", "waterproof")),
        PartTemplate(
            "accessory", "99901", "Reverse parking sensor kit 4 sensors", fits="universal", usage=0.3
        ),
        PartTemplate("accessory", "99591", "Sun shade set"),
        PartTemplate("accessory", "99601", "Boot mat"),
        PartTemplate("accessory", "99611", "Scuff plate set", specs=("steel", "illuminated")),
        PartTemplate(
            "accessory", "99902", "Mobile holder", fits="universal", specs=("vent mount", "dashboard")
        ),
        PartTemplate("accessory", "99621", "Fog lamp kit"),
        PartTemplate("accessory", "99631", "Alloy wheel", specs=("silver", "dual tone")),
        PartTemplate("accessory", "99641", "Wheel cover set"),
        PartTemplate("accessory", "99651", "Infotainment system", specs=("7 inch", "9 inch")),
        PartTemplate(
            "accessory", "99903", "Steering wheel cover", fits="universal", specs=("black", "beige")
        ),
        PartTemplate("accessory", "99661", "Rear parking camera kit"),
        PartTemplate("accessory", "99671", "Door edge guard"),
        PartTemplate("accessory", "99681", "Bumper corner protector"),
        PartTemplate("accessory", "99691", "Rear spoiler"),
        PartTemplate(
            "accessory", "99904", "Car perfume", fits="universal", specs=("lime", "ocean", "sandalwood")
        ),
        PartTemplate("accessory", "99905", "Tyre inflator 12V", fits="universal", usage=0.3),
        PartTemplate("accessory", "99906", "First aid kit", fits="universal", usage=0.3),
        PartTemplate("accessory", "99907", "Fire extinguisher 1 kg", fits="universal", usage=0.3),
        PartTemplate("accessory", "99908", "Neck rest cushion", fits="universal", usage=0.3),
        PartTemplate("accessory", "99909", "USB car charger dual port", fits="universal", usage=0.3),
        PartTemplate("accessory", "99910", "Wireless phone charger", fits="universal", usage=0.3),
        PartTemplate("accessory", "99911", "Tyre pressure monitor kit", fits="universal", usage=0.3),
        PartTemplate("accessory", "99912", "Car vacuum cleaner 12V", fits="universal", usage=0.3),
        PartTemplate("accessory", "99913", "Car shampoo 1 L", fits="universal", usage=0.3),
        PartTemplate("accessory", "99914", "Dashboard polish 200 ml", fits="universal", usage=0.3),
        PartTemplate("accessory", "99915", "Car air purifier", fits="universal", usage=0.3),
        PartTemplate("accessory", "99916", "Towing rope 4 m", fits="universal", usage=0.3),
        PartTemplate("accessory", "99917", "Microfibre cloth pack", fits="universal", usage=0.3),
    ),
    "warranty_spare": (
        PartTemplate("body_panel", "71711", "Bumper front"),
        PartTemplate(
            "lighting", "35100", "Headlamp assembly", specs=("LH halogen", "RH halogen", "LH LED", "RH LED")
        ),
        PartTemplate("electrical", "33920", "ECU engine control unit", fuels=PETROL_DIESEL),
        PartTemplate("suspension", "41601", "Shock absorber front", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "57711", "Fender", specs=LEFT_RIGHT),
        PartTemplate("electrical", "31400", "Alternator", fuels=PETROL_DIESEL),
        PartTemplate("cooling", "17700", "Radiator", fuels=PETROL_DIESEL),
        PartTemplate("air_conditioning", "95200", "AC compressor", fuels=PETROL_DIESEL),
        PartTemplate("transmission", "44102", "CV joint outer", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "71811", "Bumper rear"),
        PartTemplate("lighting", "35650", "Tail lamp assembly", specs=LEFT_RIGHT),
        PartTemplate("electrical", "31100", "Starter motor", fuels=PETROL_DIESEL),
        PartTemplate("glass", "84511", "Windshield glass front"),
        PartTemplate(
            "mirror",
            "84701",
            "Outer rear view mirror",
            specs=("LH manual", "RH manual", "LH electric", "RH electric"),
        ),
        PartTemplate("trim", "83711", "Door trim panel front", specs=LEFT_RIGHT),
        PartTemplate("steering", "48810", "Tie rod end", specs=LEFT_RIGHT),
        PartTemplate("engine", "11141", "Cylinder head gasket", fuels=PETROL_DIESEL),
        PartTemplate("brake", "55101", "Brake caliper front", specs=LEFT_RIGHT),
        PartTemplate("exhaust", "14190", "Catalytic converter", fuels=PETROL_DIESEL),
        PartTemplate("body_panel", "57300", "Bonnet"),
        PartTemplate("body_panel", "69100", "Tailgate"),
        PartTemplate("body_panel", "68001", "Door shell front", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "68101", "Door shell rear", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "72111", "Radiator grille"),
        PartTemplate("body_panel", "71730", "Bumper reinforcement front"),
        PartTemplate("body_panel", "63310", "Quarter panel", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "72321", "Wheel arch liner front", specs=LEFT_RIGHT),
        PartTemplate("body_panel", "72131", "Bumper front lower grille"),
        PartTemplate("body_panel", "57401", "Bonnet hinge", specs=LEFT_RIGHT),
        PartTemplate("glass", "84570", "Back glass"),
        PartTemplate("glass", "84501", "Door glass front", specs=LEFT_RIGHT),
        PartTemplate("lighting", "35500", "Fog lamp assembly", specs=LEFT_RIGHT),
        PartTemplate("lighting", "35810", "High mount stop lamp"),
        PartTemplate("lighting", "36400", "Side turn indicator"),
        PartTemplate("lighting", "71741", "Fog lamp bezel", specs=LEFT_RIGHT),
        PartTemplate("trim", "82801", "Door handle outer", specs=LEFT_RIGHT),
        PartTemplate("trim", "73110", "Dashboard upper panel"),
        PartTemplate("electrical", "37400", "Combination switch"),
        PartTemplate("electrical", "37990", "Power window switch driver"),
        PartTemplate("electrical", "83401", "Power window regulator front", specs=LEFT_RIGHT),
        PartTemplate("electrical", "82201", "Central locking actuator front", specs=LEFT_RIGHT),
        PartTemplate("electrical", "34100", "Instrument cluster", specs=("MT", "AT")),
        PartTemplate("electrical", "48150", "Airbag module driver"),
        PartTemplate("electrical", "37480", "Airbag clock spring"),
        PartTemplate("electrical", "56210", "ABS wheel speed sensor front", specs=LEFT_RIGHT),
        PartTemplate("electrical", "56220", "ABS wheel speed sensor rear", specs=LEFT_RIGHT),
        PartTemplate("electrical", "18213", "Oxygen sensor", fuels=("petrol",)),
        PartTemplate("electrical", "33220", "Crankshaft position sensor", fuels=PETROL_DIESEL),
        PartTemplate("electrical", "33400", "Ignition coil", fuels=("petrol",)),
        PartTemplate("electrical", "19110", "Glow plug", fuels=("diesel",)),
        PartTemplate("electrical", "15100", "Fuel pump module", fuels=("petrol",)),
        PartTemplate("electrical", "36620", "Wiring harness engine room", fuels=PETROL_DIESEL),
        PartTemplate("electrical", "38110", "Wiper motor front"),
        PartTemplate("electrical", "37170", "Key with immobiliser transponder"),
        PartTemplate("cooling", "17120", "Radiator fan motor"),
        PartTemplate("cooling", "17400", "Water pump", fuels=PETROL_DIESEL),
        PartTemplate("cooling", "17670", "Thermostat", fuels=PETROL_DIESEL),
        PartTemplate("cooling", "13620", "Intercooler", fuels=("diesel",)),
        PartTemplate("cooling", "17930", "Coolant reservoir"),
        PartTemplate("air_conditioning", "95310", "AC condenser"),
        PartTemplate("air_conditioning", "95410", "AC evaporator"),
        PartTemplate("air_conditioning", "74150", "Blower motor"),
        PartTemplate("air_conditioning", "95430", "AC expansion valve"),
        PartTemplate("suspension", "41700", "Shock absorber rear pair"),
        PartTemplate("suspension", "41111", "Coil spring front"),
        PartTemplate("suspension", "45201", "Lower control arm front", specs=LEFT_RIGHT),
        PartTemplate("suspension", "43401", "Front wheel hub bearing"),
        PartTemplate("suspension", "41710", "Strut mount front"),
        PartTemplate("suspension", "42430", "Stabiliser bar bush"),
        PartTemplate("suspension", "46200", "Rear axle beam"),
        PartTemplate("steering", "48580", "Steering rack assembly"),
        PartTemplate("steering", "48100", "EPS steering column"),
        PartTemplate("transmission", "44101", "Drive shaft", specs=LEFT_RIGHT),
        PartTemplate("transmission", "11610", "Gearbox mount"),
        PartTemplate("transmission", "28300", "Gear shift cable set"),
        PartTemplate("transmission", "28110", "AT selector lever assembly"),
        PartTemplate("clutch", "23810", "Clutch master cylinder"),
        PartTemplate("clutch", "23820", "Clutch slave cylinder"),
        PartTemplate("engine", "12140", "Piston ring set", fuels=PETROL_DIESEL),
        PartTemplate("engine", "12760", "Timing chain kit", fuels=("petrol",)),
        PartTemplate("engine", "13900", "Turbocharger", fuels=("diesel",)),
        PartTemplate("engine", "11620", "Engine mount", fuels=PETROL_DIESEL, specs=LEFT_RIGHT),
        PartTemplate("engine", "16100", "Oil pump", fuels=PETROL_DIESEL),
        PartTemplate("engine", "13400", "Throttle body", fuels=("petrol",)),
        PartTemplate("engine", "18110", "EGR valve", fuels=("diesel",)),
        PartTemplate("engine", "15710", "Fuel injector", fuels=PETROL_DIESEL),
        PartTemplate("engine", "89101", "Fuel tank", fuels=PETROL_DIESEL),
        PartTemplate("exhaust", "14300", "Muffler rear", fuels=PETROL_DIESEL),
        PartTemplate("brake", "51300", "Brake master cylinder"),
        PartTemplate("brake", "56100", "ABS modulator"),
        PartTemplate("brake", "55311", "Brake disc front"),
        PartTemplate("brake", "53210", "Brake drum rear"),
        PartTemplate("body_panel", "69160", "Tailgate gas strut"),
        PartTemplate("trim", "82201", "Door lock assembly front", specs=LEFT_RIGHT),
        PartTemplate("trim", "84910", "Seat belt front", specs=LEFT_RIGHT),
        PartTemplate("wiper", "38450", "Washer tank with motor"),
    ),
}


@dataclass(frozen=True)
class ModelFacts:
    """What naming needs of one vehicle model: its name, part code, price rank, engines and trims."""

    name: str
    code: str
    #: 0 for the cheapest model, 1 for the dearest
    price_rank: float
    fuels: tuple[str, ...]
    #: variant suffixes as the specs write them ("ZXi+", "VXi AT")
    variants: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    description: str
    category: str
    fits_models: tuple[str, ...]
    function_group: str
    model_code: str
    usage: float
    #: False when the template already names brands (tyres, batteries): no supplier brand is added
    may_carry_brand: bool


def models_of(vehicle_specs: pd.DataFrame) -> tuple[ModelFacts, ...]:
    """The models of a spec table in the order it lists them: their engines from the variant names ("VDi",
    "ZDi+" are diesel, "CNG" is CNG, the rest petrol) and their price rank from their cheapest spec."""
    names = tuple(dict.fromkeys(vehicle_specs["model"].astype(str)))
    cheapest = vehicle_specs.groupby("model", sort=False)["price_inr"].min()
    order = np.argsort(np.argsort([float(cheapest[name]) for name in names], kind="stable"), kind="stable")
    facts = []
    for index, name in enumerate(names):
        rows = vehicle_specs["model"].astype(str) == name
        variants = tuple(
            dict.fromkeys(
                variant[len(name) :].strip() if variant.startswith(name) else variant
                for variant in vehicle_specs.loc[rows, "variant"].astype(str)
            )
        )
        fuels = []
        if any(_fuel(variant) == "petrol" for variant in variants):
            fuels.append("petrol")
        if any(_fuel(variant) == "diesel" for variant in variants):
            fuels.append("diesel")
        if any(_fuel(variant) == "CNG" for variant in variants):
            fuels.append("CNG")
        code = MODEL_PART_CODES[index] if index < len(MODEL_PART_CODES) else f"X{index % 100:02d}"
        rank = float(order[index]) / max(1, len(names) - 1)
        facts.append(ModelFacts(name, code, rank, tuple(fuels), variants))
    return tuple(facts)


def _fuel(variant: str) -> str:
    if "CNG" in variant.split():
        return "CNG"
    return "diesel" if re.search(r"Di\b|Di\+", variant) else "petrol"


def _fit_groups(
    template: PartTemplate, models: tuple[ModelFacts, ...]
) -> list[tuple[tuple[ModelFacts, ...], str]]:
    """The model groups a template makes one part for, each with the label written in its description."""
    eligible = [model for model in models if model.price_rank >= template.from_model_rank]
    if template.fits == "universal":
        return [((), "")]
    if template.fits == "model":
        return [((model,), model.name) for model in eligible]
    if template.fits == "variant":
        return [((model,), f"{model.name} {variant}") for model in eligible for variant in model.variants]
    if template.fits == "platform":
        groups = []
        for start in range(0, len(models), 2):
            sisters = tuple(model for model in models[start : start + 2] if model in eligible)
            if sisters:
                groups.append((sisters, "/".join(model.name for model in sisters)))
        return groups
    raise ValueError(f"template {template.name!r}: unknown fits {template.fits!r}")


def _model_code(fitted: tuple[ModelFacts, ...]) -> str:
    if not fitted:
        return UNIVERSAL_MODEL_CODE
    if len(fitted) == 1:
        return fitted[0].code
    return "P" + fitted[0].code[1:]


def _candidates(template: PartTemplate, models: tuple[ModelFacts, ...]) -> list[_Candidate]:
    """Every distinct part a template makes for these models."""
    found = []
    if template.fits == "size":
        taken: list[list[ModelFacts]] = [[] for _ in template.specs]
        span = len(template.specs) - template.sizes_per_model
        for model in models:
            first = round(model.price_rank * span)
            for size_index in range(first, first + template.sizes_per_model):
                taken[size_index].append(model)
        for size, takers in zip(template.specs, taken, strict=True):
            for make in template.makes if takers else ():
                found.append(
                    _Candidate(
                        _join(template.name, size, make),
                        template.category,
                        tuple(model.name for model in takers),
                        template.function_group,
                        _model_code(tuple(takers)),
                        template.usage,
                        template.makes == ("",),
                    )
                )
        return found
    for fitted, label in _fit_groups(template, models):
        if template.fuels:
            engines = {fuel for model in fitted for fuel in model.fuels}
            fuels: tuple[str, ...] = tuple(fuel for fuel in template.fuels if engines and fuel in engines)
        else:
            fuels = ("",)
        for fuel in fuels:
            for spec in template.specs:
                for make in template.makes:
                    found.append(
                        _Candidate(
                            _join(template.name, label, fuel, spec, make),
                            template.category,
                            tuple(model.name for model in fitted),
                            template.function_group,
                            _model_code(fitted),
                            template.usage,
                            template.makes == ("",),
                        )
                    )
    return found


def _join(*words: str) -> str:
    return " ".join(word for word in words if word)


def _pool(part_class: str, models: tuple[ModelFacts, ...], rng: np.random.Generator) -> list[_Candidate]:
    """A class's distinct parts in the order a catalog takes them: one of every template (a random one of
    its parts), then a second of every template that has one, and so on."""
    queues = []
    for template in TEMPLATES[part_class]:
        candidates = _candidates(template, models)
        queues.append([candidates[index] for index in rng.permutation(len(candidates))])
    order: list[_Candidate] = []
    for round_index in range(max((len(queue) for queue in queues), default=0)):
        order.extend(queue[round_index] for queue in queues if round_index < len(queue))
    return order


def _branded(candidate: _Candidate, round_index: int) -> _Candidate:
    """The candidate as the ``round_index``-th pass over the pool stocks it: as is first, then under a brand."""
    if round_index == 0 or not candidate.may_carry_brand or round_index > len(SUPPLIER_BRANDS):
        return candidate
    brand = SUPPLIER_BRANDS[round_index - 1]
    return dataclasses.replace(candidate, description=f"{candidate.description} ({brand})")


def _series(counter: int) -> tuple[str, str]:
    """The ``counter``-th (letters, digit) of a part number's suffix: K0..K9, L0..L9, ..., then two letters."""
    block, digit = divmod(counter, 10)
    letters = ""
    while True:
        block, letter = divmod(block, len(SERIES_LETTERS))
        letters = SERIES_LETTERS[letter] + letters
        if block == 0:
            return letters, str(digit)
        block -= 1


def _newest(successor: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per SKU the newest number of its supersession chain and how many steps away it is."""
    newest = np.arange(successor.size, dtype=np.int64)
    steps = np.zeros(successor.size, dtype=np.int64)
    for _ in range(successor.size):
        following = successor[newest]
        moving = following >= 0
        if not moving.any():
            break
        newest = np.where(moving, following, newest)
        steps += moving
    return newest, steps


def name_catalog(catalog: pd.DataFrame, vehicle_specs: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The generated catalog with ``part_number``, ``description``, ``category`` and ``fits_models`` added;
    its other columns (``sku_id`` too) and its row order unchanged.

    ``catalog`` needs ``sku_id``, ``part_class``, ``superseded_by`` and ``demand_weight``; the random draws come
    from ``numpy.random.default_rng([seed, CATALOG_NAMING_STREAM])`` only."""
    rng = np.random.default_rng([seed, CATALOG_NAMING_STREAM])
    models = models_of(vehicle_specs)
    size = len(catalog)
    sku_ids = catalog["sku_id"].astype(str).tolist()
    position = {sku: index for index, sku in enumerate(sku_ids)}
    successor = np.array(
        [position[str(sku)] if str(sku) else -1 for sku in catalog["superseded_by"].fillna("")],
        dtype=np.int64,
    )
    classes = catalog["part_class"].astype(str).to_numpy()
    weight = catalog["demand_weight"].to_numpy(dtype=np.float64)
    chosen: list[_Candidate | None] = [None] * size
    for part_class in TEMPLATES:
        members = np.flatnonzero(classes == part_class)
        if not members.size:
            continue
        pool = _pool(part_class, models, rng)
        if not pool:
            raise ValueError(f"no {part_class} part fits the models {[model.name for model in models]}")
        picks = [_branded(pool[index % len(pool)], index // len(pool)) for index in range(members.size)]
        # parts asked for more often, or fitting more cars, go on the whole to the SKUs that sell more
        appeal = np.array(
            [pick.usage * (len(pick.fits_models) or max(1, len(models))) for pick in picks], dtype=np.float64
        )
        score = appeal * rng.lognormal(0.0, 1.0, members.size)
        by_score = np.argsort(-score, kind="stable")
        by_weight = members[np.argsort(-weight[members], kind="stable")]
        for sku, pick in zip(by_weight, by_score, strict=True):
            chosen[sku] = picks[pick]
    newest, steps = _newest(successor)
    counters: dict[tuple[str, str], int] = {}
    base: dict[int, str] = {}
    suffix_digit: dict[int, str] = {}
    for root in np.flatnonzero(newest == np.arange(size)):
        pick = chosen[root]
        if pick is None:
            raise ValueError(f"part class {classes[root]!r} of SKU {sku_ids[root]!r} has no naming templates")
        key = (pick.function_group, pick.model_code)
        counter = counters.get(key, 0)
        counters[key] = counter + 1
        letters, digit = _series(counter)
        base[int(root)] = f"{pick.function_group}{pick.model_code}{letters}"
        suffix_digit[int(root)] = digit
    # within a supersession chain the oldest number is revision 0 and the newest the highest
    revision = np.zeros(size, dtype=np.int64)
    superseded = np.flatnonzero(newest != np.arange(size))
    for current in np.unique(newest[superseded]):
        chain = np.flatnonzero(newest == current)
        oldest_first = chain[np.lexsort((chain, -steps[chain]))]
        revision[oldest_first] = np.arange(oldest_first.size)
    part_number = [
        f"{base[int(newest[index])]}{revision[index]}{suffix_digit[int(newest[index])]}"
        for index in range(size)
    ]
    named = [chosen[int(newest[index])] for index in range(size)]
    described = catalog.copy()
    described["part_number"] = part_number
    described["description"] = [pick.description if pick else "" for pick in named]
    described["category"] = [pick.category if pick else "" for pick in named]
    described["fits_models"] = [FITS_SEPARATOR.join(pick.fits_models) if pick else "" for pick in named]
    leading = ["sku_id", "part_number", "description", "category", "fits_models"]
    return described[leading + [column for column in described.columns if column not in leading]]
