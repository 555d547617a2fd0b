// Small DOM helpers. Setters write only when the value differs, so a feed message that changes
// one number touches one text node and the browser re-lays out nothing else.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return el;
}

export function setText(el, value) {
  const text = value === null || value === undefined ? "" : String(value);
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el, name, value) {
  if (value === null || value === undefined || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
    return;
  }
  const text = value === true ? "" : String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

export function setHidden(el, hidden) {
  if (el.hidden !== Boolean(hidden)) el.hidden = Boolean(hidden);
}

export function progressBar(label) {
  const fill = h("span", { class: "fill" });
  const bar = h("span", {
    class: "bar",
    role: "progressbar",
    "aria-label": label,
    "aria-valuemin": 0,
    "aria-valuemax": 100,
    "aria-valuenow": 0,
  }, fill);
  bar.fill = fill;
  return bar;
}

export function setProgress(bar, value, text) {
  const clamped = Math.min(Math.max(Number(value) || 0, 0), 100);
  setAttr(bar, "aria-valuenow", clamped);
  setAttr(bar, "aria-valuetext", text);
  const width = `${clamped}%`;
  if (bar.fill.style.width !== width) bar.fill.style.width = width;
}

export function setLabel(bar, label) {
  setAttr(bar, "aria-label", label);
}

// Puts exactly `elements` under `parent`, in order, moving only the nodes that are out of place
// (a moved node loses its focus: it is given back, so a keyboard user keeps their place).
export function placeChildren(parent, elements) {
  const focused = document.activeElement;
  let cursor = parent.firstElementChild;
  for (const el of elements) {
    if (el === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(el, cursor);
  }
  while (cursor) {
    const next = cursor.nextElementSibling;
    cursor.remove();
    cursor = next;
  }
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
}

// One view per key under a parent: `sync` creates the views of new keys, updates the others in
// place and drops the ones gone, so open <details>, focus and scroll survive every refresh.
export class KeyedList {
  constructor(parent, keyOf, create) {
    this.parent = parent;
    this.keyOf = keyOf;
    this.create = create;
    this.views = new Map();
  }

  sync(items) {
    const kept = new Map();
    for (const item of items) {
      const key = this.keyOf(item);
      const view = this.views.get(key) ?? this.create(item);
      view.update(item);
      kept.set(key, view);
    }
    this.views = kept;
    placeChildren(this.parent, [...kept.values()].map((view) => view.el));
  }

  clear() {
    this.views.clear();
    this.parent.replaceChildren();
  }
}
