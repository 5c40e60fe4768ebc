"""Write the XLSForms of ChainLift from the row lists below, so that a change to a form is a readable diff.

    .venv/bin/python forms/build_forms.py

writes forms/mse_survey.xlsx (our MSE-owner interview) and tests/data/partner_survey.xlsx (another programme's
form, used by the tests), converts both with pyxform and prints its warnings. Change a form here, run the script,
and bump VERSION: a published version never changes. How a question maps to the firm panel (the
bind::chainlift:field and bind::chainlift:values columns) is explained in docs/mapping.md; what is in forms/ is
explained in forms/README.md.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from pyxform.xls2xform import convert

ROOT = Path(__file__).resolve().parent.parent
MSE_SURVEY = ROOT / "forms" / "mse_survey.xlsx"
PARTNER_SURVEY = ROOT / "tests" / "data" / "partner_survey.xlsx"

VERSION = "2026113001"  # yyyymmddrr: bump it for every change to the MSE survey
EN, FR, ES = "English (en)", "Français (fr)", "Español (es)"
MAPPING_NAMESPACE = 'chainlift="https://chainlift.org/xforms/mapping"'

Text = tuple[str, ...]  # one text per language of the form, in the form's language order
Row = dict[str, "str | Text"]

# Columns in sheet order; translated ones (tuples) become one column per language, e.g. label::English (en).
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "choice_filter",
    "repeat_count",
    "appearance",
    "bind::chainlift:field",
    "bind::chainlift:values",
)
CHOICE_COLUMNS = ("list_name", "name", "label", "chain")
TRANSLATED = {"label", "hint", "constraint_message"}
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "instance_name", "default_language", "namespaces")


# -- building blocks ---------------------------------------------------------------------------------------


def q(
    kind: str,
    name: str,
    label: Text | None = None,
    *,
    hint: Text | None = None,
    required: bool = False,
    relevant: str = "",
    constraint: str = "",
    message: Text | None = None,
    calculation: str = "",
    choice_filter: str = "",
    appearance: str = "",
    maps_to: str = "",
    values: str = "",
) -> Row:
    """One survey row. ``maps_to`` is the domain field (bind::chainlift:field), ``values`` the form's choice
    codes translated to ours (bind::chainlift:values), both as docs/mapping.md defines them."""
    row: Row = {"type": kind, "name": name}
    optional: dict[str, str | Text | None] = {
        "label": label,
        "hint": hint,
        "required": "yes" if required else "",
        "relevant": relevant,
        "constraint": constraint,
        "constraint_message": message,
        "calculation": calculation,
        "choice_filter": choice_filter,
        "appearance": appearance,
        "bind::chainlift:field": maps_to,
        "bind::chainlift:values": values,
    }
    row.update({key: value for key, value in optional.items() if value})
    return row


def group(name: str, label: Text, rows: list[Row], *, relevant: str = "") -> list[Row]:
    begin: Row = {"type": "begin_group", "name": name, "label": label}
    if relevant:
        begin["relevant"] = relevant
    return [begin, *rows, {"type": "end_group", "name": name}]


def repeat(name: str, label: Text, rows: list[Row], *, repeat_count: str = "") -> list[Row]:
    begin: Row = {"type": "begin_repeat", "name": name, "label": label}
    if repeat_count:
        begin["repeat_count"] = repeat_count
    return [begin, *rows, {"type": "end_repeat", "name": name}]


def choices(list_name: str, *options: tuple[str, ...], chain: str = "") -> list[Row]:
    """``options`` are (code, label in each language); ``chain`` fills the column a choice_filter reads."""
    rows: list[Row] = []
    for code, *labels in options:
        row: Row = {"list_name": list_name, "name": code, "label": tuple(labels)}
        if chain:
            row["chain"] = chain
        rows.append(row)
    return rows


@dataclass
class XLSForm:
    languages: tuple[str, ...]
    settings: dict[str, str]
    survey: list[Row]
    choices: list[Row] = field(default_factory=list)


# -- the MSE upgrading survey ------------------------------------------------------------------------------
# Choice codes of our own lists are exactly the codes of docs/mapping.md, so that no chainlift:values are needed.

CONSENTED = "${consent} = 'yes'"
NEW_FIRM = "${firm_source} = 'new'"
THIS_YEAR = "number(format-date(today(), '%Y'))"
NOT_NEGATIVE = ". >= 0"
NOT_NEGATIVE_MSG = ("Cannot be negative.", "Ne peut pas être négatif.")
YEAR_MSG = ("A year between 1950 and this year.", "Une année entre 1950 et l'année en cours.")
MONEY_HINT = ("Local currency, last 12 months.", "Monnaie locale, 12 derniers mois.")
APPLIED = "${status} = 'adopted' or ${status} = 'tried' or ${status} = 'abandoned'"
ASK_REASONS = "${aware} = 'no' or ${status} = 'not_adopted' or ${status} = 'abandoned'"


def external_lists() -> list[Row]:
    """practices.csv as a secondary instance, so that the upgrading module can count and name the practices."""
    return [q("csv-external", "practices")]


def metadata() -> list[Row]:
    return [
        q("start", "start", maps_to="interview.start"),
        q("end", "end", maps_to="interview.end"),
        q("deviceid", "deviceid"),
        q("username", "enumerator"),
    ]


def round_and_consent() -> list[Row]:
    return group(
        "interview",
        ("Survey round and consent", "Vague d'enquête et consentement"),
        [
            q(
                "select_one_from_file rounds.csv",
                "round",
                ("Survey round", "Vague d'enquête"),
                required=True,
                maps_to="interview.round",
            ),
            q(
                "note",
                "consent_statement",
                (
                    "Read the consent statement: the purpose of the survey, that answers are confidential, that "
                    "the respondent may stop at any time, and that the interview takes about 45 minutes.",
                    "Lisez la déclaration de consentement : le but de l'enquête, la confidentialité des réponses, "
                    "la possibilité d'arrêter à tout moment et la durée d'environ 45 minutes.",
                ),
            ),
            q(
                "select_one yes_no",
                "consent",
                ("Does the respondent agree to be interviewed?", "La personne accepte-t-elle l'entretien ?"),
                required=True,
                maps_to="interview.consent",
            ),
            q(
                "note",
                "refusal_note",
                (
                    "Thank the respondent, then save and finalise the form: a refusal is recorded too.",
                    "Remerciez la personne, puis enregistrez et finalisez le formulaire : un refus est aussi "
                    "enregistré.",
                ),
                relevant="${consent} = 'no'",
            ),
            q(
                "select_one respondent_role",
                "respondent_role",
                ("Who is answering?", "Qui répond ?"),
                required=True,
                relevant=CONSENTED,
                maps_to="interview.respondent_role",
            ),
        ],
    )


def value_chain() -> list[Row]:
    return group(
        "chain",
        ("Value chain", "Chaîne de valeur"),
        [
            q(
                "select_one_from_file chains.csv",
                "value_chain",
                ("Value chain of the enterprise", "Chaîne de valeur de l'entreprise"),
                hint=(
                    "The chain the firm was sampled in; it selects the roster, functions, markets and practices.",
                    "La chaîne dans laquelle l'entreprise a été tirée ; elle détermine la liste des entreprises, "
                    "des fonctions, des marchés et des pratiques.",
                ),
                required=True,
                maps_to="firm.value_chain",
            ),
        ],
        relevant=CONSENTED,
    )


def firm_identification() -> list[Row]:
    registration = group(
        "registration",
        ("New firm", "Nouvelle entreprise"),
        [
            q(
                "text",
                "firm_name",
                ("Name of the enterprise", "Nom de l'entreprise"),
                required=True,
                maps_to="firm.name",
            ),
            q(
                "text",
                "firm_phone",
                ("Phone number of the enterprise", "Numéro de téléphone de l'entreprise"),
                hint=("Digits only, with the country code.", "Chiffres seulement, avec l'indicatif du pays."),
                constraint=r"regex(., '^\+?[0-9 ]{7,20}$')",
                message=("7 to 20 digits.", "De 7 à 20 chiffres."),
                appearance="numbers",
                maps_to="firm.phone",
            ),
            q("text", "admin1", ("Region / county", "Région / comté"), required=True, maps_to="firm.admin1"),
            q("text", "admin2", ("District / sub-county", "District / sous-comté"), maps_to="firm.admin2"),
            q("text", "admin3", ("Ward / village", "Commune / village"), maps_to="firm.admin3"),
            q(
                "select_one urban_rural",
                "urban_rural",
                ("Is the enterprise in an urban or a rural area?", "L'entreprise est-elle en zone urbaine ou rurale ?"),
                maps_to="firm.urban_rural",
            ),
            q(
                "integer",
                "year_started",
                ("In which year did the enterprise start?", "En quelle année l'entreprise a-t-elle démarré ?"),
                constraint=f". >= 1900 and . <= {THIS_YEAR}",
                message=("Not in the future.", "Pas dans le futur."),
                maps_to="firm.year_started",
            ),
            q(
                "select_one legal_status",
                "legal_status",
                ("Legal status of the enterprise", "Statut juridique de l'entreprise"),
                maps_to="firm.legal_status",
            ),
            q(
                "select_one yes_no",
                "group_member",
                (
                    "Is the enterprise a member of a producer group or association?",
                    "L'entreprise est-elle membre d'un groupement de producteurs ou d'une association ?",
                ),
                maps_to="firm.group_member",
            ),
        ],
        relevant=NEW_FIRM,
    )
    return group(
        "firm",
        ("Firm identification", "Identification de l'entreprise"),
        [
            q(
                "select_one firm_source",
                "firm_source",
                ("Which firm is interviewed?", "Quelle entreprise est interrogée ?"),
                required=True,
            ),
            q(
                "select_one_from_file roster.csv",
                "panel_code",
                ("Firm from the panel roster", "Entreprise de la liste du panel"),
                hint=(
                    "Type the code printed on the respondent card, or part of the firm's name.",
                    "Tapez le code imprimé sur la carte de l'enquêté(e) ou une partie du nom de l'entreprise.",
                ),
                required=True,
                relevant="${firm_source} = 'roster'",
                choice_filter="chain=${value_chain}",
                appearance="autocomplete",
                maps_to="firm.panel_code",
            ),
            *registration,
            q(
                "select_one participant_status",
                "participant_status",
                (
                    "Does the enterprise take part in the programme this round?",
                    "L'entreprise participe-t-elle au programme pour cette vague ?",
                ),
                required=True,
                maps_to="firm.participant_status",
            ),
        ],
        relevant=CONSENTED,
    )


def owner() -> list[Row]:
    return group(
        "owner",
        ("Main owner", "Propriétaire principal(e)"),
        [
            q(
                "text",
                "owner_name",
                ("Name of the main owner", "Nom du/de la propriétaire principal(e)"),
                required=True,
                relevant=NEW_FIRM,
                maps_to="owner.name",
            ),
            q("select_one sex", "owner_sex", ("Sex of the owner", "Sexe du/de la propriétaire"), maps_to="owner.sex"),
            q(
                "integer",
                "owner_age",
                ("Age of the owner (years)", "Âge du/de la propriétaire (années)"),
                constraint=". >= 15 and . <= 100",
                message=("Between 15 and 100.", "Entre 15 et 100."),
                maps_to="owner.age",
            ),
            q(
                "select_one education",
                "owner_education",
                ("Highest level of education completed", "Niveau d'études le plus élevé atteint"),
                maps_to="owner.education",
            ),
        ],
        relevant=CONSENTED,
    )


def enterprise() -> list[Row]:
    return group(
        "enterprise",
        ("The enterprise", "L'entreprise"),
        [
            q(
                "select_multiple_from_file functions.csv",
                "functions",
                (
                    "Which functions of the chain does the enterprise perform?",
                    "Quelles fonctions de la chaîne l'entreprise assure-t-elle ?",
                ),
                required=True,
                choice_filter="chain=${value_chain}",
                maps_to="observation.functions",
            ),
            q(
                "integer",
                "workers_family",
                ("Family workers, owner included", "Travailleurs familiaux, propriétaire compris"),
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.workers_family",
            ),
            q(
                "integer",
                "workers_hired",
                ("Hired workers", "Travailleurs salariés"),
                hint=("Permanent and seasonal.", "Permanents et saisonniers."),
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.workers_hired",
            ),
            q(
                "integer",
                "workers_female",
                ("Of these workers, how many are women?", "Parmi ces travailleurs, combien sont des femmes ?"),
                required=True,
                constraint=". >= 0 and . <= ${workers_family} + ${workers_hired}",
                message=(
                    "Between 0 and the number of family and hired workers.",
                    "Entre 0 et le nombre de travailleurs familiaux et salariés.",
                ),
                maps_to="observation.workers_female",
            ),
            q(
                "decimal",
                "scale_units",
                ("Scale of the enterprise", "Taille de l'exploitation"),
                hint=("Number of trees, hectares, looms...", "Nombre d'arbres, d'hectares, de métiers..."),
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.scale_units",
            ),
            q(
                "select_one scale_unit",
                "scale_unit",
                ("Unit of that number", "Unité de ce nombre"),
                relevant="${scale_units} != ''",
                maps_to="observation.scale_unit",
            ),
        ],
        relevant=CONSENTED,
    )


def production_and_sales() -> list[Row]:
    sale = repeat(
        "sale",
        ("Sales to one market and buyer type", "Ventes à un marché et un type d'acheteur"),
        [
            q(
                "select_one_from_file end_markets.csv",
                "end_market",
                ("Where was the product sold?", "Où le produit a-t-il été vendu ?"),
                required=True,
                choice_filter="chain=${value_chain}",
                maps_to="sale.end_market",
            ),
            q(
                "select_one buyer_type",
                "buyer_type",
                ("Type of buyer", "Type d'acheteur"),
                required=True,
                maps_to="sale.buyer_type",
            ),
            q(
                "decimal",
                "sale_qty",
                ("Quantity sold", "Quantité vendue"),
                hint=("In the production unit, last 12 months.", "Dans l'unité de production, 12 derniers mois."),
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="sale.qty",
            ),
            q(
                "decimal",
                "sale_value",
                ("Value of these sales", "Valeur de ces ventes"),
                hint=MONEY_HINT,
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="sale.value",
            ),
            q(
                "select_one yes_no",
                "sale_contract",
                ("Is there a written contract with this buyer?", "Y a-t-il un contrat écrit avec cet acheteur ?"),
                required=True,
                maps_to="sale.contract",
            ),
            q(
                "select_multiple embedded_service",
                "buyer_services",
                (
                    "Which services did this buyer provide with the purchase?",
                    "Quels services cet acheteur a-t-il fournis avec l'achat ?",
                ),
                hint=("Leave empty if none.", "Laissez vide s'il n'y en a aucun."),
                maps_to="sale.embedded_services",
            ),
            q("calculate", "contract_flag", calculation="if(${sale_contract} = 'yes', 1, 0)"),
        ],
    )
    return group(
        "production",
        ("Production and sales", "Production et ventes"),
        [
            q(
                "decimal",
                "production_qty",
                ("Quantity produced in the last 12 months", "Quantité produite au cours des 12 derniers mois"),
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.production_qty",
            ),
            q(
                "select_one production_unit",
                "production_unit",
                ("Unit of that quantity", "Unité de cette quantité"),
                relevant="${production_qty} != ''",
            ),
            q(
                "integer",
                "number_of_buyers",
                ("How many different buyers bought from you?", "Combien d'acheteurs différents vous ont acheté ?"),
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.number_of_buyers",
            ),
            q(
                "note",
                "sales_note",
                (
                    "Now record the sales of the last 12 months: one entry per market and type of buyer.",
                    "Enregistrez maintenant les ventes des 12 derniers mois : une entrée par marché et type "
                    "d'acheteur.",
                ),
            ),
            *sale,
            q("calculate", "sales_by_channel", calculation="sum(${sale_value})"),
            q(
                "calculate",
                "any_contract",
                calculation="if(sum(${contract_flag}) > 0, 'yes', 'no')",
                maps_to="observation.has_written_contract",
            ),
        ],
        relevant=CONSENTED,
    )


def services() -> list[Row]:
    credit = "${credit_received} = 'yes'"
    return group(
        "services",
        ("Services received", "Services reçus"),
        [
            q(
                "select_one yes_no",
                "received_training",
                (
                    "In the last 12 months, did you receive any training for the enterprise?",
                    "Au cours des 12 derniers mois, avez-vous reçu une formation pour l'entreprise ?",
                ),
                required=True,
                maps_to="observation.received_training",
            ),
            q(
                "select_one yes_no",
                "received_embedded_services",
                (
                    "Did a buyer or input supplier give you services with a purchase or sale "
                    "(advice, inputs on credit, transport...)?",
                    "Un acheteur ou un fournisseur d'intrants vous a-t-il fourni des services avec un achat ou une "
                    "vente (conseils, intrants à crédit, transport...) ?",
                ),
                required=True,
                maps_to="observation.received_embedded_services",
            ),
            q(
                "select_one yes_no",
                "credit_received",
                (
                    "In the last 12 months, did the enterprise receive credit?",
                    "Au cours des 12 derniers mois, l'entreprise a-t-elle reçu un crédit ?",
                ),
                required=True,
                maps_to="observation.credit_received",
            ),
            q(
                "decimal",
                "credit_amount",
                ("Amount of credit received", "Montant du crédit reçu"),
                hint=MONEY_HINT,
                relevant=credit,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.credit_amount",
            ),
            q(
                "select_one finance_source",
                "credit_source",
                ("Main source of that credit", "Principale source de ce crédit"),
                relevant=credit,
                maps_to="observation.credit_source",
            ),
        ],
        relevant=CONSENTED,
    )


def upgrading() -> list[Row]:
    """One repetition per practice of the firm's chain, in the order of practices.csv."""
    year = f". >= 1950 and . <= {THIS_YEAR}"
    likert_hint = ("1 = very low ... 5 = very high", "1 = très faible ... 5 = très élevé")
    likert = ". >= 1 and . <= 5"
    likert_msg = ("From 1 to 5.", "De 1 à 5.")
    decision = repeat(
        "decision",
        ("Upgrading practice", "Pratique d'amélioration"),
        [
            q("calculate", "practice_pos", calculation="position(..)"),
            q(
                "calculate",
                "practice",
                calculation="instance('practices')/root/item[chain=${value_chain}][position()=${practice_pos}]/name",
                maps_to="decision.practice",
            ),
            q("calculate", "practice_en", calculation="instance('practices')/root/item[name=${practice}]/label_en"),
            q("calculate", "practice_fr", calculation="instance('practices')/root/item[name=${practice}]/label_fr"),
            q("note", "practice_note", ("${practice_en}", "${practice_fr}")),
            q(
                "select_one yes_no",
                "aware",
                ("Have you heard of this practice?", "Avez-vous entendu parler de cette pratique ?"),
                required=True,
                maps_to="decision.aware",
            ),
            q(
                "select_one status",
                "status",
                ("Have you applied it?", "L'avez-vous appliquée ?"),
                hint=(
                    "Adopted: applied in the last 12 months and will continue. Tried: applied on a trial basis. "
                    "Abandoned: applied before, stopped, will not resume. Not adopted: never applied.",
                    "Adoptée : appliquée ces 12 derniers mois et sera poursuivie. Essayée : appliquée à l'essai. "
                    "Abandonnée : appliquée avant, arrêtée, ne sera pas reprise. Non adoptée : jamais appliquée.",
                ),
                required=True,
                relevant="${aware} = 'yes'",
                maps_to="decision.status",
            ),
            q(
                "integer",
                "first_year",
                ("In which year did you first apply it?", "En quelle année l'avez-vous appliquée la première fois ?"),
                required=True,
                relevant=APPLIED,
                constraint=year,
                message=YEAR_MSG,
                maps_to="decision.first_year",
            ),
            q(
                "integer",
                "last_year",
                ("In which year did you last apply it?", "En quelle année l'avez-vous appliquée la dernière fois ?"),
                required=True,
                relevant="${status} = 'abandoned'",
                constraint=f"{year} and . >= ${{first_year}}",
                message=(
                    "Between the first year and this year.",
                    "Entre la première année et l'année en cours.",
                ),
                maps_to="decision.last_year",
            ),
            q(
                "decimal",
                "scale_share",
                ("On what share of your trees or output (%)?", "Sur quelle part de vos arbres ou production (%) ?"),
                relevant=APPLIED,
                constraint=". >= 0 and . <= 100",
                message=("Between 0 and 100.", "Entre 0 et 100."),
                maps_to="decision.scale_share",
            ),
            q(
                "decimal",
                "investment_cost",
                ("How much did you invest in it?", "Combien y avez-vous investi ?"),
                hint=("Local currency; 0 if nothing.", "Monnaie locale ; 0 si rien."),
                relevant=APPLIED,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="decision.investment_cost",
            ),
            q(
                "select_one finance_source",
                "financing_source",
                ("How was it mainly financed?", "Comment a-t-elle été principalement financée ?"),
                relevant="${investment_cost} > 0",
                maps_to="decision.financing_source",
            ),
            q(
                "select_one information_source",
                "information_source",
                ("Where did you learn about it?", "Où en avez-vous entendu parler ?"),
                relevant="${aware} = 'yes'",
                maps_to="decision.information_source",
            ),
            q(
                "integer",
                "benefit",
                ("How large is its benefit?", "Quel est son bénéfice ?"),
                hint=likert_hint,
                relevant="${aware} = 'yes'",
                constraint=likert,
                message=likert_msg,
                maps_to="decision.benefit",
            ),
            q(
                "integer",
                "cost",
                ("How costly is it?", "Quel est son coût ?"),
                hint=likert_hint,
                relevant="${aware} = 'yes'",
                constraint=likert,
                message=likert_msg,
                maps_to="decision.cost",
            ),
            q(
                "integer",
                "risk",
                ("How risky is it?", "Quel est son risque ?"),
                hint=likert_hint,
                relevant="${aware} = 'yes'",
                constraint=likert,
                message=likert_msg,
                maps_to="decision.risk",
            ),
            q(
                "select_one_from_file reasons.csv",
                "main_reason",
                ("Main reason for not using it", "Raison principale de ne pas l'utiliser"),
                required=True,
                relevant=ASK_REASONS,
                maps_to="decision.main_reason",
            ),
            q(
                "select_multiple_from_file reasons.csv",
                "other_reasons",
                ("Other reasons", "Autres raisons"),
                hint=("Leave empty if none.", "Laissez vide s'il n'y en a aucune."),
                relevant=ASK_REASONS,
                constraint="not(selected(., ${main_reason}))",
                message=("Do not repeat the main reason.", "Ne répétez pas la raison principale."),
                maps_to="decision.other_reasons",
            ),
        ],
        repeat_count="count(instance('practices')/root/item[chain=${value_chain}])",
    )
    return group(
        "upgrading",
        ("Upgrading practices", "Pratiques d'amélioration"),
        [
            q(
                "note",
                "upgrading_note",
                (
                    "Now I will ask about each practice promoted in your value chain.",
                    "Je vais maintenant vous interroger sur chaque pratique de votre chaîne de valeur.",
                ),
            ),
            *decision,
        ],
        relevant=CONSENTED,
    )


