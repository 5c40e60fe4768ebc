"""What the database and the blob store hold, checked against what the clients sent."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from app.db import transaction
from app.indicators.results import FIELDS
from app.models import Attachment, IndicatorMark, IndicatorResult, Submission, SubmissionVersion
from app.services.indicators.refresh import pairs_to_compute, read_pairs
from tests.faults.survey import Instance


@dataclass
class Stored:
    submissions: int = 0
    versions: list[bytes] = field(default_factory=list)  # the XML of each version row
    attachments: dict[str, str | None] = field(default_factory=dict)  # name -> sha256 (None: still expected)


def stored(app: Flask) -> dict[str, Stored]:
    """Rows by instanceID, counted from the tables themselves (not through the services)."""
    found: dict[str, Stored] = defaultdict(Stored)
    with app.app_context(), transaction() as session:
        for instance_id, count in session.execute(
            select(Submission.instance_id, func.count()).group_by(Submission.instance_id)
        ):
            found[instance_id].submissions = count
        for instance_id, xml in session.execute(select(SubmissionVersion.instance_id, SubmissionVersion.xml)):
            found[instance_id].versions.append(bytes(xml))
        for instance_id, name, sha in session.execute(
            select(SubmissionVersion.instance_id, Attachment.name, Attachment.sha256).join(
                Attachment, Attachment.version_id == SubmissionVersion.id
            )
        ):
            found[instance_id].attachments[name] = sha
    return dict(found)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(app: Flask, expected: Iterable[Instance], media_root: Path, *, only: bool = True) -> list[str]:
    """Everything that differs from: each expected instance stored once, byte for byte, with its files in the
    blob store. ``only``: nothing else is stored either. Empty when all is well."""
    rows = stored(app)
    wrong: list[str] = []
    wanted = {instance.instance_id: instance for instance in expected}
    for iid, instance in wanted.items():
        row = rows.get(iid)
        if row is None:
            wrong.append(f"{iid}: acknowledged but missing")
            continue
        if row.submissions != 1 or len(row.versions) != 1:
            wrong.append(f"{iid}: {row.submissions} submissions, {len(row.versions)} versions")
        if any(xml != instance.xml for xml in row.versions):
            wrong.append(f"{iid}: stored XML differs from what was sent")
        files = {name: hashlib.sha256(data).hexdigest() for name, data in instance.files.items()}
        if row.attachments != files:
            wrong.append(f"{iid}: attachments {row.attachments} != sent {files}")
        for sha in files.values():
            blob = media_root / "blobs" / sha[:2] / sha[2:4] / sha
            if not blob.exists() or sha256_of(blob) != sha:
                wrong.append(f"{iid}: blob {sha} missing or damaged")
    if only:
        wrong += [f"{iid}: stored but never sent" for iid in rows.keys() - wanted.keys()]
    return wrong


def blob_files(media_root: Path) -> set[str]:
    """Every file under MEDIA_ROOT (blobs and temporary files), relative to it."""
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def by_instance(instances: Iterable[Instance]) -> Mapping[str, Instance]:
    return {instance.instance_id: instance for instance in instances}


IndicatorKey = tuple[int, int, str, str, str, str, str, str]  # chain, round, then KEY_COLUMNS[2:]
IndicatorValue = tuple[float | None, float | None, float | None, int]  # value, ci_low, ci_high, n
KEY_COLUMNS = ("chain", "round", "code", "measure", "subject", "disaggregation", "group_value", "weighting")


def stored_indicators(app: Flask) -> dict[IndicatorKey, IndicatorValue]:
    columns = (
        IndicatorResult.value_chain_id,
        IndicatorResult.round_id,
        IndicatorResult.code,
        IndicatorResult.measure,
        IndicatorResult.subject,
        IndicatorResult.disaggregation,
        IndicatorResult.group_value,
        IndicatorResult.weighting,
        IndicatorResult.value,
        IndicatorResult.ci_low,
        IndicatorResult.ci_high,
        IndicatorResult.n,
    )
    with app.app_context(), transaction() as session:
        return {tuple(row[:8]): tuple(row[8:]) for row in session.execute(select(*columns))}  # type: ignore[misc]


def recomputed_indicators(app: Flask) -> dict[IndicatorKey, IndicatorValue]:
    """A clean computation of every (chain, round) from the data as it is now, stored nowhere."""
    with app.app_context(), transaction(snapshot=True) as session:
        computed = read_pairs(session, pairs_to_compute(session))
    keys, values = KEY_COLUMNS[2:], ("value", "ci_low", "ci_high", "n")
    return {
        (c.chain_id, c.round_id, *(row[k] for k in keys)): tuple(row[v] for v in values)
        for c in computed
        for row in (dict(zip(FIELDS, values_, strict=True)) for values_ in c.rows)
    }


def pending_marks(app: Flask) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(IndicatorMark)) or 0


def _close(a: float | int | None, b: float | int | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def differences(
    stored: Mapping[IndicatorKey, IndicatorValue], clean: Mapping[IndicatorKey, IndicatorValue]
) -> dict[IndicatorKey, tuple[IndicatorValue | None, IndicatorValue | None]]:
    """Rows missing on either side or whose value, interval or n differ (floats to 1e-9)."""
    return {
        key: (stored.get(key), clean.get(key))
        for key in stored.keys() | clean.keys()
        if key not in stored
        or key not in clean
        or not all(_close(a, b) for a, b in zip(stored[key], clean[key], strict=True))
    }
