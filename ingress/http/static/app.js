// The dashboard: requests as cards, kept live by the feed; filters in the URL hash; a detail
// dialog per request and a health dialog. Feed messages only mark what changed; one animation
// frame applies them. The server tells the page its role (<body data-role>): a viewer's page
// shows no action (the stylesheet hides `.admin-only`), and the server refuses them anyway.
import * as api from "./api.js";
import { Board } from "./board.js";
import { Detail } from "./detail.js";
import { h, setText } from "./dom.js";
import { openFeed } from "./feed.js";
import { SORTS, TABS, TYPES, compare, matches, readHash, tabOf, writeHash } from "./filters.js";
import { refreshTimes } from "./format.js";
import { Health } from "./health.js";

const LIST_LIMIT = 500;
const BADGE_REFRESH_MS = 30000;
const TIMES_REFRESH_MS = 30000;

const requests = new Map();
let filters = readHash();
let total = null;
let loadedOffset = 0;

const list = document.getElementById("requests");
const empty = document.getElementById("empty");
const more = document.getElementById("more");
const liveStatus = document.getElementById("live-status");
const search = document.getElementById("search");
const sortSelect = document.getElementById("sort");
const typeSelect = document.getElementById("type");
const tabBar = document.getElementById("tabs");

const board = new Board(list, { onOpen: (id, button) => openDetail(id, button) });
const detail = new Detail({
  onClose: (id) => {
    filters.open = "";
    writeHash(filters);
    const button = board.button(id) ?? returnFocus;
    if (button?.isConnected) button.focus();
  },
  onDownloads: (id, downloads) => board.setDownloads(id, downloads),
});
let returnFocus = null;

const healthButton = document.getElementById("health-open");
const health = new Health({
  canChange: document.body.dataset.role !== "viewer",
  onClose: () => {
    filters.health = "";
    writeHash(filters);
    healthButton.focus();
  },
});
healthButton.addEventListener("click", () => openHealth());

function openHealth() {
  filters.health = "1";
  writeHash(filters);
  health.open();
}

// -- filters ------------------------------------------------------------------------------

const tabButtons = new Map();
for (const tab of TABS) {
  const count = h("span", { class: "count" });
  const button = h("button", { type: "button", class: "tab", "aria-pressed": "false", dataset: { tab: tab.id } },
    h("span", { text: tab.label }), " ", count);
  button.count = count;
  button.addEventListener("click", () => setFilters({ tab: tab.id }));
  tabButtons.set(tab.id, button);
  tabBar.append(button);
}
for (const [value, label] of Object.entries(SORTS)) sortSelect.append(h("option", { value, text: label }));
for (const [value, label] of Object.entries(TYPES)) typeSelect.append(h("option", { value, text: label }));

search.addEventListener("input", () => setFilters({ q: search.value }));
sortSelect.addEventListener("change", () => setFilters({ sort: sortSelect.value }));
typeSelect.addEventListener("change", () => setFilters({ type: typeSelect.value }));
window.addEventListener("hashchange", () => {
  const wanted = readHash();
  const openChanged = wanted.open !== filters.open;
  filters = wanted;
  showFilters();
  schedule();
  if (openChanged) {
    if (wanted.open) openDetail(Number(wanted.open), null);
    else detail.close();
  }
  if (Boolean(wanted.health) !== health.isOpen) {
    if (wanted.health) openHealth();
    else health.close();
  }
});

function setFilters(change) {
  filters = { ...filters, ...change };
  writeHash(filters);
  showFilters();
  schedule();
}

function showFilters() {
  if (search.value !== filters.q) search.value = filters.q;
  sortSelect.value = filters.sort;
  typeSelect.value = filters.type;
  for (const [id, button] of tabButtons) button.setAttribute("aria-pressed", String(id === filters.tab));
}

// -- rendering ----------------------------------------------------------------------------

let frame = null;
function schedule() {
  if (frame === null) frame = requestAnimationFrame(render);
}

function render() {
  frame = null;
  const counts = Object.fromEntries(TABS.map((tab) => [tab.id, 0]));
  const shown = [];
  for (const item of requests.values()) {
    if (!matches(item, filters, { ignoreTab: true })) continue;
    counts.all += 1;
    const tab = tabOf(item.state);
    if (tab) counts[tab] += 1;
    if (filters.tab === "all" || tab === filters.tab) shown.push(item);
  }
  for (const [id, button] of tabButtons) setText(button.count, counts[id]);
  shown.sort(compare(filters.sort));
  board.arrange(shown);
  empty.hidden = shown.length > 0;
  setText(empty, requests.size ? "No request matches these filters." : "Nothing has been requested yet.");
  more.hidden = total === null || loadedOffset >= total;
  setText(more, total === null ? "" : `Load older requests (${loadedOffset} of ${total} loaded)`);
}

