// An in-page confirmation (a modal <dialog>): unlike window.confirm it can be styled, read by
// screen readers with its own wording, and it never blocks the live feed.
import { h } from "./dom.js";

let dialog = null;

function build() {
  const message = h("p", { id: "confirm-message" });
  const title = h("h2", { id: "confirm-title" });
  const cancel = h("button", { type: "submit", value: "cancel", class: "secondary", text: "Cancel" });
  const ok = h("button", { type: "submit", value: "ok", class: "danger" });
  dialog = h("dialog", { id: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-message" },
    h("form", { method: "dialog" }, title, message, h("div", { class: "actions" }, cancel, ok)));
  dialog.parts = { message, title, ok, cancel };
  document.body.append(dialog);
}

export function confirmAction({ title, message, action }) {
  if (!dialog) build();
  dialog.parts.title.textContent = title;
  dialog.parts.message.textContent = message;
  dialog.parts.ok.textContent = action;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    // The safe choice has the focus: Enter does not delete by accident.
    dialog.parts.cancel.focus();
  });
}
