"""The value-chain catalogue: the file's rules, and an idempotent load that updates in place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import Executable, func, select, update
from sqlalchemy.exc import IntegrityError

from app.db import transaction
from app.ingest.catalogue import CatalogueFileError, read_catalogue
from app.models import ChainFunction, ReasonCode, UpgradingPractice, ValueChain
from app.services.catalogue import load_catalogue
from app.vocab import UpgradingType
from tests.conftest import ROOT

SMALL = {
    "reasons": [
        {"code": "not_aware", "label": "Did not know", "label_fr": "Ne savait pas", "category": "information"},
        {"code": "too_expensive", "label": "Too expensive", "label_fr": "Trop cher", "category": "cost_finance"},
    ],
    "chains": [
        {
            "code": "KE-AVO",
            "name": "Kenya avocado",
            "name_fr": "Avocat (Kenya)",
            "country_iso3": "KEN",
            "product": "Avocado",
            "sector": "agriculture",
            "currency": "KES",
            "illustrative": False,
            "sources": ["S17"],
            "functions": [
                {"code": "production", "name": "Production", "name_fr": "Production", "rank": 1},
                {"code": "grading", "name": "Grading", "name_fr": "Triage", "rank": 2},
            ],
            "end_markets": [
                {"code": "broker", "name": "Broker", "name_fr": "Courtier", "tier": 1},
                {"code": "exporter", "name": "Exporter", "name_fr": "Exportateur", "tier": 2, "export": True},
            ],
            "practices": [
                {"code": "KE-AVO-PROC-SPRAY", "type": "process", "name": "Spraying", "name_fr": "Traitements"},
                {"code": "KE-AVO-PROD-HASS", "type": "product", "name": "Hass", "name_fr": "Hass"},
                {
                    "code": "KE-AVO-FUNC-GRADE",
                    "type": "functional",
                    "name": "Group grading",
                    "name_fr": "Triage en groupe",
                    "target_function": "grading",
                },
                {
                    "code": "KE-AVO-CHAN-EXP",
                    "type": "channel",
                    "name": "Export contract",
                    "name_fr": "Contrat d'exportation",
                    "target_end_market": "exporter",
                },
            ],
        }
    ],
}


def _load(app: Flask, data: dict[str, object]) -> dict[str, int]:
    parsed = read_catalogue(yaml.safe_dump(data))
    with app.app_context(), transaction(write=True) as session:
        report = load_catalogue(session, parsed)
    return {**{f"+{k}": v for k, v in report.created.items()}, **{f"~{k}": v for k, v in report.updated.items()}}


def test_load_is_idempotent_and_updates_in_place(app: Flask) -> None:
    assert _load(app, SMALL) == {
        "+reason_codes": 2,
        "+value_chains": 1,
        "+chain_functions": 2,
        "+end_markets": 2,
        "+upgrading_practices": 4,
    }
    assert _load(app, SMALL) == {}
    changed = yaml.safe_load(yaml.safe_dump(SMALL))
    changed["chains"][0]["practices"][0]["name"] = "Fungicide spraying schedule"
    changed["chains"][0]["practices"][1]["active"] = False
    assert _load(app, changed) == {"~upgrading_practices": 2}
    with app.app_context(), transaction() as session:
        assert session.scalar(select(func.count()).select_from(UpgradingPractice)) == 4
        spray = session.scalar(select(UpgradingPractice).where(UpgradingPractice.code == "KE-AVO-PROC-SPRAY"))
        assert spray is not None
        assert spray.name == "Fungicide spraying schedule"
        grade = session.scalar(select(UpgradingPractice).where(UpgradingPractice.code == "KE-AVO-FUNC-GRADE"))
        assert grade is not None
        assert grade.upgrading_type is UpgradingType.FUNCTIONAL
        assert grade.target_function is not None
        assert grade.target_function.code == "grading"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c["chains"][0]["practices"][2].pop("target_function"), "names its target_function"),
        (lambda c: c["chains"][0]["practices"][0].update(target_end_market="exporter"), "target_end_market"),
        (lambda c: c["chains"][0]["practices"][3].update(target_end_market="broker"), "above the lowest tier"),
        (lambda c: c["chains"][0]["practices"][2].update(target_function="export"), "not a function of this chain"),
        (lambda c: c["chains"][0]["practices"][1].update(type="marketing"), "practices.1.type"),
        (lambda c: c["chains"][0]["practices"][1].update(code="has space"), "no spaces"),
        (lambda c: c["chains"][0]["practices"].append(dict(c["chains"][0]["practices"][0])), "Duplicate codes"),
        (lambda c: c["reasons"].append(dict(c["reasons"][0])), "Duplicate reason codes"),
        (lambda c: c["chains"][0].update(colour="green"), "Unknown field"),
    ],
)
def test_invalid_catalogues_are_explained_with_paths(mutate: object, needle: str) -> None:
    data = yaml.safe_load(yaml.safe_dump(SMALL))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(CatalogueFileError) as excinfo:
        read_catalogue(yaml.safe_dump(data))
    assert any(needle in line for line in excinfo.value.errors), excinfo.value.errors


def test_database_refuses_a_functional_practice_without_target(app: Flask) -> None:
    _load(app, SMALL)
    with app.app_context():
        with transaction() as session:
            practice = session.scalar(select(UpgradingPractice).where(UpgradingPractice.code == "KE-AVO-FUNC-GRADE"))
        assert practice is not None
        statement = update(UpgradingPractice).where(UpgradingPractice.id == practice.id).values(target_function_id=None)
        with pytest.raises(IntegrityError):
            _execute_in_transaction(statement)


def _execute_in_transaction(statement: Executable) -> None:
    with transaction(write=True) as session:
        session.execute(statement)


CATALOGUE = ROOT / "forms" / "catalogue.yaml"


@pytest.mark.skipif(not CATALOGUE.exists(), reason="forms/catalogue.yaml not written yet")
def test_shipped_catalogue_has_nine_chains_covering_all_four_types(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["catalogue", "load", str(CATALOGUE)])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["catalogue", "load", str(CATALOGUE)])
    assert "nothing changed" in again.output
    with app.app_context(), transaction() as session:
        chains = session.scalars(select(ValueChain)).all()
        assert len(chains) == 9
        assert sorted(c.sector.value for c in chains).count("agriculture") == 6
        for chain in chains:
            types = {p.upgrading_type for p in chain.practices}
            assert types == set(UpgradingType), chain.code
            assert chain.is_illustrative == ("illustrative" in chain.name.lower())
        assert session.scalar(select(func.count()).select_from(ReasonCode)) == 18
        assert (session.scalar(select(func.count()).select_from(ChainFunction)) or 0) >= 9 * 5


def test_cli_reports_file_errors_without_traceback(app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("reasons: []\nchains: [{code: X}]\n")
    result = app.test_cli_runner().invoke(args=["catalogue", "load", str(bad)])
    assert result.exit_code == 1
    assert "chains.0.name" in result.output
    assert "Traceback" not in result.output
