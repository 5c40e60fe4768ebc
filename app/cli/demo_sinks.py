"""Where `flask demo generate` files a panel: this app's database (--load), an OpenRosa server (--submit), or
only a folder (--out). Each stores a round, tells the panel codes the server assigned, and reports the outcome."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Protocol

import click
from sqlalchemy.orm import Session

from app.db import transaction
from app.demo import GeneratedPanel, read_roster
from app.demo.client import OpenRosaClient, ServerError
from app.demo.instances import Roster
from app.errors import DomainError
from app.services import demo
from app.services.users import Actor

Batch = list[tuple[str, bytes]]  # (label, instance XML)
Progress = Callable[[int], None]
SHOW_ERRORS = 5


class Sink(Protocol):
    def check(self, panel: GeneratedPanel) -> None: ...
    def already_filed(self, panel: GeneratedPanel) -> bool: ...
    def file(self, round_code: str, batch: Batch, progress: Progress) -> int: ...
    def roster(self) -> Roster | None: ...
    def report(self, started: dt.datetime) -> int: ...


class OutSink:
    """--out alone: the files are the result."""

    def check(self, panel: GeneratedPanel) -> None:
        pass

    def already_filed(self, panel: GeneratedPanel) -> bool:  # noqa: ARG002 - nothing is filed anywhere
        return False

    def file(self, round_code: str, batch: Batch, progress: Progress) -> int:  # noqa: ARG002
        progress(len(batch))
        return 0

    def roster(self) -> Roster | None:
        return None

    def report(self, started: dt.datetime) -> int:  # noqa: ARG002
        click.echo("Written only: follow-ups name the panel codes a server with no firms would assign.")
        return 0


def _report_outcome(started: dt.datetime) -> tuple[int, int]:
    """Print the processing statuses of this run's demo interviews: (interviews found, not mapped)."""
    with transaction() as session:
        outcome = demo.outcome(session, since=started)
    total = sum(outcome.statuses.values())
    if total:
        click.echo("Processing: " + ", ".join(f"{n} {s}" for s, n in sorted(outcome.statuses.items())) + ".")
    for instance_id, errors in outcome.errors:
        click.echo(f"  {instance_id}: " + "; ".join(f"{e['path']} ({e['field']}): {e['message']}" for e in errors))
    return total, total - outcome.statuses.get("mapped", 0)


class LoadSink:
    """--load: in-process through ``submissions.receive``, one write transaction per interview, as a POST."""

    def __init__(self, by: Actor, team: bool = True) -> None:
        self.by = by
        self.team = team  # file each interview under the enumerator named in it, as a real team's phones would
        self.members: dict[str, Actor] = {}

    def check(self, panel: GeneratedPanel) -> None:
        pass

    def already_filed(self, panel: GeneratedPanel) -> bool:  # noqa: ARG002 - checked before generating
        return False

    def file(self, round_code: str, batch: Batch, progress: Progress) -> int:  # noqa: ARG002
        for done, (label, xml) in enumerate(batch, start=1):
            try:
                with transaction(write=True) as session:
                    demo.store(session, self._filer(session, xml), xml)
            except DomainError as exc:
                raise click.ClickException(f"{label}: {exc.message}") from exc
            progress(done)
        return 0

    def _filer(self, session: Session, xml: bytes) -> Actor:
        name = demo.enumerator_of(xml) if self.team else None
        if not name:
            return self.by
        if name not in self.members:
            self.members[name] = demo.actor(session, name)[0]
        return self.members[name]

    def roster(self) -> Roster | None:
        with transaction() as session:
            return read_roster(demo.roster(session))

    def report(self, started: dt.datetime) -> int:
        return _report_outcome(started)[1]


class SubmitSink:
    """--submit: POSTed by a few concurrent clients; the roster is the form's roster.csv from the manifest."""

    def __init__(self, client: OpenRosaClient, media: dict[str, str], clients: int) -> None:
        self.client, self.media, self.clients = client, media, clients

    def _media(self, name: str) -> bytes:
        if name not in self.media:
            raise click.ClickException(f"The server's form has no {name} in its manifest.")
        try:
            return self.client.download(self.media[name])
        except ServerError as exc:
            raise click.ClickException(str(exc)) from exc

    def check(self, panel: GeneratedPanel) -> None:
        """The server's lists must be the ones the panel was generated from (this app's database)."""
        served = list(csv.DictReader(io.StringIO(self._media("practices.csv").decode("utf-8"))))
        for chain in panel.chains:
            codes = [row["name"] for row in served if row["chain"] == chain.spec.code]
            if codes != [p.code for p in chain.spec.ordered_practices()]:
                raise click.ClickException(
                    f"The server's practices for {chain.spec.code} differ from this database's catalogue: "
                    "load the same catalogue on both."
                )
        rounds = {row["name"] for row in csv.DictReader(io.StringIO(self._media("rounds.csv").decode("utf-8")))}
        missing = [r.code for r in panel.rounds if r.code not in rounds]
        if missing:
            raise click.ClickException(f"The server offers no open round {', '.join(missing)}: create them there.")

    def already_filed(self, panel: GeneratedPanel) -> bool:
        names = {(f.chain, f.name) for f in panel.firms}
        return bool(names & set(self.roster()))

    def file(self, round_code: str, batch: Batch, progress: Progress) -> int:  # noqa: ARG002
        count = 0

        def done(_failure: object) -> None:
            nonlocal count
            count += 1
            progress(count)

        failures = self.client.post_many(batch, self.clients, done)
        for failure in failures[:SHOW_ERRORS]:
            click.echo(f"  {failure.label}: HTTP {failure.status or '-'} {failure.message}")
        return len(failures)

    def roster(self) -> Roster:
        return read_roster(self._media("roster.csv"))

    def report(self, started: dt.datetime) -> int:
        found, not_mapped = _report_outcome(started)
        if not found:
            click.echo(
                "Processing statuses are in the server's database, not this one: "
                "GET /api/v1/submissions?status=needs_review there."
            )
        return not_mapped
