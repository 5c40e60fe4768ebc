"""The JSON API's shapes (/api/v1): ``*In``/``*Args`` schemas load requests, ``*Out`` schemas dump responses.

Pure marshmallow: the HTTP layer builds plain values from the database and these schemas define what leaves.
"""

# ruff: noqa: ARG002 - the overrides keep marshmallow's signature

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.vocab import (
    DecisionStatus,
    ParticipantStatus,
    ProcessingStatus,
    ReasonCategory,
    RoundKind,
    RoundStatus,
    Sector,
    UpgradingType,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_BULK = 500
# The review states a person may set (app.models.ReviewState; "edited" is set by an edit, never by hand).
REVIEW_STATES = ("approved", "rejected", "hasIssues")
ALL_REVIEW_STATES = ("hasIssues", "edited", "rejected", "approved")


# -- fields ---------------------------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    """Opaque to clients: base64url (unpadded) of the last id of a page."""
    return base64.urlsafe_b64encode(str(last_id).encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("Not a valid cursor.") from exc
    if not text.isdigit() or len(text) > 18:
        raise ValidationError("Not a valid cursor.")
    return int(text)


class Cursor(fields.Field[int]):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int:
        if not isinstance(value, str):
            raise ValidationError("Not a valid cursor.")
        return decode_cursor(value)

    def _serialize(self, value: int | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else encode_cursor(value)


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC. SQLite returns stored timestamps without their zone; they are all UTC."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return aware.isoformat()


def _text(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


def _money(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_none=True, **kwargs)


def _enum(values: tuple[str, ...] | list[str], **kwargs: Any) -> fields.String:
    """A string out of a fixed list, documented as an enum (dumped from StrEnum members or plain strings)."""
    documented: list[str | None] = [*values, None] if kwargs.get("allow_none") else list(values)
    return fields.String(metadata={"enum": documented}, **kwargs)


def _values(enum_class: Any) -> list[str]:
    return [member.value for member in enum_class]


# -- requests -------------------------------------------------------------------------------------------------


class JsonIn(Schema):
    class Meta:
        unknown = RAISE


class TokenIn(JsonIn):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ReviewIn(JsonIn):
    state = fields.String(required=True, validate=validate.OneOf(REVIEW_STATES))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class BulkReviewIn(ReviewIn):
    instance_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=255)),
        required=True,
        validate=validate.Length(min=1, max=MAX_BULK),
    )
    form = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Form id; needed only when an instance ID is used by more than one form."},
    )


class QueryArgs(Schema):
    """Query strings: an empty value (``?cursor=``) means the parameter is not given."""

    @pre_load
    def _drop_empty(self, data: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if data[key] != ""}


class PageArgs(QueryArgs):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, 1-{MAX_LIMIT}."},
    )
    cursor = Cursor(
        load_default=None,
        metadata={"description": "The previous page's next_cursor; omit for the first page.", "type": "string"},
    )


class FirmArgs(PageArgs):
    chain = fields.String(metadata={"description": "Value chain code, e.g. KE-AVO."})
    round = fields.String(metadata={"description": "Only firms in this survey round (code)."})
    participant_status = fields.String(
        validate=validate.OneOf(_values(ParticipantStatus)),
        metadata={"description": "Programme status in the round (any round when no round is given)."},
    )


class SubmissionArgs(PageArgs):
    status = fields.String(
        validate=validate.OneOf(_values(ProcessingStatus)), metadata={"description": "Processing status."}
    )
    review_state = fields.String(validate=validate.OneOf(ALL_REVIEW_STATES))
    form = fields.String(metadata={"description": "Form id."})
    enumerator = fields.String(metadata={"description": "User name of the submitter."})
    received_from = fields.Date(metadata={"description": "First day received (UTC), inclusive."})
    received_to = fields.Date(metadata={"description": "Last day received (UTC), inclusive."})

    @validates_schema(skip_on_field_errors=True)
    def _range(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and end < start:
            raise ValidationError("received_to is before received_from.", "received_to")


class FormArgs(QueryArgs):
    form = fields.String(
        metadata={"description": "Form id; needed only when the instance ID is used by more than one form."}
    )


# -- responses ------------------------------------------------------------------------------------------------


class ProblemOut(Schema):
    """RFC 9457 problem details, as application/problem+json."""

    type = fields.String(dump_default="about:blank")
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by field path, for invalid requests."},
    )
    unknown_instance_ids = fields.List(
        fields.String(), metadata={"description": "Bulk review: the instance IDs that name no submission."}
    )


