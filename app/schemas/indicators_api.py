"""Query arguments and response shapes of the indicator endpoints (``/api/v1/indicators``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.indicators.catalogue import DISAGGREGATIONS, WEIGHTINGS
from app.schemas.api import Cursor, QueryArgs

MAX_INDICATOR_LIMIT = 10_000


class IndicatorFilterArgs(QueryArgs):
    code = fields.String(metadata={"description": "Indicator code(s), comma-separated, e.g. UPG-01,RET-03."})
    chain = fields.String(metadata={"description": "Value chain code, e.g. KE-AVO."})
    round = fields.String(metadata={"description": "Survey round code, e.g. R1."})
    disaggregation = fields.String(validate=validate.OneOf(DISAGGREGATIONS))
    group = fields.String(metadata={"description": "Group within the disaggregation, e.g. female; 'all' for overall."})
    measure = fields.String(metadata={"description": "share, mean, median, count, difference, did, …"})
    subject = fields.String(metadata={"description": "Upgrading type, practice, reason, function, tier or outcome."})
    weighting = fields.String(validate=validate.OneOf(WEIGHTINGS), metadata={"description": "Default: both."})


class IndicatorArgs(IndicatorFilterArgs):
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=MAX_INDICATOR_LIMIT))
    cursor = Cursor(load_default=None, metadata={"type": "string", "description": "The previous page's next_cursor."})


class IndicatorOut(Schema):
    code = fields.String()
    name = fields.String()
    chain = fields.String()
    round = fields.String()
    measure = fields.String()
    subject = fields.String()
    disaggregation = fields.String()
    group = fields.String()
    weighting = fields.String()
    unit = fields.String()
    value = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    n = fields.Integer()
    n_eff = fields.Float(allow_none=True)
    suppressed = fields.Boolean(metadata={"description": "n < 30: computed, but show greyed out with its n."})
    method_version = fields.String()
    computed_at = fields.DateTime()
    watermark = fields.Integer(metadata={"description": "The highest data change (stale mark) reflected."})
    data_as_of = fields.DateTime(allow_none=True, metadata={"description": "When that change was made."})
    stale = fields.Boolean(metadata={"description": "Newer data wait to be included; a job is on it."})


class IndicatorPageOut(Schema):
    items = fields.List(fields.Nested(IndicatorOut))
    next_cursor = fields.String(allow_none=True)


class DefinitionOut(Schema):
    code = fields.String()
    name = fields.String()
    definition = fields.String()
    level = fields.String()
    ci = fields.String()
    measures = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "measure → unit"})
    subjects = fields.String()
    panel = fields.Boolean()


class CatalogueOut(Schema):
    method_version = fields.String()
    suppress_below = fields.Integer()
    disaggregations = fields.List(fields.String())
    weightings = fields.List(fields.String())
    indicators = fields.List(fields.Nested(DefinitionOut))


class PairStatusOut(Schema):
    chain = fields.String()
    round = fields.String()
    firms = fields.Integer()
    decisions = fields.Integer()
    results = fields.Integer()
    computed_at = fields.DateTime(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)
    method_version = fields.String(allow_none=True)
    watermark = fields.Integer()
    data_as_of = fields.DateTime(allow_none=True)
    pending_marks = fields.Integer()
    stale = fields.Boolean()
    stale_since = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_error_at = fields.DateTime(allow_none=True)
    failures = fields.Integer()


class StatusOut(Schema):
    pairs = fields.List(fields.Nested(PairStatusOut))


class JobRunOut(Schema):
    id = fields.Integer()
    task_id = fields.String()
    task = fields.String()
    args = fields.Dict()
    status = fields.String()
    attempt = fields.Integer()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    detail = fields.Dict()


class JobArgs(QueryArgs):
    status = fields.String(validate=validate.OneOf(["running", "succeeded", "retrying", "failed", "interrupted"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class JobsOut(Schema):
    queued = fields.Integer(allow_none=True)
    scheduled = fields.Integer(allow_none=True)
    runs = fields.List(fields.Nested(JobRunOut))
