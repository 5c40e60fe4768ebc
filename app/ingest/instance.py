"""Read what the server needs from a submitted instance (OpenRosa XML): identity, edit link, encryption.

See ../shared/docs/openrosa.md §5.2, §6 and §7. Values are matched by local name; IDs are taken as they are
(bare IDs such as ``one`` are valid; the ``uuid:`` scheme is not required).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ingest.xmltree import XmlError, XNode, parse

MAX_ID_LENGTH = 255


class InstanceError(ValueError):
    """The instance lacks something the server cannot do without."""


@dataclass(frozen=True)
class EncryptedEnvelope:
    key: str
    xml_file: str
    media_files: tuple[str, ...]
    signature: str | None


@dataclass(frozen=True)
class Instance:
    root: XNode
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    encrypted: EncryptedEnvelope | None

    def mentioned_files(self, part_names: set[str]) -> set[str]:
        """Which of these multipart names the instance refers to (a binary answer holds the bare file name).

        Lets the caller store attachment parts before it knows the form's binary questions; only those the
        form declares are then recorded.
        """
        if not part_names:
            return set()
        too_long = sorted(n for n in part_names if len(n) > MAX_ID_LENGTH)
        if too_long:
            raise InstanceError(f"Attachment names are at most {MAX_ID_LENGTH} characters: {too_long[0][:40]}...")
        if self.encrypted is not None:
            return part_names & {*self.encrypted.media_files, self.encrypted.xml_file}
        return part_names & {node.text.strip() for node in self.root.walk() if not node.children}

    def values_at(self, path: str) -> list[str]:
        """Text of every element at a /-path below the root (repeats give several)."""
        return [n.text.strip() for n in self.root.find(path)]


def _meta_value(root: XNode, name: str) -> str | None:
    meta = root.child("meta")
    node = meta.child(name) if meta is not None else None
    if node is None:
        node = root.child(name)  # legacy: instanceID directly under the root
    value = node.text.strip() if node is not None else ""
    if len(value) > MAX_ID_LENGTH:
        raise InstanceError(f"meta/{name} is longer than {MAX_ID_LENGTH} characters")
    return value or None


def _envelope(root: XNode) -> EncryptedEnvelope | None:
    key = root.child("base64EncryptedKey")
    if key is None:
        return None
    xml_file = root.child("encryptedXmlFile")
    if xml_file is None or not xml_file.text.strip():
        raise InstanceError("encrypted submission without encryptedXmlFile")
    signature = root.child("base64EncryptedElementSignature")
    media = tuple(f.text.strip() for m in root.find("media") for f in m.children if f.tag == "file" and f.text.strip())
    return EncryptedEnvelope(
        key=key.text.strip(),
        xml_file=xml_file.text.strip(),
        media_files=media,
        signature=signature.text.strip() if signature is not None else None,
    )


def read_instance(data: bytes) -> Instance:
    try:
        root = parse(data)
    except XmlError as exc:
        raise InstanceError(f"The submission is not valid XML: {exc}.") from exc
    form_id = (root.attr("id") or "").strip()
    if not form_id:
        raise InstanceError("The submission's root element has no form id attribute (id).")
    instance_id = _meta_value(root, "instanceID")
    if instance_id is None:
        raise InstanceError("The submission has no meta/instanceID.")
    return Instance(
        root=root,
        form_id=form_id,
        version=(root.attr("version") or "").strip(),
        instance_id=instance_id,
        deprecated_id=_meta_value(root, "deprecatedID"),
        instance_name=_meta_value(root, "instanceName"),
        encrypted=_envelope(root),
    )
