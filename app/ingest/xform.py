"""Read what the server needs from an XForm definition: identity, title, binary questions and media.

The XForm is stored and served byte for byte; this only reads it (../shared/docs/openrosa.md §2-§4).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from app.ingest.mapping import MappingError, read_mapping
from app.ingest.xmltree import XmlError, XNode, parse

MEDIA_REF = re.compile(r"jr://(?:images|audio|video|file|file-csv|file-geojson)/([^\s\"'<>]+)")


class XFormError(ValueError):
    """The file is not an XForm the server can publish."""


@dataclass(frozen=True)
class XFormInfo:
    form_id: str
    version: str
    title: str
    binary_paths: tuple[str, ...]
    media_names: tuple[str, ...]
    encrypted: bool
    mapping: dict[str, Any] = field(default_factory=dict)  # chainlift:field declarations (docs/mapping.md)


def _primary_instance_root(model: XNode) -> XNode:
    for instance in (c for c in model.children if c.tag == "instance"):
        if instance.attr("id") is None:
            roots = list(instance.children)
            if len(roots) != 1:
                raise XFormError("the primary <instance> must hold exactly one root element")
            return roots[0]
    raise XFormError("the <model> has no primary <instance>")


def _media_names(root: XNode) -> tuple[str, ...]:
    names: set[str] = set()
    for node in root.walk():
        for text in (node.text, *node.attrs.values()):
            for ref in MEDIA_REF.findall(text):
                name = posixpath.basename(ref)
                if name and name not in {".", ".."}:
                    names.add(name)
    return tuple(sorted(names))


def read_xform(data: bytes) -> XFormInfo:
    try:
        html = parse(data)
    except XmlError as exc:
        raise XFormError(f"not valid XML: {exc}") from exc
    head = html.child("head")
    model = head.child("model") if head is not None else None
    if html.tag != "html" or head is None or model is None:
        raise XFormError("not an XForm: expected <h:html><h:head><model>")
    root = _primary_instance_root(model)
    form_id = (root.attr("id") or "").strip()
    if not form_id:
        raise XFormError("the primary instance's root element has no id attribute (the form id)")
    title_node = head.child("title")
    title = title_node.text.strip() if title_node is not None else ""
    prefix = f"/{root.tag}/"
    binary_paths = tuple(
        bind.attrs["nodeset"].removeprefix(prefix)
        for bind in model.children
        if bind.tag == "bind" and local_type(bind.attr("type")) == "binary" and "nodeset" in bind.attrs
    )
    submission = model.child("submission")
    try:
        mapping = read_mapping(html, root.tag)
    except MappingError as exc:
        raise XFormError("its chainlift mapping has errors: " + "; ".join(exc.errors)) from exc
    return XFormInfo(
        form_id=form_id,
        version=(root.attr("version") or "").strip(),
        title=title or form_id,
        binary_paths=binary_paths,
        media_names=_media_names(html),
        encrypted=submission is not None and bool(submission.attr("base64RsaPublicKey")),
        mapping=mapping,
    )


def local_type(value: str | None) -> str:
    return (value or "").rsplit(":", 1)[-1]