function upsert(item) {
  const known = requests.get(item.id);
  // The list and the feed can cross: never replace a newer state by an older one.
  if (known && known.updated_at && item.updated_at && item.updated_at < known.updated_at) return;
  requests.set(item.id, item);
  board.upsert(item);
  wantBadges(item);
}

// -- download badges on cards ---------------------------------------------------------------

// The list and the feed do not carry downloads; for requests that are downloading, the detail
// is read now and then so a stalled or paused download shows on its card.
const badgeChecked = new Map();
const badgeQueue = new Set();
let badgeBusy = false;

function wantBadges(item) {
  if (!["grabbing", "downloading"].includes(item.state)) return;
  if (Date.now() - (badgeChecked.get(item.id) ?? 0) < BADGE_REFRESH_MS) return;
  badgeQueue.add(item.id);
  drainBadges();
}

async function drainBadges() {
  if (badgeBusy) return;
  badgeBusy = true;
  try {
    for (const id of badgeQueue) {
      badgeQueue.delete(id);
      badgeChecked.set(id, Date.now());
      if (detail.openId === id) continue;
      try {
        board.setDownloads(id, (await api.getRequest(id)).downloads ?? []);
      } catch {
        // Badges are a hint; the next change of this request tries again.
      }
    }
  } finally {
    badgeBusy = false;
  }
}

// -- detail -------------------------------------------------------------------------------

function openDetail(id, button) {
  returnFocus = button ?? board.button(id);
  filters.open = String(id);
  writeHash(filters);
  detail.open(id, requests.get(id));
}

// -- data ---------------------------------------------------------------------------------

async function loadPage(offset) {
  try {
    const page = await api.listRequests({ limit: LIST_LIMIT, offset });
    total = page.total;
    loadedOffset = Math.max(loadedOffset, offset + page.items.length);
    for (const item of page.items) upsert(item);
    schedule();
  } catch (exc) {
    if (exc.status === 401) signedOut();
    else setText(liveStatus, `Could not load the requests: ${exc.message}`);
  }
}

more.addEventListener("click", () => loadPage(loadedOffset));

// A snapshot holds the newest active requests only; it names the query that lists the rest.
async function loadRestOfActive(rest) {
  let after = rest.after;
  try {
    while (after) {
      const page = await api.listRequests({ state: rest.state, limit: LIST_LIMIT, after });
      for (const item of page.items) upsert(item);
      schedule();
      after = page.next_after;
    }
  } catch (exc) {
    if (exc.status === 401) signedOut();
    else setText(liveStatus, `Could not load the requests: ${exc.message}`);
  }
}

function signedOut() {
  // The session ended (expired, or signed out in another tab): the page at / asks again.
  location.reload();
}

let connections = 0;
openFeed({
  onOpen: () => {
    connections += 1;
    liveStatus.dataset.state = "live";
    setText(liveStatus, "Live");
    if (connections > 1) {
      // Anything missed while away: finished requests outside the snapshot, the open detail.
      loadPage(0);
      detail.refresh();
    }
  },
  onClose: async ({ wait, opened }) => {
    liveStatus.dataset.state = "offline";
    setText(liveStatus, `Connection lost, retrying in ${Math.ceil(wait / 1000)} s`);
    if (!opened) {
      try {
        await api.listRequests({ limit: 1 });
      } catch (exc) {
        if (exc.status === 401) signedOut();
      }
    }
  },
  onMessage: (message) => {
    if (message.type === "snapshot") {
      for (const item of message.requests ?? []) upsert(item);
      if (message.more) loadRestOfActive(message.more);
    } else if (message.type === "request") {
      upsert(message.request);
      if (message.request.id === detail.openId) detail.feed(message);
    } else if ((message.type === "episode" || message.type === "timeline") && message.request_id === detail.openId) {
      detail.feed(message);
    }
    schedule();
  },
});

setInterval(() => refreshTimes(), TIMES_REFRESH_MS);
showFilters();
await loadPage(0);
if (filters.open) openDetail(Number(filters.open), null);
else if (filters.health) openHealth();
