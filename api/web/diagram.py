"""The process diagram as people read it: lanes named after the role in words (the model names
them by role code, the SpiffArena convention the engine relies on), and, in English, each step by
its ``nameEn`` property. Only the copy sent to the browser changes; the model is untouched."""

from __future__ import annotations

from lxml import etree

from workflows.models import role_labels

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def readable_diagram(xml: str, lang: str) -> str:
    """``xml`` with lane names in words and, for ``lang == "en"``, English step names."""
    if not xml:
        return xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    english = lang == "en"
    for lane in root.iter(f"{{{BPMN}}}lane"):
        labels = role_labels().get(lane.get("name", ""))
        if labels:
            lane.set("name", labels[1] if english else labels[0])
    if english:
        for element in root.iter():
            for prop in element.findall(
                f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"
            ):
                if prop.get("name") == "nameEn" and prop.get("value"):
                    element.set("name", prop.get("value"))
    return etree.tostring(root, encoding="unicode")
