"""Store a hand-built panel through the real pipeline: catalogue, rounds, form, OpenRosa POSTs, design weights."""

from __future__ import annotations

from decimal import Decimal

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import transaction
from app.ingest.catalogue import read_catalogue
from app.models import Firm, FirmContact
from app.services import panel, rounds
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind
from tests.helpers import Factory, submit
from tests.indicators.panel import CATALOGUE, DEFLATORS, FORM, FirmSpec, instance


def load_panel(app: Flask, client: FlaskClient, factory: Factory, firms: list[FirmSpec]) -> None:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue(yaml.safe_dump(CATALOGUE)))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, deflator=Decimal(str(DEFLATORS["R0"])))
        rounds.create_round(session, "R1", 1, RoundKind.ENDLINE, deflator=Decimal(str(DEFLATORS["R1"])))
    factory.publish_bytes("tc_panel.md", FORM)
    user = factory.user("enum_tc")
    for round_code in ("R0", "R1"):
        for firm in firms:
            if round_code in firm.visits:
                response = submit(client, user.prefix, instance(firm, round_code))
                assert response.status_code == 201, response.data
        if round_code == "R0":
            with app.app_context(), transaction() as session:
                codes = dict(
                    session.execute(
                        select(FirmContact.firm_name, Firm.panel_code).join(Firm, Firm.id == FirmContact.firm_id)
                    ).all()
                )
            for firm in firms:
                firm.panel_code = codes[firm.name]
    rows = [
        panel.DesignRow(firm.panel_code, round_code, visit.weight, None)
        for firm in firms
        for round_code, visit in firm.visits.items()
    ]
    with app.app_context(), transaction(write=True) as session:
        panel.set_design(session, rows)
