"""Safe, prefix-tolerant XML parsing shared by the instance and XForm readers.

Untrusted XML is parsed with defusedxml: a DTD (and so any entity, external or internal) is refused outright.
Namespace processing is off, and elements are matched by *local name*, as ODK Central does: real instances
use ``orx:`` prefixes without declaring them, and stray ``xmlns:`` declarations are common.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.dom.minidom import Document, Element, Node
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException, expatbuilder

MAX_DEPTH = 64


class XmlError(ValueError):
    """The bytes are not XML we accept."""


@dataclass
class XNode:
    """An element reduced to what we use: local name, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list[XNode] = field(default_factory=list)
    text: str = ""

    def child(self, name: str) -> XNode | None:
        return next((c for c in self.children if c.tag == name), None)

    def find(self, path: str) -> list[XNode]:
        """Every element at a /-separated path of local names below this one."""
        nodes = [self]
        for part in path.strip("/").split("/"):
            nodes = [c for n in nodes for c in n.children if c.tag == part]
        return nodes

    def walk(self) -> Iterator[XNode]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def attr(self, name: str) -> str | None:
        """An attribute by local name (``version`` also matches ``orx:version``)."""
        if name in self.attrs:
            return self.attrs[name]
        return next((v for k, v in self.attrs.items() if local_name(k) == name), None)


def local_name(qualified: str) -> str:
    return qualified.rsplit(":", 1)[-1]


def parse(data: bytes) -> XNode:
    try:
        # bytes are what expat wants (the encoding comes from the XML declaration); the stub says str
        document: Document = expatbuilder.parseString(data, namespaces=False, forbid_dtd=True)  # type: ignore[arg-type]
    except DefusedXmlException as exc:
        raise XmlError("XML with a DTD or entity declarations is not accepted") from exc
    except ExpatError as exc:
        raise XmlError(f"the XML is not well-formed ({exc})") from exc
    if document.documentElement is None:
        raise XmlError("the XML has no root element")
    try:
        return _convert(document.documentElement)
    finally:
        document.unlink()


def _convert(root: Element) -> XNode:
    """Iteratively, so that hostile nesting hits MAX_DEPTH instead of the recursion limit."""
    top = XNode(local_name(root.tagName), dict(root.attributes.items()))
    stack: list[tuple[Element, XNode, int]] = [(root, top, 1)]
    while stack:
        element, node, depth = stack.pop()
        texts = []
        for child in element.childNodes:
            if child.nodeType == Node.ELEMENT_NODE:
                if depth >= MAX_DEPTH:
                    raise XmlError(f"the XML is nested deeper than {MAX_DEPTH} levels")
                if not isinstance(child, Element):
                    continue
                sub = XNode(local_name(child.tagName), dict(child.attributes.items()))
                node.children.append(sub)
                stack.append((child, sub, depth + 1))
            elif child.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE):
                texts.append(child.data)
        node.text = "".join(texts)
    return top
