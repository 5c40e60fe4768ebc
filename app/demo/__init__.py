"""A synthetic firm panel for demonstrations and tests: pure, deterministic, with a known effect.

No database and no Flask here: ``generate_panel`` takes a plain description of the catalogue and the rounds and a
seed, and returns dataclasses; ``instance_xml`` writes one interview as a filled instance of our MSE survey.
app/services/demo.py reads the catalogue from the database and stores the instances; `flask demo generate` runs it.
"""

from app.demo.generate import PanelError, choose_chains, generate_panel
from app.demo.instances import instance_file, instance_xml, predicted_roster, read_roster
from app.demo.model import (
    ChainSpec,
    FormSpec,
    FunctionSpec,
    GeneratedChain,
    GeneratedPanel,
    Interview,
    MarketSpec,
    PanelParams,
    PracticeSpec,
    ReasonSpec,
    RoundSpec,
)

__all__ = [
    "ChainSpec",
    "FormSpec",
    "FunctionSpec",
    "GeneratedChain",
    "GeneratedPanel",
    "Interview",
    "MarketSpec",
    "PanelError",
    "PanelParams",
    "PracticeSpec",
    "ReasonSpec",
    "RoundSpec",
    "choose_chains",
    "generate_panel",
    "instance_file",
    "instance_xml",
    "predicted_roster",
    "read_roster",
]
