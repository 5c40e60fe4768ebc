"""Scale a panel loaded through the pipeline up to benchmark size, by copying its derived rows in SQL.

Storing 650,000 decisions through the submission pipeline takes most of an hour, so the indicator benchmark loads a
small panel the real way and then copies every firm with all it derived (its logical submissions, firm rounds,
observations, sales, functions, decisions and reasons) ``copies - 1`` times, under new ids and panel codes. The
copies are exact: every (chain, round) keeps its groups, practices, reasons and tiers, at ``copies`` times the rows.
The copies' submissions keep pointing at the original raw versions; nothing here is a way to store data outside
the benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, Connection, Table, func, insert, literal, null, select

from app.models import (
    DecisionReason,
    Firm,
    FirmObservation,
    FirmRound,
    FunctionPerformed,
    SaleByChannel,
    Submission,
    UpgradingDecision,
)


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


# table -> {column: the id family it belongs to}; every family is shifted by copy number times its span
PLAN: tuple[tuple[type, Mapping[str, str]], ...] = (
    (Firm, {"id": "firm"}),
    (Submission, {"id": "submission", "firm_id": "firm"}),
    (FirmRound, {"id": "firm_round", "firm_id": "firm", "submission_id": "submission"}),
    (FirmObservation, {"id": "observation", "submission_id": "submission", "firm_id": "firm"}),
    (SaleByChannel, {"id": "sale", "observation_id": "observation"}),
    (FunctionPerformed, {"observation_id": "observation"}),
    (UpgradingDecision, {"id": "decision", "observation_id": "observation", "firm_id": "firm"}),
    (DecisionReason, {"decision_id": "decision"}),
)
FAMILIES = {"firm": Firm, "submission": Submission, "firm_round": FirmRound, "observation": FirmObservation}
FAMILIES |= {"sale": SaleByChannel, "decision": UpgradingDecision}
SUFFIXED = {"firms": "panel_code", "submissions": "instance_id"}  # unique strings: a copy gets "~k" appended
CLEARED = {"firms": "registered_by_submission_id"}  # unique link back to one submission: the original keeps it


def replicate(conn: Connection, copies: int) -> None:
    """Make the panel ``copies`` times as large (copies = 1 changes nothing), inside the caller's transaction."""
    spans = {name: int(conn.scalar(select(func.max(_table(m).c.id))) or 0) + 1 for name, m in FAMILIES.items()}
    for k in range(1, copies):
        for model, shifted in PLAN:
            table = _table(model)
            values: list[ColumnElement[object]] = []
            for column in table.c:
                if column.name in shifted:
                    values.append(column + spans[shifted[column.name]] * k)
                elif SUFFIXED.get(table.name) == column.name:
                    values.append(column + literal(f"~{k}"))
                elif CLEARED.get(table.name) == column.name:
                    values.append(null())
                else:
                    values.append(column)
            query = select(*values)
            if table.name == "submissions":
                query = query.where(table.c.firm_id.is_not(None))  # only the interviews of the panel's firms
            conn.execute(insert(table).from_select(list(table.c), query.where(_original(table, spans))))
    if conn.dialect.name == "postgresql":  # the copies took ids explicitly: move the sequences past them
        for model in FAMILIES.values():
            table = _table(model)
            top = select(func.max(table.c.id)).scalar_subquery()
            conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), top)))


def _original(table: Table, spans: Mapping[str, int]) -> ColumnElement[bool]:
    """Rows of the pipeline-loaded panel only, never an earlier copy."""
    family = {"firms": "firm", "submissions": "submission", "firm_rounds": "firm_round"}
    family |= {"firm_observations": "observation", "sales_by_channel": "sale", "upgrading_decisions": "decision"}
    if table.name in family:
        return table.c.id < spans[family[table.name]]  # type: ignore[no-any-return]
    key = "observation_id" if table.name == "functions_performed" else "decision_id"
    return table.c[key] < spans["observation" if key == "observation_id" else "decision"]  # type: ignore[no-any-return]