def outcomes() -> list[Row]:
    return group(
        "outcomes",
        ("Enterprise results (last 12 months)", "Résultats de l'entreprise (12 derniers mois)"),
        [
            q(
                "decimal",
                "sales_value",
                ("Total value of sales", "Valeur totale des ventes"),
                hint=(
                    "Local currency. The sales by market add up to ${sales_by_channel}.",
                    "Monnaie locale. Les ventes par marché totalisent ${sales_by_channel}.",
                ),
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.sales_value",
            ),
            q(
                "decimal",
                "input_cost",
                ("Cost of inputs", "Coût des intrants"),
                hint=MONEY_HINT,
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.input_cost",
            ),
            q(
                "decimal",
                "hired_labour_cost",
                ("Cost of hired labour", "Coût de la main-d'œuvre salariée"),
                hint=MONEY_HINT,
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.hired_labour_cost",
            ),
            q(
                "decimal",
                "other_costs",
                ("Other costs (transport, fees, rent...)", "Autres coûts (transport, frais, loyer...)"),
                hint=MONEY_HINT,
                required=True,
                constraint=NOT_NEGATIVE,
                message=NOT_NEGATIVE_MSG,
                maps_to="observation.other_costs",
            ),
            q(
                "calculate",
                "net_income",
                calculation="${sales_value} - ${input_cost} - ${hired_labour_cost} - ${other_costs}",
                maps_to="observation.net_income",
            ),
            q(
                "note",
                "net_income_note",
                (
                    "Net income: ${net_income}. Check with the respondent if it looks wrong.",
                    "Revenu net : ${net_income}. Vérifiez avec la personne s'il semble faux.",
                ),
            ),
        ],
        relevant=CONSENTED,
    )


