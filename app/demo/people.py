"""Who a synthetic firm is: owner, name, place, registration facts. Names are made up from the lists in places."""

from __future__ import annotations

import random

from app.demo.model import ChainSpec, Firm
from app.demo.places import Country, Product

EDUCATION = {"none": 20, "primary": 45, "secondary": 28, "tertiary": 7}
LEGAL = {"informal": 78, "registered": 15, "cooperative": 7}


def firm_name(product: Product, given: str, surname: str, taken: set[str]) -> str:
    """A name not yet taken in the panel (the roster is matched by name): surname, then given name, then a number."""
    candidates = [f"{surname} {product.business}", f"{given} {surname} {product.business}"]
    name = next((c for c in candidates if c not in taken), "")
    number = 2
    while not name:
        candidate = f"{surname} {product.business} {number}"
        name = candidate if candidate not in taken else ""
        number += 1
    taken.add(name)
    return name


def _phone(rng: random.Random, country: Country) -> str:
    digits = "".join(rng.choices("0123456789", k=8))
    return f"{country.phone_prefix}{digits[:2]} {digits[2:5]} {digits[5:]}"


def new_firm(
    rng: random.Random,
    chain: ChainSpec,
    country: Country,
    product: Product,
    taken: set[str],
    *,
    number: int,
    baseline_year: int,
    participant: bool,
    female: bool,
    micro: bool,
) -> Firm:
    given = rng.choice(country.female if female else country.male)
    surname = rng.choice(country.surnames)
    admin1, lat, lon, districts = rng.choice(country.areas)
    admin2 = rng.choice(districts)
    age = rng.randint(20, 68)
    rural_share = 0.9 if chain.sector == "agriculture" else 0.65
    group_member = rng.random() < (0.6 if participant else 0.35)
    gps = (
        f"{lat + rng.gauss(0, 0.12):.6f} {lon + rng.gauss(0, 0.12):.6f} "
        f"{rng.uniform(5, 2400):.1f} {rng.uniform(3, 15):.1f}"
    )
    return Firm(
        key=f"{chain.code}#{number + 1:05d}",
        chain=chain.code,
        sector=chain.sector,
        participant=participant,
        name=firm_name(product, given, surname, taken),
        phone=_phone(rng, country),
        owner_name=f"{given} {surname}",
        owner_sex="female" if female else "male",
        owner_birth_year=baseline_year - age,
        owner_education=rng.choices(list(EDUCATION), list(EDUCATION.values()))[0],
        admin1=admin1,
        admin2=admin2,
        admin3=f"Ward {rng.randint(1, 6)}",
        urban_rural="rural" if rng.random() < rural_share else "urban",
        gps=gps,
        year_started=baseline_year - min(age - 16, 1 + int(rng.expovariate(1 / 9))),
        legal_status=rng.choices(list(LEGAL), list(LEGAL.values()))[0],
        group_member=group_member,
        micro=micro,
    )
