// The process diagram of a dossier (bpmn-js navigated viewer from npm), with the steps done and
// the step waiting now marked. Without JavaScript the page shows the timeline instead.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const container = document.getElementById("diagram");
  if (!container || typeof window.BpmnJS !== "function") {
    return;
  }
  try {
    const response = await fetch(container.dataset.src, { credentials: "same-origin" });
    if (!response.ok) {
      return;
    }
    const { xml, current, done } = await response.json();
    container.textContent = "";
    container.classList.add("diagram--ready");
    const viewer = new window.BpmnJS({ container });
    await viewer.importXML(xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    for (const id of done) {
      if (registry.get(id)) {
        canvas.addMarker(id, "step-done");
      }
    }
    for (const id of current) {
      if (registry.get(id)) {
        canvas.addMarker(id, "step-current");
      }
    }
    canvas.zoom("fit-viewport");
  } catch (error) {
    container.classList.add("diagram--failed");
  }
});
