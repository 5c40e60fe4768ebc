"""A small mapped form (pyxform markdown) and instances of it, for processing tests."""

# ruff: noqa: E501 - the form is a table

from __future__ import annotations

import uuid
from collections.abc import Sequence

MINI_FORM = b"""
| survey |
|        | type              | name     | label    | bind::chainlift:field | bind::chainlift:values |
|        | end               | end      |          | interview.end         |                        |
|        | text              | round    | Round    | interview.round       |                        |
|        | select_one yn     | consent  | Consent  | interview.consent     | 1=yes 0=no             |
|        | begin_group       | id       | Firm     |                       |                        |
|        | text              | chain    | Chain    | firm.value_chain      |                        |
|        | text              | panel    | Panel    | firm.panel_code       |                        |
|        | text              | fname    | Name     | firm.name             |                        |
|        | select_one sex    | sex      | Sex      | owner.sex             | 1=female 2=male        |
|        | end_group         |          |          |                       |                        |
|        | decimal           | sales    | Sales    | observation.sales_value |                      |
|        | decimal           | inputs   | Inputs   | observation.input_cost |                       |
|        | begin_repeat      | dec      | Practice |                       |                        |
|        | text              | practice | Practice | decision.practice     |                        |
|        | select_one st     | status   | Status   | decision.status       | 1=adopted 2=tried 3=abandoned 4=not_adopted |
|        | integer           | first    | First    | decision.first_year   |                        |
|        | integer           | last     | Last     | decision.last_year    |                        |
|        | integer           | benefit  | Benefit  | decision.benefit      |                        |
|        | text              | reason   | Reason   | decision.main_reason  |                        |
|        | end_repeat        |          |          |                       |                        |
| choices |
|         | list_name | name | label |
|         | yn        | 1    | Yes   |
|         | yn        | 0    | No    |
|         | sex       | 1    | F     |
|         | sex       | 2    | M     |
|         | st        | 1    | A     |
|         | st        | 2    | T     |
|         | st        | 3    | B     |
|         | st        | 4    | N     |
| settings |
|          | form_id | version | namespaces |
|          | mini    | 1       | chainlift="https://chainlift.org/xforms/mapping" |
"""

Decision = tuple[str, str, str, str, str, str]  # practice, status code, first, last, benefit, reason


def mini_instance(
    *,
    instance_id: str | None = None,
    round_code: str = "R0",
    consent: str = "1",
    chain: str = "KE-AVO",
    panel: str = "",
    name: str = "Wanjiru's farm",
    sex: str = "1",
    sales: str = "1000",
    inputs: str = "250.50",
    decisions: Sequence[Decision] = (("KE-AVO-PROC-SPRAY", "1", "2024", "", "4", ""),),
    deprecated_id: str | None = None,
    end: str = "2026-11-20T10:30:00.000+03:00",
) -> bytes:
    iid = instance_id or f"uuid:{uuid.uuid4()}"
    rows = "".join(
        f"<dec><practice>{p}</practice><status>{s}</status><first>{f}</first><last>{la}</last>"
        f"<benefit>{b}</benefit><reason>{r}</reason></dec>"
        for p, s, f, la, b, r in decisions
    )
    deprecated = f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    return (
        f'<data id="mini" version="1"><end>{end}</end><round>{round_code}</round><consent>{consent}</consent>'
        f"<id><chain>{chain}</chain><panel>{panel}</panel><fname>{name}</fname><sex>{sex}</sex></id>"
        f"<sales>{sales}</sales><inputs>{inputs}</inputs>{rows}"
        f"<meta><instanceID>{iid}</instanceID>{deprecated}</meta></data>"
    ).encode()
