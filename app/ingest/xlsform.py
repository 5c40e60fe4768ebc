"""XLSForm workbooks to XForm XML with pyxform, with its errors and warnings kept for the form designer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.utils import external_choices_to_csv, has_external_choices
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

XLSFORM_SUFFIXES = {".xlsx", ".xls", ".xlsm", ".csv", ".md"}


class XLSFormError(ValueError):
    """pyxform refused the workbook; the message names the sheet and row where pyxform does."""


@dataclass(frozen=True)
class Converted:
    xform: bytes
    warnings: tuple[str, ...]
    itemsets_csv: bytes | None  # the external_choices sheet, served as the form's itemsets.csv


def is_xlsform(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in XLSFORM_SUFFIXES


def convert_xlsform(data: bytes, filename: str) -> Converted:
    """pyxform's own ``convert``, except that a workbook without settings/form_id gets its file name as the
    form id (as pyxform does for a path) instead of the generic ``data`` it uses for bytes."""
    path = PurePath(filename)
    warnings: list[str] = []
    try:
        workbook = get_xlsform(xlsform=data, file_type=path.suffix.lower())
        pyxform_data = workbook_to_json(
            workbook_dict=workbook, form_name=None, fallback_form_name=path.stem, warnings=warnings
        )
        itemsets = (
            external_choices_to_csv(workbook_dict=workbook) if has_external_choices(json_struct=pyxform_data) else None
        )
        xform = create_survey_element_from_dict(pyxform_data).to_xml(validate=False, warnings=warnings)
    except PyXFormError as exc:
        raise XLSFormError(str(exc)) from exc
    except (ValueError, KeyError, TypeError, IndexError) as exc:  # malformed workbooks can surface as these
        raise XLSFormError(f"pyxform could not read {filename}: {exc}") from exc
    return Converted(
        xform=xform.encode("utf-8"),
        warnings=tuple(warnings),
        itemsets_csv=itemsets.encode("utf-8") if itemsets else None,
    )
