// The dashboard: requests as cards, kept live by the feed; filters in the URL hash, each read
// from the API (a search or a tab reaches every request, not only those loaded) and the tab
// counts are the API's totals; a detail dialog per request and a health dialog. Feed messages only mark what changed; one animation
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
const REFRESH_MS = 30000;
const COUNTS_DELAY_MS = 1000;
const SEARCH_DELAY_MS = 250;

const requests = new Map();
let filters = readHash();

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
  const listChanged = viewKey(wanted) !== viewKey(filters);
  filters = wanted;
  showFilters();
  schedule();
  if (listChanged) filtersChanged();
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
  const before = viewKey(filters);
  filters = { ...filters, ...change };
  writeHash(filters);
  showFilters();
  schedule();
  if (viewKey(filters) !== before) filtersChanged();
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
  const shown = [];
  for (const item of requests.values()) {
    if (!matches(item, filters, { ignoreTab: true })) continue;
    const tab = tabOf(item.state);
    if (filters.tab === "all" || tab === filters.tab) shown.push(item);
  }
  // The counts are the API's totals (every request, not only those on the page); until they
  // are in, only what is certain: nothing (the page may hold a part of the list).
  const counts = countsFor === countsKey(filters) ? apiCounts : null;
  for (const [id, button] of tabButtons) setText(button.count, counts ? counts[id] : "");
  shown.sort(compare(filters.sort));
  board.arrange(shown);
  const view = views.get(viewKey(filters));
  const searching = !shown.length && (!view || view.total === null);
  empty.hidden = shown.length > 0;
  setText(empty, searching ? "Searching…"
    : requests.size || filters.q || filters.type ? "No request matches these filters." : "Nothing has been requested yet.");
  const total = counts ? counts[filters.tab] : view?.total ?? null;
  more.hidden = !view?.after || total === null || shown.length >= total;
  setText(more, more.hidden ? "" : `Load older requests (${shown.length} of ${total} shown)`);
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

// What the API is asked for the current filters: the tab's states, the search, the type.
function apiFilter(f, tabId = f.tab) {
  const params = {};
  const q = f.q.trim();
  if (q) params.q = q;
  if (f.type) params.media_type = f.type;
  const tab = TABS.find((t) => t.id === tabId);
  // "pending" is an episode's state; the API refuses it as a request's.
  if (tab?.states) params.state = tab.states.filter((s) => s !== "pending").join(",");
  return params;
}

const viewKey = (f) => JSON.stringify(apiFilter(f));
const countsKey = (f) => JSON.stringify([f.q.trim(), f.type]);

// The requests matching each filter the page has shown, read from the API a page at a time
// (newest first), so a search or a tab reaches every request, not only those loaded.
const views = new Map();

function failed(exc) {
  if (exc.status === 401) signedOut();
  else setText(liveStatus, `Could not load the requests: ${exc.message}`);
}

async function loadView({ more: further = false } = {}) {
  const f = filters;
  const key = viewKey(f);
  let view = views.get(key);
  if (view && (!further || !view.after || view.busy)) return;
  if (!view) {
    view = { total: null, after: null, busy: false };
    views.set(key, view);
  }
  view.busy = true;
  try {
    const params = { ...apiFilter(f), limit: LIST_LIMIT };
    if (view.after) params.after = view.after;
    const page = await api.listRequests(params);
    view.total = page.total;
    view.after = page.next_after;
    for (const item of page.items) upsert(item);
  } catch (exc) {
    if (!view.after) views.delete(key);
    failed(exc);
  } finally {
    view.busy = false;
    schedule();
  }
}

more.addEventListener("click", () => loadView({ more: true }));

// The tab counts: each tab's total for the search and type, from the API.
let apiCounts = null;
let countsFor = null;
let countsAsked = 0;
let countsTimer = null;

function wantCounts(delay = COUNTS_DELAY_MS) {
  if (countsTimer !== null) return;
  countsTimer = setTimeout(() => {
    countsTimer = null;
    refreshCounts();
  }, delay);
}

