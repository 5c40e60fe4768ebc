"""Filled instances of our MSE survey (forms/mse_survey.xlsx, built by forms/build_forms.py), as ODK Collect
sends them: elements in the order of the form's primary instance, questions that are not relevant left out.

Also reads the server's roster.csv, as a phone does, to find the panel code of each firm by its name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET  # building XML only
from collections.abc import Iterable

from app.demo.model import Decision, FormSpec, GeneratedPanel, Interview

JR = "http://openrosa.org/javarosa"
ORX = "http://openrosa.org/xforms"
LABEL_SEPARATOR = " · "  # roster.csv labels are "code · firm name · area" (app/services/lists.py)

Roster = dict[tuple[str, str], str]  # (chain code, firm name) -> panel code


def _timestamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _add(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = str(text)
    return child


def _fields(parent: ET.Element, pairs: Iterable[tuple[str, object]]) -> None:
    for tag, value in pairs:
        if value is not None:
            _add(parent, tag, value)


def instance_xml(interview: Interview, form: FormSpec, panel_code: str | None) -> bytes:
    """The instance of one interview: a baseline registers a new firm (``panel_code`` None), a follow-up names
    the roster firm by its panel code."""
    firm, new = interview.firm, panel_code is None
    root = ET.Element("data", {"xmlns:jr": JR, "xmlns:orx": ORX, "id": form.form_id, "version": form.version})
    _fields(
        root,
        (
            ("start", _timestamp(interview.start)),
            ("end", _timestamp(interview.end)),
            ("deviceid", interview.device_id),
            ("enumerator", interview.enumerator),
        ),
    )
    group = _add(root, "interview")
    _fields(group, (("round", interview.round.code), ("consent_statement", ""), ("consent", "yes")))
    _add(group, "respondent_role", interview.respondent_role)
    _add(_add(root, "chain"), "value_chain", firm.chain)
    group = _add(root, "firm")
    _add(group, "firm_source", "new" if new else "roster")
    if new:
        registration = _add(group, "registration")
        _fields(
            registration,
            (
                ("firm_name", firm.name),
                ("firm_phone", firm.phone),
                ("admin1", firm.admin1),
                ("admin2", firm.admin2),
                ("admin3", firm.admin3),
                ("urban_rural", firm.urban_rural),
                ("year_started", firm.year_started),
                ("legal_status", firm.legal_status),
                ("group_member", _yes(firm.group_member)),
            ),
        )
    else:
        _add(group, "panel_code", panel_code)
    _add(group, "participant_status", "participant" if firm.participant else "comparison")
    group = _add(root, "owner")
    _fields(
        group,
        (
            ("owner_name", firm.owner_name if new else None),
            ("owner_sex", firm.owner_sex),
            ("owner_age", interview.owner_age),
            ("owner_education", firm.owner_education),
        ),
    )
    _enterprise(root, interview)
    _production(root, interview)
    _services(root, interview)
    group = _add(root, "upgrading")
    _add(group, "upgrading_note", "")
    _add(group, "decision_count", len(interview.decisions))
    for position, decision in enumerate(interview.decisions, start=1):
        _decision(_add(group, "decision"), position, decision)
    group = _add(root, "outcomes")
    _fields(
        group,
        (
            ("sales_value", interview.sales_value),
            ("input_cost", interview.input_cost),
            ("hired_labour_cost", interview.hired_labour_cost),
            ("other_costs", interview.other_costs),
            ("net_income", interview.net_income),
            ("net_income_note", ""),
        ),
    )
    if new:
        _add(_add(root, "location"), "gps", firm.gps)
    meta = _add(root, "meta")
    _add(meta, "instanceID", interview.instance_id)
    _add(meta, "instanceName", f"{firm.chain} - {panel_code or firm.name} - {interview.round.code}")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _enterprise(root: ET.Element, interview: Interview) -> None:
    group = _add(root, "enterprise")
    _fields(
        group,
        (
            ("functions", " ".join(interview.functions)),
            ("workers_family", interview.workers_family),
            ("workers_hired", interview.workers_hired),
            ("workers_female", interview.workers_female),
            ("scale_units", f"{interview.scale_units:g}"),
            ("scale_unit", interview.scale_unit),
        ),
    )


def _production(root: ET.Element, interview: Interview) -> None:
    group = _add(root, "production")
    _add(group, "production_qty", interview.production_qty)
    _add(group, "production_unit", interview.production_unit)
    _add(group, "number_of_buyers", interview.number_of_buyers)
    _add(group, "sales_note", "")
    for sale in interview.sales:
        row = _add(group, "sale")
        _fields(
            row,
            (
                ("end_market", sale.end_market),
                ("buyer_type", sale.buyer_type),
                ("sale_qty", sale.qty),
                ("sale_value", sale.value),
                ("sale_contract", _yes(sale.contract)),
                ("buyer_services", " ".join(sale.services)),
                ("contract_flag", int(sale.contract)),
            ),
        )
    _add(group, "sales_by_channel", sum(s.value for s in interview.sales))
    _add(group, "any_contract", _yes(any(s.contract for s in interview.sales)))


def _services(root: ET.Element, interview: Interview) -> None:
    group = _add(root, "services")
    _fields(
        group,
        (
            ("received_training", _yes(interview.received_training)),
            ("received_embedded_services", _yes(interview.received_embedded_services)),
            ("credit_received", _yes(interview.credit_received)),
            ("credit_amount", interview.credit_amount),
            ("credit_source", interview.credit_source),
        ),
    )


def _decision(row: ET.Element, position: int, decision: Decision) -> None:
    applied = decision.status in {"adopted", "tried", "abandoned"}
    asks_reasons = not decision.aware or decision.status in {"not_adopted", "abandoned"}
    _fields(
        row,
        (
            ("practice_pos", position),
            ("practice", decision.practice),
            ("practice_en", decision.practice_en),
            ("practice_fr", decision.practice_fr),
            ("practice_note", ""),
            ("aware", _yes(decision.aware)),
            ("status", decision.status if decision.aware else None),
            ("first_year", decision.first_year if applied else None),
            ("last_year", decision.last_year if decision.status == "abandoned" else None),
            ("scale_share", decision.scale_share if applied else None),
            ("investment_cost", decision.investment_cost if applied else None),
            ("financing_source", decision.financing_source if applied and decision.investment_cost else None),
            ("information_source", decision.information_source if decision.aware else None),
            ("benefit", decision.benefit if decision.aware else None),
            ("cost", decision.cost if decision.aware else None),
            ("risk", decision.risk if decision.aware else None),
            ("main_reason", decision.main_reason if asks_reasons else None),
            ("other_reasons", " ".join(decision.other_reasons) if asks_reasons else None),
        ),
    )


def read_roster(data: bytes) -> Roster:
    """Panel codes by (chain, firm name) from the server's roster.csv; names that appear twice are left out."""
    found: Roster = {}
    doubles: set[tuple[str, str]] = set()
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        parts = row["label"].split(LABEL_SEPARATOR)
        if len(parts) < 2 or parts[0] != row["name"]:
            continue
        key = (row["chain"], parts[1])
        if key in found:
            doubles.add(key)
        found[key] = row["name"]
    return {key: code for key, code in found.items() if key not in doubles}


def predicted_roster(panel: GeneratedPanel) -> Roster:
    """The panel codes a server with no firms assigns if the baseline instances are submitted one at a time in the
    order of the firms' keys (the order of ``instance_file``'s names): ``<CHAIN>-00001`` upwards, per chain
    (app/services/processing.py)."""
    roster: Roster = {}
    for chain in panel.chains:
        for number, firm in enumerate(sorted(chain.firms, key=lambda f: f.key), start=1):
            roster[(chain.spec.code, firm.name)] = f"{chain.spec.code}-{number:05d}"
    return roster


def instance_file(interview: Interview) -> str:
    """A relative file name, e.g. ``R0/KE-AVO-f00007.xml``: by round, then in the order of the firms' keys."""
    return f"{interview.round.code}/{interview.firm.key.replace('#', '-f')}.xml"