def location() -> list[Row]:
    return group(
        "location",
        ("Location", "Localisation"),
        [
            q(
                "geopoint",
                "gps",
                ("GPS location of the enterprise", "Position GPS de l'entreprise"),
                hint=("Stand at the main workplace.", "Placez-vous au lieu de travail principal."),
                maps_to="firm.gps",
            ),
        ],
        relevant=f"{CONSENTED} and {NEW_FIRM}",
    )


def mse_choices() -> list[Row]:
    return [
        *choices("yes_no", ("yes", "Yes", "Oui"), ("no", "No", "Non")),
        *choices(
            "respondent_role",
            ("owner", "Owner", "Propriétaire"),
            ("co_owner", "Co-owner", "Copropriétaire"),
            ("spouse", "Spouse of the owner", "Conjoint(e) du/de la propriétaire"),
            ("manager", "Manager", "Gérant(e)"),
            ("other", "Other", "Autre"),
        ),
        *choices(
            "firm_source",
            ("new", "New firm (baseline registration)", "Nouvelle entreprise (enregistrement de référence)"),
            ("roster", "Firm from the panel roster", "Entreprise de la liste du panel"),
        ),
        *choices("urban_rural", ("urban", "Urban", "Urbaine"), ("rural", "Rural", "Rurale")),
        *choices(
            "legal_status",
            ("informal", "Informal", "Informelle"),
            ("registered", "Registered business", "Entreprise enregistrée"),
            ("cooperative", "Cooperative", "Coopérative"),
        ),
        *choices(
            "participant_status",
            ("participant", "Yes, participant", "Oui, participante"),
            ("comparison", "No (comparison firm)", "Non (entreprise de comparaison)"),
            ("unknown", "Does not know", "Ne sait pas"),
        ),
        *choices(
            "sex",
            ("female", "Female", "Femme"),
            ("male", "Male", "Homme"),
            ("other", "Other", "Autre"),
            ("undisclosed", "Prefers not to say", "Préfère ne pas répondre"),
        ),
        *choices(
            "education",
            ("none", "None", "Aucun"),
            ("primary", "Primary", "Primaire"),
            ("secondary", "Secondary", "Secondaire"),
            ("tertiary", "Tertiary", "Supérieur"),
        ),
        *choices(
            "scale_unit",
            ("trees", "Trees", "Arbres"),
            ("hectares", "Hectares", "Hectares"),
            ("looms", "Looms", "Métiers à tisser"),
            ("animals", "Animals", "Animaux"),
            ("other", "Other", "Autre"),
        ),
        *choices(
            "production_unit",
            ("kg", "Kilograms", "Kilogrammes"),
            ("pieces", "Pieces", "Pièces"),
            ("crates", "Crates", "Caisses"),
            ("head", "Head of cattle", "Têtes de bétail"),
            ("other", "Other", "Autre"),
        ),
        *choices(
            "buyer_type",
            ("broker", "Broker", "Courtier"),
            ("trader", "Trader", "Commerçant"),
            ("exporter", "Exporter", "Exportateur"),
            ("processor", "Processor", "Transformateur"),
            ("retailer", "Retailer", "Détaillant"),
            ("cooperative", "Cooperative or group", "Coopérative ou groupement"),
            ("consumer", "Consumer", "Consommateur"),
        ),
        *choices(
            "embedded_service",
            ("inputs_on_credit", "Inputs on credit", "Intrants à crédit"),
            ("technical_assistance", "Technical advice", "Conseil technique"),
            ("grading_info", "Information on grades and prices", "Information sur les qualités et les prix"),
            ("transport", "Transport", "Transport"),
            ("prepayment", "Payment in advance", "Paiement anticipé"),
        ),
        *choices(
            "finance_source",
            ("own_savings", "Own savings", "Épargne personnelle"),
            ("buyer_credit", "Credit from a buyer", "Crédit d'un acheteur"),
            ("input_supplier_credit", "Credit from an input supplier", "Crédit d'un fournisseur d'intrants"),
            ("mfi_or_bank", "Microfinance institution or bank", "Institution de microfinance ou banque"),
            ("group", "Group or association", "Groupement ou association"),
            ("project_subsidy", "Project subsidy", "Subvention d'un projet"),
            ("other", "Other", "Autre"),
        ),
        *choices(
            "status",
            ("adopted", "Adopted", "Adoptée"),
            ("tried", "Tried", "Essayée"),
            ("abandoned", "Abandoned", "Abandonnée"),
            ("not_adopted", "Not adopted", "Non adoptée"),
        ),
        *choices(
            "information_source",
            ("buyer_lead_firm", "Buyer or lead firm", "Acheteur ou entreprise pilote"),
            ("input_supplier", "Input supplier", "Fournisseur d'intrants"),
            ("project_extension", "Project or extension agent", "Projet ou agent de vulgarisation"),
            ("other_farmer_group", "Other producers or group", "Autres producteurs ou groupement"),
            ("media", "Radio, TV, phone or internet", "Radio, télévision, téléphone ou internet"),
            ("ngo", "NGO", "ONG"),
            ("other", "Other", "Autre"),
        ),
    ]


