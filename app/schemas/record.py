"""A mapped submission (see docs/mapping.md): typed and checked by the survey's rules, before any database work.

Codes that depend on the catalogue or the panel (rounds, chains, practices, markets, reasons, panel codes) are
checked afterwards by app/services/processing.py, which has the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from marshmallow.experimental.context import Context

from app.schemas.fields import Choice, GeoPoint, MultiChoice, YesNo
from app.vocab import (
    BUYER_TYPES,
    EDUCATION,
    EMBEDDED_SERVICES,
    FINANCING_SOURCES,
    INFORMATION_SOURCES,
    LEGAL_STATUS,
    RESPONDENT_ROLES,
    SEXES,
    URBAN_RURAL,
    DecisionStatus,
    ParticipantStatus,
)

NOT_ADOPTED = DecisionStatus.NOT_ADOPTED.value
ABANDONED = DecisionStatus.ABANDONED.value


def _opt(field: fields.Field[Any]) -> fields.Field[Any]:
    field.allow_none = True
    field.load_default = None
    return field


MAX_MONEY = 10**12 - 1  # Numeric(14, 2)


def _money() -> fields.Field[Any]:
    return _opt(fields.Decimal(validate=validate.Range(min=0, max=MAX_MONEY), places=2))


def _count() -> fields.Field[Any]:
    return _opt(fields.Integer(validate=validate.Range(min=0, max=100_000)))


class Entity(Schema):
    class Meta:
        unknown = RAISE


class InterviewIn(Entity):
    round = fields.String(required=True, validate=validate.Length(min=1, max=32))
    consent = YesNo(required=True)
    start = _opt(fields.AwareDateTime())
    end = _opt(fields.AwareDateTime())
    respondent_role = _opt(Choice(RESPONDENT_ROLES))

    @validates_schema(skip_on_field_errors=True)
    def _order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["start"] and data["end"] and data["end"] < data["start"]:
            raise ValidationError("The interview ends before it starts.", "end")


class FirmIn(Entity):
    panel_code = _opt(fields.String(validate=validate.Length(max=40)))
    value_chain = _opt(fields.String(validate=validate.Length(max=32)))
    name = _opt(fields.String(validate=validate.Length(max=200)))
    phone = _opt(fields.String(validate=validate.Length(max=50)))
    gps = _opt(GeoPoint())
    admin1 = _opt(fields.String(validate=validate.Length(max=100)))
    admin2 = _opt(fields.String(validate=validate.Length(max=100)))
    admin3 = _opt(fields.String(validate=validate.Length(max=100)))
    urban_rural = _opt(Choice(URBAN_RURAL))
    year_started = _opt(fields.Integer(validate=validate.Range(min=1900, max=2100)))
    legal_status = _opt(Choice(LEGAL_STATUS))
    group_member = _opt(YesNo())
    participant_status = _opt(Choice([s.value for s in ParticipantStatus]))

    @validates_schema(skip_on_field_errors=True)
    def _started(self, data: dict[str, Any], **_kwargs: Any) -> None:
        year = Context[dict[str, int]].get({}).get("interview_year")
        if year is not None and data["year_started"] is not None and data["year_started"] > year:
            raise ValidationError(f"{data['year_started']} is after the interview ({year}).", "year_started")


class OwnerIn(Entity):
    name = _opt(fields.String(validate=validate.Length(max=200)))
    sex = _opt(Choice(SEXES))
    age = _opt(fields.Integer(validate=validate.Range(min=15, max=100)))
    education = _opt(Choice(EDUCATION))


class ObservationIn(Entity):
    functions = _opt(MultiChoice())
    workers_family = _count()
    workers_hired = _count()
    workers_female = _count()
    scale_units = _money()
    scale_unit = _opt(fields.String(validate=validate.Length(max=32)))
    production_qty = _money()
    sales_value = _money()
    input_cost = _money()
    hired_labour_cost = _money()
    other_costs = _money()
    net_income = _opt(fields.Decimal(places=2, validate=validate.Range(min=-MAX_MONEY, max=MAX_MONEY)))
    received_training = _opt(YesNo())
    received_embedded_services = _opt(YesNo())
    has_written_contract = _opt(YesNo())
    credit_received = _opt(YesNo())
    credit_amount = _money()
    credit_source = _opt(Choice(FINANCING_SOURCES))
    number_of_buyers = _count()

    @validates_schema(skip_on_field_errors=True)
    def _workers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        female, family, hired = data["workers_female"], data["workers_family"], data["workers_hired"]
        if female is not None and family is not None and hired is not None and female > family + hired:
            raise ValidationError("More female workers than workers in all.", "workers_female")


class SaleIn(Entity):
    end_market = fields.String(required=True)
    buyer_type = _opt(Choice(BUYER_TYPES))
    qty = _money()
    value = _money()
    contract = _opt(YesNo())
    embedded_services = _opt(MultiChoice(EMBEDDED_SERVICES))


def _likert() -> fields.Field[Any]:
    return _opt(fields.Integer(validate=validate.Range(min=1, max=5, error="A 1-5 score, got {input}.")))


class DecisionIn(Entity):
    practice = fields.String(required=True)
    aware = _opt(YesNo())
    status = _opt(Choice([s.value for s in DecisionStatus]))
    first_year = _opt(fields.Integer(validate=validate.Range(min=1900)))
    last_year = _opt(fields.Integer(validate=validate.Range(min=1900)))
    scale_share = _opt(fields.Decimal(places=2, validate=validate.Range(min=0, max=100)))
    investment_cost = _money()
    financing_source = _opt(Choice(FINANCING_SOURCES))
    information_source = _opt(Choice(INFORMATION_SOURCES))
    benefit = _likert()
    cost = _likert()
    risk = _likert()
    main_reason = _opt(fields.String())
    other_reasons = _opt(MultiChoice())

    # Runs even when some fields failed, so that every broken rule is reported at once.
    @validates_schema(skip_on_field_errors=False)
    def _status_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "status" not in data:
            return  # the status itself was invalid: reported already
        if data["status"] is None:
            if data.get("aware") is not False:
                raise ValidationError(
                    "Say whether the practice was adopted, tried, abandoned or not adopted.", "status"
                )
            data["status"] = NOT_ADOPTED  # never heard of it: not adopted
        errors = {**_status_errors(data), **_year_errors(data)}
        if errors:
            raise ValidationError(errors)
        if data.get("main_reason") and data.get("other_reasons"):
            data["other_reasons"] = [r for r in data["other_reasons"] if r != data["main_reason"]]


def _status_errors(data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data["status"] == NOT_ADOPTED:
        for name in ("first_year", "last_year", "investment_cost"):
            if data.get(name) is not None:
                errors[name] = f"A practice that was not adopted has no {name.replace('_', ' ')}."
    if data["status"] == ABANDONED:
        first, last = data.get("first_year"), data.get("last_year")
        if last is None and "last_year" in data:
            errors["last_year"] = "An abandoned practice needs the last year it was applied."
        elif first is not None and last is not None and last < first:
            errors["last_year"] = "The last year comes before the first year."
    return errors


def _year_errors(data: dict[str, Any]) -> dict[str, str]:
    year = Context[dict[str, int]].get({}).get("interview_year")
    return {
        name: f"{data[name]} is after the interview ({year})."
        for name in ("first_year", "last_year")
        if year is not None and data.get(name) is not None and data[name] > year
    }


class RecordIn(Entity):
    interview = fields.Nested(InterviewIn, required=True)
    firm = fields.Nested(FirmIn, load_default=lambda: FirmIn().load({}))
    owner = fields.Nested(OwnerIn, load_default=lambda: OwnerIn().load({}))
    observation = fields.Nested(ObservationIn, load_default=lambda: ObservationIn().load({}))
    sale = fields.List(fields.Nested(SaleIn), load_default=list)
    decision = fields.List(fields.Nested(DecisionIn), load_default=list)


SCHEMAS: dict[str, type[Schema]] = {
    "interview": InterviewIn,
    "firm": FirmIn,
    "owner": OwnerIn,
    "observation": ObservationIn,
    "sale": SaleIn,
    "decision": DecisionIn,
}
REPEATED_ENTITIES = frozenset({"sale", "decision"})
FIELDS = frozenset(f"{entity}.{name}" for entity, schema in SCHEMAS.items() for name in schema().fields)


def load_record(raw: dict[str, Any], interview_year: int) -> dict[str, Any]:
    """Typed record, or ValidationError with marshmallow's nested messages."""
    with Context({"interview_year": interview_year}):
        loaded: dict[str, Any] = RecordIn().load(raw)
    return loaded


def interview_year(raw: dict[str, Any], fallback: dt.datetime) -> int:
    """The year the interview took place: from its end or start answer, else when it was received."""
    for key in ("end", "start"):
        value = (raw.get("interview") or {}).get(key)
        if value:
            try:
                return dt.datetime.fromisoformat(value).year
            except ValueError:
                continue
    return fallback.year
