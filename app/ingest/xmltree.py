"""Safe, prefix-tolerant XML parsing shared by the instance and XForm readers.

Untrusted XML is parsed with defusedxml: a DTD (and so any entity, external or internal) is refused outright.
Namespace processing is off, and elements are matched by *local name*, as ODK Central does: real instances
use ``orx:`` prefixes without declaring them, and stray ``xmlns:`` declarations are common.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

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
    """Stream the bytes through defusedxml's SAX reader, building XNodes; depth is checked as elements open."""
    builder = _Builder()
    reader = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    reader.setContentHandler(builder)
    try:
        reader.feed(data)
        reader.close()
    except DefusedXmlException as exc:
        raise XmlError("XML with a DTD or entity declarations is not accepted") from exc
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise XmlError(f"the XML declares an unknown encoding ({exc})") from exc
    except SAXParseException as exc:
        raise XmlError(f"the XML is not well-formed ({exc.getMessage()}: line {exc.getLineNumber()})") from exc
    if builder.root is None:
        raise XmlError("the XML has no root element")
    return builder.root


class _Builder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: XNode | None = None
        self._open: list[tuple[XNode, list[str]]] = []

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 - the SAX interface
        if len(self._open) >= MAX_DEPTH:
            raise XmlError(f"the XML is nested deeper than {MAX_DEPTH} levels")
        node = XNode(local_name(name), dict(attrs.items()))
        if self._open:
            self._open[-1][0].children.append(node)
        else:
            self.root = node
        self._open.append((node, []))

    def endElement(self, name: str) -> None:  # noqa: N802, ARG002 - the SAX interface
        node, texts = self._open.pop()
        node.text = "".join(texts)

    def characters(self, content: str) -> None:
        if self._open:
            self._open[-1][1].append(content)
