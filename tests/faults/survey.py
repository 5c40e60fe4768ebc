"""The survey a fault test posts: our MSE survey with its catalogue and baseline round, plus a form with attachments.

Instances come from the demo generator (app/demo), so that they are what a phone sends and map to firms whose
indicators are not trivial. Only baseline interviews are used: each registers a new firm, so none depends on
another having been stored first, and any order of arrival is valid.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from itertools import groupby, zip_longest

from flask import Flask

from app.db import transaction
from app.demo import PanelParams, generate_panel, instance_xml
from app.ingest.catalogue import read_catalogue
from app.models import Role
from app.services import demo, rounds
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind
from tests.conftest import ROOT, SHARED
from tests.helpers import Factory, MadeUser

FORMS = ROOT / "forms"
BINARY_FORM = SHARED / "odk" / "forms" / "binaryType.xml"


@dataclass(frozen=True)
class Instance:
    """One filled form as a phone holds it: the XML and the files it names."""

    instance_id: str
    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.xml).hexdigest()


def prepare(app: Flask, factory: Factory, enumerators: int = 4) -> list[MadeUser]:
    """What `make run` prepares (catalogue, baseline round R0, our MSE survey) plus binaryType; the enumerators."""
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((FORMS / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(FORMS / "mse_survey.xlsx")
    factory.publish(BINARY_FORM)
    return [factory.user(f"enum{i}", Role.ENUMERATOR) for i in range(enumerators)]


def baseline_interviews(app: Flask, count: int, seed: int = 11) -> list[Instance]:
    """``count`` baseline interviews of distinct firms over the nine chains, as `demo generate` writes them."""
    with app.app_context(), transaction() as session:
        chains, reasons = demo.catalogue(session)
        round_specs, _ = demo.ensure_rounds(session, 2, create=False)
        form = demo.form_spec(session, "mse_survey")
    firms = -(-count * 10 // (9 * 9))  # per chain, with room for the ±15 % spread of chain sizes
    panel = generate_panel(chains, reasons, round_specs, form, PanelParams(chains=9, firms=max(10, firms), seed=seed))
    by_chain = [list(chain) for _, chain in groupby(panel.interviews[0], key=lambda i: i.firm.chain)]
    taken = [i for row in zip_longest(*by_chain) for i in row if i is not None][:count]  # the chains in turn
    if len(taken) < count:
        raise ValueError(f"the panel has {len(taken)} baseline interviews, {count} wanted")
    return [Instance(i.instance_id, instance_xml(i, form, None)) for i in taken]


def with_attachments(count: int, prefix: str = "att") -> list[Instance]:
    """binaryType instances, each naming an image and a video that are random bytes of their own."""
    out = []
    for n in range(count):
        iid = f"uuid:{prefix}-{n:05d}-{os.urandom(4).hex()}"
        image, video = f"img{n}.jpg", f"vid{n}.mp4"
        xml = (
            f'<data id="binaryType"><meta><instanceID>{iid}</instanceID></meta>'
            f"<file1>{image}</file1><file2>{video}</file2></data>"
        ).encode()
        out.append(Instance(iid, xml, {image: os.urandom(2048 + n % 512), video: os.urandom(8192 + n % 1024)}))
    return out


def conflicting(instance: Instance) -> Instance:
    """The same instanceID with different content (another answer), as a second phone's copy would be."""
    changed = instance.xml.replace(b"</meta>", b"</meta><!-- edited on another device -->", 1)
    if changed == instance.xml:
        raise ValueError("no </meta> to change")
    return Instance(instance.instance_id, changed, instance.files)
