"""Stored indicator results, the outbox of stale (chain, round) marks, and what each stored set reflects.

A change to the data behind a (value chain, round) inserts a row in ``indicator_marks`` in the same transaction
(../shared/docs/indicators.md §4). Aggregation jobs consume the marks: they recompute the pair, replace its rows in
``indicator_results`` and record in ``indicator_sets`` which marks (the watermark) the new results reflect.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class IndicatorMark(Base):
    """One change to the data of a (chain, round): the results of that pair are stale until a job consumes it."""

    __tablename__ = "indicator_marks"
    __table_args__ = (
        Index("ix_indicator_marks_pair", "value_chain_id", "round_id", "id"),
        {"sqlite_autoincrement": True},  # ids are a watermark: never reused, even when the table empties
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))  # submission, catalogue, panel, round, migration
    marked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IndicatorSet(Base):
    """The stored results of one (chain, round): when they were computed and which data they reflect."""

    __tablename__ = "indicator_sets"

    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id", ondelete="CASCADE"), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"), primary_key=True)
    method_version: Mapped[str] = mapped_column(String(32), default="")
    computed_at: Mapped[dt.datetime | None]  # None: never computed successfully (see last_error)
    snapshot_at: Mapped[dt.datetime | None]  # when the data were read; a set read earlier never replaces this one
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)  # the highest mark these results reflect
    data_as_of: Mapped[dt.datetime | None]  # when that mark was made: every change up to then is included
    firms: Mapped[int] = mapped_column(default=0)  # eligible firms, S(c, r)
    decisions: Mapped[int] = mapped_column(default=0)
    results: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(default=0)  # consecutive failed recomputations


class IndicatorResult(Base):
    """One number: an indicator for a chain, round, subject and disaggregation group, with its 95% CI."""

    __tablename__ = "indicator_results"
    __table_args__ = (Index("ix_indicator_results_pair_code", "value_chain_id", "round_id", "code"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8))  # UPG-01 … RET-03
    measure: Mapped[str] = mapped_column(String(40))  # share, mean, median, count, gap, difference, …
    subject: Mapped[str] = mapped_column(String(120), default="")  # a type, practice, reason, function, tier, Y
    disaggregation: Mapped[str] = mapped_column(String(24), default="overall")
    group_value: Mapped[str] = mapped_column(String(120), default="all")
    weighting: Mapped[str] = mapped_column(String(10), default="weighted")
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None]
    ci_low: Mapped[float | None]
    ci_high: Mapped[float | None]
    n: Mapped[int]
    n_eff: Mapped[float | None]
    suppressed: Mapped[bool]