class TokenOut(Schema):
    token = fields.String(metadata={"description": "Send as 'Authorization: Bearer <token>'; shown only once."})
    expires_at = UtcDateTime()
    role = _enum(["admin", "manager", "enumerator"])


def _page_of(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True)}, name=name
    )


def _list_of(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item))}, name=name)


# firms


class FirmOut(Schema):
    panel_code = fields.String()
    chain = fields.String()
    admin1 = _text()
    admin2 = _text()
    admin3 = _text()
    urban_rural = _text()
    year_started = fields.Integer(allow_none=True)
    legal_status = _text()
    group_member = fields.Boolean(allow_none=True)
    is_active = fields.Boolean()
    created_at = UtcDateTime()


class FirmRoundOut(Schema):
    round = fields.String()
    participant_status = _enum(_values(ParticipantStatus))
    interviewed = fields.Boolean()
    weight = fields.Float()


class SubmissionRefOut(Schema):
    instance_id = fields.String()
    form_id = fields.String()


class SaleOut(Schema):
    end_market = fields.String()
    buyer_type = _text()
    qty = _money()
    value = _money()
    contract = fields.Boolean(allow_none=True)
    embedded_services = fields.List(fields.String())


class ObservationOut(Schema):
    round = fields.String()
    submission = fields.Nested(SubmissionRefOut)
    interview_start = UtcDateTime(allow_none=True)
    interview_end = UtcDateTime(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    respondent_role = _text()
    owner_sex = _text()
    owner_birth_year = fields.Integer(allow_none=True)
    owner_education = _text()
    workers_family = fields.Integer(allow_none=True)
    workers_hired = fields.Integer(allow_none=True)
    workers_female = fields.Integer(allow_none=True)
    scale_units = _money()
    scale_unit = _text()
    production_qty = _money()
    sales_value = _money()
    input_cost = _money()
    hired_labour_cost = _money()
    other_costs = _money()
    net_income = _money()
    received_training = fields.Boolean(allow_none=True)
    received_embedded_services = fields.Boolean(allow_none=True)
    has_written_contract = fields.Boolean(allow_none=True)
    credit_received = fields.Boolean(allow_none=True)
    credit_amount = _money()
    credit_source = _text()
    number_of_buyers = fields.Integer(allow_none=True)
    functions = fields.List(fields.String(), metadata={"description": "Function codes performed."})
    sales = fields.List(fields.Nested(SaleOut))


class ReasonOut(Schema):
    code = fields.String()
    is_main = fields.Boolean()


class DecisionOut(Schema):
    round = fields.String()
    practice = fields.String()
    upgrading_type = _enum(_values(UpgradingType))
    aware = fields.Boolean(allow_none=True)
    status = _enum(_values(DecisionStatus))
    applied_in_period = fields.Boolean()
    first_year = fields.Integer(allow_none=True)
    last_year = fields.Integer(allow_none=True)
    scale_share = _money()
    investment_cost = _money()
    financing_source = _text()
    information_source = _text()
    perceived_benefit = fields.Integer(allow_none=True)
    perceived_cost = fields.Integer(allow_none=True)
    perceived_risk = fields.Integer(allow_none=True)
    reasons = fields.List(fields.Nested(ReasonOut), metadata={"description": "The main reason first."})


class ContactOut(Schema):
    firm_name = _text()
    owner_name = _text()
    phone = _text()
    gps_lat = fields.Float(allow_none=True)
    gps_lon = fields.Float(allow_none=True)
    gps_accuracy = fields.Float(allow_none=True)
    updated_at = UtcDateTime()


class FirmDetailOut(FirmOut):
    base_weight = fields.Float()
    baseline_round = _text()
    rounds = fields.List(fields.Nested(FirmRoundOut))
    observations = fields.List(fields.Nested(ObservationOut))
    decisions = fields.List(fields.Nested(DecisionOut))
    contact = fields.Nested(
        ContactOut,
        allow_none=True,
        metadata={"description": "Personal data: present for admins only (null when none was collected)."},
    )


FirmPageOut = _page_of(FirmOut, "FirmPage")


# submissions


class SubmissionOut(Schema):
    instance_id = fields.String()
    form_id = fields.String()
    form_version = _text()
    submitter = _text(metadata={"description": "User name."})
    received_at = UtcDateTime()
    updated_at = UtcDateTime(allow_none=True)
    review_state = _enum(list(ALL_REVIEW_STATES), allow_none=True)
    processing_status = _enum(_values(ProcessingStatus), allow_none=True)
    firm = _text(metadata={"description": "Panel code of the firm the submission is about."})
    round = _text(metadata={"description": "Survey round code."})
    error_count = fields.Integer()


class ProcessingErrorOut(Schema):
    path = fields.String(metadata={"description": "The form's question path."})
    field = fields.String(metadata={"description": "The mapped domain field."})
    message = fields.String()


class AttachmentOut(Schema):
    name = fields.String()
    present = fields.Boolean()
    size = fields.Integer(allow_none=True)
    content_type = _text()


class VersionOut(Schema):
    instance_id = fields.String()
    deprecated_id = _text()
    form_version = fields.String()
    submitter = _text()
    received_at = UtcDateTime()
    current = fields.Boolean()
    attachments = fields.List(fields.Nested(AttachmentOut))


class ReviewEventOut(Schema):
    state = _enum(list(ALL_REVIEW_STATES))
    comment = _text()
    user = fields.String()
    created_at = UtcDateTime()


class SubmissionDetailOut(SubmissionOut):
    processed_at = UtcDateTime(allow_none=True)
    processing_errors = fields.List(fields.Nested(ProcessingErrorOut))
    versions = fields.List(fields.Nested(VersionOut), metadata={"description": "Oldest first."})
    attachments = fields.List(fields.Nested(AttachmentOut), metadata={"description": "Of the current version."})
    reviews = fields.List(fields.Nested(ReviewEventOut), metadata={"description": "Review history, oldest first."})


SubmissionPageOut = _page_of(SubmissionOut, "SubmissionPage")
SubmissionListOut = _list_of(SubmissionOut, "SubmissionList")


# catalogue


class FunctionOut(Schema):
    code = fields.String()
    name = fields.String()
    name_fr = fields.String()
    rank = fields.Integer(metadata={"description": "Higher adds more value."})


class EndMarketOut(Schema):
    code = fields.String()
    name = fields.String()
    name_fr = fields.String()
    tier = fields.Integer(metadata={"description": "Higher is a higher-value market."})
    is_export = fields.Boolean()


class PracticeOut(Schema):
    code = fields.String()
    name = fields.String()
    name_fr = fields.String()
    description = fields.String()
    type = _enum(_values(UpgradingType))
    target_function = _text(metadata={"description": "Function code (functional upgrading only)."})
    target_end_market = _text(metadata={"description": "End-market code (channel upgrading only)."})
    promoted_by_program = fields.Boolean()


class ChainOut(Schema):
    code = fields.String()
    name = fields.String()
    name_fr = fields.String()
    country_iso3 = fields.String()
    product = fields.String()
    sector = _enum(_values(Sector))
    currency = fields.String()
    reference_period_months = fields.Integer()
    is_illustrative = fields.Boolean()
    description = fields.String()
    functions = fields.List(fields.Nested(FunctionOut))
    end_markets = fields.List(fields.Nested(EndMarketOut))
    practices = fields.List(fields.Nested(PracticeOut), metadata={"description": "Active practices only."})


class ReasonCodeOut(Schema):
    code = fields.String()
    label = fields.String()
    label_fr = fields.String()
    category = _enum(_values(ReasonCategory))


class RoundOut(Schema):
    code = fields.String()
    number = fields.Integer(metadata={"description": "0 is the baseline."})
    kind = _enum(_values(RoundKind))
    name = fields.String()
    status = _enum(_values(RoundStatus))
    fieldwork_start = fields.Date(allow_none=True)
    fieldwork_end = fields.Date(allow_none=True)
    reference_period_start = fields.Date(allow_none=True)
    reference_period_end = fields.Date(allow_none=True)
    currency = _text()
    deflator_to_base = fields.Decimal(as_string=True)


ChainListOut = _list_of(ChainOut, "ChainList")
ReasonListOut = _list_of(ReasonCodeOut, "ReasonList")
RoundListOut = _list_of(RoundOut, "RoundList")