# What Collect shows in its lists of saved forms: "KE-AVO - KE-AVO-00001 - R1", or "Refusal - R1".
INSTANCE_NAME = (
    "if(${consent} = 'no', concat('Refusal - ', ${round}), "
    "concat(${value_chain}, ' - ', coalesce(${panel_code}, ${firm_name}), ' - ', ${round}))"
)


def mse_survey() -> XLSForm:
    return XLSForm(
        languages=(EN, FR),
        settings={
            "form_title": "MSE upgrading survey",
            "form_id": "mse_survey",
            "version": VERSION,
            "instance_name": INSTANCE_NAME,
            "default_language": EN,
            "namespaces": MAPPING_NAMESPACE,
        },
        survey=[
            *external_lists(),
            *metadata(),
            *round_and_consent(),
            *value_chain(),
            *firm_identification(),
            *owner(),
            *enterprise(),
            *production_and_sales(),
            *services(),
            *upgrading(),
            *outcomes(),
            *location(),
        ],
        choices=mse_choices(),
    )


# -- a partner programme's form (test data) -----------------------------------------------------------------
# Another programme's own names, groups, languages and numeric codes; bind::chainlift:values translates its codes
# to ours. Its chain and practice codes must exist in forms/catalogue.yaml.

PARTNER_CONSENTED = "${consiente} = '1'"
PARTNER_YES_NO = "1=yes 0=no"
PARTNER_CHAINS = "1=KE-AVO 2=KE-PAS"
PARTNER_PRACTICES = (
    "p1=KE-AVO-PROC-SPRAY p2=KE-AVO-PROC-PRUNE p3=KE-AVO-PROD-HASS p4=KE-AVO-FUNC-BULK p5=KE-AVO-CHAN-EXPCT "
    "p6=KE-PAS-PROC-SPRAY p7=KE-PAS-PROC-NURSERY p8=KE-PAS-CHAN-EXPCT"
)
PARTNER_REASONS = "r1=too_expensive r2=no_credit r3=not_aware r4=too_risky r5=no_buyer_for_upgraded r6=other"