async function refreshCounts() {
  const asked = ++countsAsked;
  const f = filters;
  try {
    const totals = await Promise.all(TABS.map((tab) =>
      api.listRequests({ ...apiFilter(f, tab.id), limit: 1 }).then((page) => page.total)));
    if (asked !== countsAsked) return;
    apiCounts = Object.fromEntries(TABS.map((tab, i) => [tab.id, totals[i]]));
    countsFor = countsKey(f);
    schedule();
  } catch (exc) {
    if (asked === countsAsked) failed(exc);
  }
}

function moveCount(before, after) {
  if (!apiCounts || countsFor !== countsKey(filters)) return;
  for (const [item, step] of [[before, -1], [after, 1]]) {
    if (!item || !matches(item, filters, { ignoreTab: true })) continue;
    const tab = tabOf(item.state);
    if (tab) apiCounts[tab] = Math.max(0, apiCounts[tab] + step);
    if (!before) apiCounts.all += step;
  }
}

let viewTimer = null;
function filtersChanged() {
  // Typing asks once it pauses; the loaded requests are filtered at once meanwhile.
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => {
    loadView();
    refreshCounts();
  }, filters.q ? SEARCH_DELAY_MS : 0);
}

// A snapshot holds the newest active requests only; it names the query that lists the rest.
async function loadAll(state, after = null) {
  try {
    do {
      const page = await api.listRequests({ state, limit: LIST_LIMIT, ...(after ? { after } : {}) });
      for (const item of page.items) upsert(item);
      schedule();
      after = page.next_after;
    } while (after);
  } catch (exc) {
    failed(exc);
  }
}

// Reasons say for how long ("no seeds for 3 min"): the service words them when asked, and the
// feed resends a request only when it changes. While the page is seen, the requests still
// moving and the open detail are read again now and then, so the words stay true.
const MOVING = TABS.filter((tab) => tab.id === "active" || tab.id === "waiting")
  .flatMap((tab) => tab.states)
  .filter((state) => state !== "pending") // an episode's state, not a request's
  .join(",");

function refreshWhileSeen() {
  if (document.visibilityState !== "visible" || liveStatus.dataset.state !== "live") return;
  loadAll(MOVING);
  detail.refresh();
  refreshCounts();
}

function signedOut() {
  // The session ended (expired, or signed out in another tab): the page at / asks again.
  location.reload();
}

// "Connection lost, retrying in 4 s", counting down; the open detail says it too (its modal
// backdrop covers the header).
let retryAt = null;
let retryTimer = null;

function showLive(state, text) {
  liveStatus.dataset.state = state;
  setText(liveStatus, text);
  detail.setOffline(state === "offline" ? text : null);
}

function tickRetry() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (retryAt === null) return;
  const left = Math.ceil((retryAt - Date.now()) / 1000);
  showLive("offline", left > 0 ? `Connection lost, retrying in ${left} s` : "Connection lost, reconnecting…");
  if (left > 0) retryTimer = setTimeout(tickRetry, Math.min(1000, retryAt - Date.now() - (left - 1) * 1000));
}

let connections = 0;
openFeed({
  onOpen: () => {
    connections += 1;
    retryAt = null;
    tickRetry();
    showLive("live", "Live");
    if (connections > 1) {
      // Anything missed while away: requests outside the snapshot, the counts, the open detail.
      views.clear();
      loadView();
      refreshCounts();
      detail.refresh();
    }
  },
  onClose: async ({ wait, opened }) => {
    retryAt = Date.now() + wait;
    tickRetry();
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
      if (message.more) loadAll(message.more.state, message.more.after);
    } else if (message.type === "request") {
      // Only a new request or a new state moves the counts (progress does not): at once here,
      // then as the API counts them.
      const known = requests.get(message.request.id);
      if (known?.state !== message.request.state) {
        moveCount(known, message.request);
        wantCounts();
      }
      upsert(message.request);
      if (message.request.id === detail.openId) detail.feed(message);
    } else if ((message.type === "episode" || message.type === "timeline") && message.request_id === detail.openId) {
      detail.feed(message);
    }
    schedule();
  },
});

setInterval(() => refreshTimes(), TIMES_REFRESH_MS);
setInterval(refreshWhileSeen, REFRESH_MS);
showFilters();
refreshCounts();
await loadView();
if (filters.open) openDetail(Number(filters.open), null);
else if (filters.health) openHealth();
