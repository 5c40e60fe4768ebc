"""Plausible places, names, prices and units for synthetic firms. Illustrative data, not survey facts.

Countries not listed here get generic areas and names; currencies not listed are taken as worth one US dollar.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    utc_offset: str  # of interview timestamps, e.g. +03:00
    phone_prefix: str
    areas: tuple[tuple[str, float, float, tuple[str, ...]], ...]  # admin1, lat, lon, admin2 names
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]


COUNTRIES: dict[str, Country] = {
    "KEN": Country(
        "+03:00",
        "+254 7",
        (
            ("Murang'a", -0.78, 37.04, ("Kandara", "Kigumo", "Kangema", "Gatanga")),
            ("Kiambu", -1.03, 36.87, ("Gatundu North", "Githunguri", "Limuru")),
            ("Meru", 0.05, 37.65, ("Imenti South", "Tigania West", "Buuri")),
            ("Embu", -0.53, 37.45, ("Runyenjes", "Manyatta", "Mbeere North")),
            ("Nakuru", -0.30, 36.07, ("Molo", "Njoro", "Subukia")),
            ("Machakos", -1.52, 37.26, ("Mwala", "Kangundo", "Masinga")),
        ),
        ("Grace", "Wanjiru", "Mary", "Njeri", "Faith", "Akinyi", "Mercy", "Wambui", "Esther", "Nyambura"),
        ("John", "Kamau", "Peter", "Otieno", "Joseph", "Mwangi", "David", "Kiprono", "Samuel", "Njoroge"),
        ("Wanjiku", "Kamau", "Mwangi", "Otieno", "Njoroge", "Kariuki", "Mutua", "Kimani", "Wafula", "Chege"),
    ),
    "GTM": Country(
        "-06:00",
        "+502 5",
        (
            ("Sololá", 14.77, -91.18, ("Santiago Atitlán", "Nahualá", "San Juan La Laguna")),
            ("Quetzaltenango", 14.84, -91.52, ("Salcajá", "Zunil", "Cantel")),
            ("Totonicapán", 14.91, -91.36, ("Momostenango", "San Cristóbal Totonicapán")),
            ("Sacatepéquez", 14.56, -90.73, ("San Antonio Aguas Calientes", "Santa Catarina Barahona")),
            ("Huehuetenango", 15.32, -91.47, ("Todos Santos Cuchumatán", "San Juan Atitán")),
            ("Alta Verapaz", 15.47, -90.37, ("Cobán", "San Pedro Carchá")),
        ),
        ("María", "Juana", "Rosa", "Catarina", "Manuela", "Francisca", "Ana", "Micaela", "Tomasa", "Lucía"),
        ("Juan", "Diego", "Francisco", "Pedro", "Tomás", "Miguel", "José", "Andrés", "Nicolás", "Gaspar"),
        ("Chávez", "Sicay", "Tzoc", "Ixcoy", "Cumes", "López", "Xoy", "Batz", "Pérez", "Quiej"),
    ),
    "ZMB": Country(
        "+02:00",
        "+260 97",
        (
            ("Eastern", -13.63, 32.65, ("Chipata", "Katete", "Petauke", "Lundazi")),
            ("Central", -14.45, 28.45, ("Kabwe", "Mumbwa", "Mkushi")),
            ("Southern", -16.80, 26.98, ("Choma", "Monze", "Namwala")),
            ("Lusaka", -15.42, 28.28, ("Chongwe", "Rufunsa")),
            ("Western", -15.25, 23.13, ("Mongu", "Kaoma")),
        ),
        ("Mwila", "Chanda", "Bupe", "Mutinta", "Natasha", "Thandiwe", "Chipo", "Mercy", "Lweendo", "Nalukui"),
        ("Bwalya", "Mulenga", "Chola", "Hamoonga", "Banda", "Phiri", "Lungu", "Mwansa", "Tembo", "Sakala"),
        ("Banda", "Phiri", "Mwale", "Zulu", "Tembo", "Mulenga", "Hamaundu", "Lungu", "Sakala", "Ngoma"),
    ),
    "IND": Country(
        "+05:30",
        "+91 9",
        (
            ("Uttarakhand", 30.07, 79.02, ("Dehradun", "Nainital", "Almora")),
            ("Maharashtra", 19.66, 75.30, ("Nashik", "Pune", "Satara")),
            ("Karnataka", 15.32, 75.71, ("Kolar", "Chikkaballapur", "Belagavi")),
            ("Himachal Pradesh", 31.10, 77.17, ("Shimla", "Solan", "Kullu")),
        ),
        ("Sunita", "Lakshmi", "Anita", "Savita", "Kamala", "Geeta", "Rekha", "Meena", "Usha", "Parvati"),
        ("Ramesh", "Suresh", "Rajesh", "Mahesh", "Ganesh", "Vijay", "Anil", "Prakash", "Ravi", "Santosh"),
        ("Patil", "Rawat", "Negi", "Gowda", "Shinde", "Thakur", "Reddy", "Jadhav", "Bisht", "Naik"),
    ),
    "GHA": Country(
        "+00:00",
        "+233 24",
        (
            ("Upper East", 10.79, -0.85, ("Bolgatanga", "Bongo", "Kassena-Nankana")),
            ("Northern", 9.40, -0.85, ("Tamale", "Savelugu")),
            ("Ashanti", 6.69, -1.62, ("Ejisu", "Bosomtwe")),
        ),
        ("Akosua", "Adwoa", "Amina", "Ayisha", "Abena", "Atinga", "Azara", "Fuseina", "Mary", "Ama"),
        ("Kwame", "Kofi", "Yaw", "Abdul", "Issah", "Atanga", "Kojo", "Francis", "Mohammed", "Akolgo"),
        ("Atanga", "Akolgo", "Ayamga", "Azure", "Abugri", "Mensah", "Issah", "Adongo", "Asaaba", "Anaba"),
    ),
    "MDG": Country(
        "+03:00",
        "+261 34",
        (
            ("Analamanga", -18.91, 47.53, ("Ambohidratrimo", "Manjakandriana")),
            ("Vakinankaratra", -19.87, 47.03, ("Antsirabe II", "Betafo")),
            ("Haute Matsiatra", -21.45, 47.09, ("Ambalavao", "Fianarantsoa II")),
            ("Boeny", -15.72, 46.32, ("Mahajanga II", "Marovoay")),
        ),
        ("Voahangy", "Hanta", "Lalao", "Nirina", "Fara", "Tiana", "Haingo", "Soa", "Vola", "Noro"),
        ("Rivo", "Hery", "Tahina", "Rado", "Faly", "Mamy", "Naina", "Toky", "Andry", "Fidy"),
        ("Rakoto", "Rabe", "Randria", "Rasolo", "Razafy", "Andriana", "Rafalimanana", "Ravelo", "Rajaona", "Rasoa"),
    ),
}

GENERIC = Country(
    "+00:00",
    "+000 5",
    tuple((f"Region {n}", 0.0, 0.0, (f"District {n}A", f"District {n}B")) for n in range(1, 5)),
    ("Ana", "Maria", "Fatima", "Grace", "Amina"),
    ("Juan", "Ali", "John", "Kofi", "Ravi"),
    ("Smith", "Garcia", "Diallo", "Kumar", "Mensah"),
)

# Local currency per US dollar (rough, for scale only).
USD_RATES: dict[str, float] = {"KES": 129, "GTQ": 7.7, "ZMW": 26, "INR": 84, "GHS": 15, "MGA": 4500, "USD": 1}


@dataclass(frozen=True)
class Product:
    """Scale and units of a product. Money in US dollars per year at baseline, converted with USD_RATES."""

    median_sales_usd: float
    scale_unit: str  # choice of the form's scale_unit list
    scale_per_worker: float
    production_unit: str  # choice of the form's production_unit list
    unit_price_usd: float
    business: str  # the last word of a firm's name


def product_of(sector: str, product: str) -> Product:
    text = product.lower()
    if "beef" in text or "cattle" in text:
        return Product(3200, "animals", 6, "head", 380, "Ranch")
    if "cotton" in text:
        return Product(900, "hectares", 0.8, "kg", 0.45, "Farm")
    if "vegetable" in text:
        return Product(1400, "hectares", 0.4, "kg", 0.35, "Gardens")
    if sector == "handicraft":
        looms = "weav" in text or "textile" in text
        return Product(850, "looms" if looms else "other", 1 if looms else 3, "pieces", 11 if looms else 6, "Crafts")
    if sector == "agriculture":
        return Product(1600, "trees", 45, "kg", 0.4, "Farm")
    return Product(1500, "other", 1, "other", 5, "Enterprise")