def partner_household() -> list[Row]:
    return group(
        "hogar",
        ("Household", "Hogar"),
        [
            q(
                "select_one sexo",
                "sexo_jefe",
                ("Sex of the head of the business", "Sexo del jefe o jefa del negocio"),
                required=True,
                maps_to="owner.sex",
                values="1=female 2=male",
            ),
            q(
                "integer",
                "edad_jefe",
                ("Age of the head of the business", "Edad del jefe o jefa del negocio"),
                required=True,
                constraint=". >= 15 and . <= 100",
                message=("Between 15 and 100.", "Entre 15 y 100."),
                maps_to="owner.age",
            ),
            q(
                "integer",
                "personas_hogar",
                ("People living in the household", "Personas que viven en el hogar"),
                constraint=". >= 1",
                message=("At least 1.", "Al menos 1."),
            ),
        ],
        relevant=PARTNER_CONSENTED,
    )


def partner_business() -> list[Row]:
    return group(
        "negocio",
        ("Business", "Negocio"),
        [
            q(
                "select_one cultivo",
                "cultivo",
                ("Main crop", "Cultivo principal"),
                required=True,
                maps_to="firm.value_chain",
                values=PARTNER_CHAINS,
            ),
            q(
                "text",
                "codigo_panel",
                ("Panel code on the card", "Código de panel de la tarjeta"),
                hint=("For example KE-AVO-00001.", "Por ejemplo KE-AVO-00001."),
                required=True,
                constraint="regex(., '^[A-Z]{2}-[A-Z]+-[0-9]{5}$')",
                message=("Format XX-XXX-00000.", "Formato XX-XXX-00000."),
                maps_to="firm.panel_code",
            ),
            q(
                "decimal",
                "ventas_valor",
                ("Value of sales in the last year", "Valor de las ventas del último año"),
                required=True,
                constraint=NOT_NEGATIVE,
                message=("Cannot be negative.", "No puede ser negativo."),
                maps_to="observation.sales_value",
            ),
            q(
                "decimal",
                "costo_insumos",
                ("Cost of inputs in the last year", "Costo de los insumos del último año"),
                required=True,
                constraint=NOT_NEGATIVE,
                message=("Cannot be negative.", "No puede ser negativo."),
                maps_to="observation.input_cost",
            ),
        ],
        relevant=PARTNER_CONSENTED,
    )


def partner_practices() -> list[Row]:
    knows = "${conoce} = '1'"
    scale = ("1 = very low ... 5 = very high", "1 = muy bajo ... 5 = muy alto")
    practice = repeat(
        "practica",
        ("Practice", "Práctica"),
        [
            q(
                "select_one lista_practicas",
                "practica_cod",
                ("Practice", "Práctica"),
                required=True,
                choice_filter="chain=${cultivo}",
                maps_to="decision.practice",
                values=PARTNER_PRACTICES,
            ),
            q(
                "select_one si_no",
                "conoce",
                ("Do you know this practice?", "¿Conoce esta práctica?"),
                required=True,
                maps_to="decision.aware",
                values=PARTNER_YES_NO,
            ),
            q(
                "select_one estado",
                "estado",
                ("Status of the practice", "Estado de la práctica"),
                required=True,
                relevant=knows,
                maps_to="decision.status",
                values="1=adopted 2=tried 3=abandoned 4=not_adopted",
            ),
            q(
                "integer",
                "anio_inicio",
                ("Year first used", "Año en que la usó por primera vez"),
                relevant="${estado} = '1' or ${estado} = '2' or ${estado} = '3'",
                constraint=f". >= 1950 and . <= {THIS_YEAR}",
                message=("A year up to this year.", "Un año hasta el año actual."),
                maps_to="decision.first_year",
            ),
            q(
                "integer",
                "anio_ultimo",
                ("Year last used", "Año en que la usó por última vez"),
                required=True,
                relevant="${estado} = '3'",
                constraint=f". >= ${{anio_inicio}} and . <= {THIS_YEAR}",
                message=("From the first year up to this year.", "Desde el primer año hasta el año actual."),
                maps_to="decision.last_year",
            ),
            q(
                "select_one escala",
                "beneficio",
                ("Benefit", "Beneficio"),
                hint=scale,
                relevant=knows,
                maps_to="decision.benefit",
            ),
            q("select_one escala", "costo", ("Cost", "Costo"), hint=scale, relevant=knows, maps_to="decision.cost"),
            q("select_one escala", "riesgo", ("Risk", "Riesgo"), hint=scale, relevant=knows, maps_to="decision.risk"),
            q(
                "select_one razones",
                "razon_principal",
                ("Main reason for not using it", "Razón principal para no usarla"),
                relevant="${conoce} = '0' or ${estado} = '3' or ${estado} = '4'",
                maps_to="decision.main_reason",
                values=PARTNER_REASONS,
            ),
        ],
    )
    return group("practicas", ("Practices", "Prácticas"), practice, relevant=PARTNER_CONSENTED)


def partner_choices() -> list[Row]:
    return [
        *choices("rondas", ("lb", "Baseline", "Línea de base"), ("seg1", "First follow-up", "Primer seguimiento")),
        *choices("si_no", ("1", "Yes", "Sí"), ("0", "No", "No")),
        *choices("sexo", ("1", "Female", "Mujer"), ("2", "Male", "Hombre")),
        *choices("cultivo", ("1", "Avocado", "Aguacate"), ("2", "Passion fruit", "Maracuyá")),
        *choices(
            "lista_practicas",
            ("p1", "Fungicide spraying", "Fumigación con fungicida"),
            ("p2", "Pruning", "Poda"),
            ("p3", "Hass variety", "Variedad Hass"),
            ("p4", "Group bulking and grading", "Acopio y clasificación en grupo"),
            ("p5", "Exporter contract", "Contrato con exportador"),
            chain="1",
        ),
        *choices(
            "lista_practicas",
            ("p6", "Pest control spraying", "Fumigación contra plagas"),
            ("p7", "Nursery seedlings", "Plántulas de vivero"),
            ("p8", "Exporter contract", "Contrato con exportador"),
            chain="2",
        ),
        *choices(
            "estado",
            ("1", "Uses it", "La usa"),
            ("2", "Trying it", "La está probando"),
            ("3", "Stopped using it", "Dejó de usarla"),
            ("4", "Never used it", "Nunca la usó"),
        ),
        *choices(
            "escala",
            ("1", "1 very low", "1 muy bajo"),
            ("2", "2 low", "2 bajo"),
            ("3", "3 medium", "3 medio"),
            ("4", "4 high", "4 alto"),
            ("5", "5 very high", "5 muy alto"),
        ),
        *choices(
            "razones",
            ("r1", "Too expensive", "Muy cara"),
            ("r2", "No credit", "Sin crédito"),
            ("r3", "Did not know it", "No la conocía"),
            ("r4", "Too risky", "Muy riesgosa"),
            ("r5", "No buyer", "Sin comprador"),
            ("r6", "Other", "Otra"),
        ),
    ]


def partner_survey() -> XLSForm:
    return XLSForm(
        languages=(EN, ES),  # texts below are (English, Spanish)
        settings={
            "form_title": "Encuesta de productores (programa socio)",
            "form_id": "partner_cafe",
            "version": "1",
            "default_language": ES,
            "namespaces": MAPPING_NAMESPACE,
        },
        survey=[
            q("start", "inicio", maps_to="interview.start"),
            q("end", "fin", maps_to="interview.end"),
            q(
                "select_one rondas",
                "ronda",
                ("Survey round", "Ronda de la encuesta"),
                required=True,
                maps_to="interview.round",
                values="lb=R0 seg1=R1",
            ),
            q(
                "select_one si_no",
                "consiente",
                ("Does the producer agree to answer?", "¿El productor acepta responder?"),
                required=True,
                maps_to="interview.consent",
                values=PARTNER_YES_NO,
            ),
            *partner_household(),
            *partner_business(),
            *partner_practices(),
        ],
        choices=partner_choices(),
    )


# -- writing the workbooks ----------------------------------------------------------------------------------

# An unchanged form writes identical bytes: fixed zip dates and document dates (openpyxl stamps "modified" on save).
FIXED_DATE = (2026, 1, 1, 0, 0, 0)
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _columns(rows: list[Row], order: tuple[str, ...], languages: tuple[str, ...]) -> list[str]:
    used = {key for row in rows for key in row}
    columns: list[str] = []
    for name in order:
        if name in used:
            columns += [f"{name}::{lang}" for lang in languages] if name in TRANSLATED else [name]
    return columns


def _cell(row: Row, column: str, languages: tuple[str, ...]) -> str:
    name, _, lang = column.partition("::")
    if name in TRANSLATED:
        text = row.get(name)
        return text[languages.index(lang)] if isinstance(text, tuple) else ""
    value = row.get(column, "")
    return value if isinstance(value, str) else ""


def _sheet(workbook: Workbook, title: str, columns: list[str], rows: list[list[str]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(columns)
    for row in rows:
        sheet.append([value or None for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _check_translations(form: XLSForm) -> None:
    for row in [*form.survey, *form.choices]:
        for key in TRANSLATED & row.keys():
            text = row[key]
            if not isinstance(text, tuple) or len(text) != len(form.languages) or not all(text):
                sys.exit(f"{row.get('name')}: {key} needs one text per language {form.languages}")


def write(form: XLSForm, path: Path) -> None:
    _check_translations(form)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows, order in (("survey", form.survey, SURVEY_COLUMNS), ("choices", form.choices, CHOICE_COLUMNS)):
        columns = _columns(rows, order, form.languages)
        _sheet(workbook, title, columns, [[_cell(row, c, form.languages) for c in columns] for row in rows])
    settings_columns = [c for c in SETTINGS_COLUMNS if c in form.settings]
    _sheet(workbook, "settings", settings_columns, [[form.settings[c] for c in settings_columns]])
    workbook.properties.creator = "forms/build_forms.py"
    workbook.properties.created = dt.datetime(*FIXED_DATE, tzinfo=dt.UTC)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = MODIFIED.sub(rb"\g<1>2026-01-01T00:00:00Z\g<2>", data)
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_DATE)
            target.writestr(fixed, data, compress_type=zipfile.ZIP_DEFLATED)


def convert_warnings(path: Path) -> list[str]:
    """Convert with pyxform as the server does; pyxform raises PyXFormError on errors."""
    warnings: list[str] = []
    convert(xlsform=str(path), warnings=warnings)
    return warnings


def main() -> int:
    status = 0
    for form, path in ((mse_survey(), MSE_SURVEY), (partner_survey(), PARTNER_SURVEY)):
        write(form, path)
        warnings = convert_warnings(path)
        print(f"wrote {path.relative_to(ROOT)}: {len(form.survey)} survey rows, pyxform warnings: {len(warnings)}")
        for warning in warnings:
            print(f"  {warning}")
        status = status or int(bool(warnings))
    return status


if __name__ == "__main__":
    sys.exit(main())
