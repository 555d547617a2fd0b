// Which requests the board shows and in what order; the choice lives in the URL hash
// (#tab=failed&q=horimiya&sort=title&type=tv&open=12, or &health=1 for the health view), so a
// reload or a bookmark keeps it.

export const TABS = [
  { id: "active", label: "Active", states: ["grabbing", "downloading", "downloaded", "importing", "anime_matching"] },
  { id: "waiting", label: "Waiting", states: ["requested", "approved", "partially_available", "pending"] },
  { id: "failed", label: "Failed", states: ["failed"] },
  { id: "done", label: "Done", states: ["available"] },
  { id: "all", label: "All", states: null },
];

export const SORTS = {
  newest: "Newest first",
  updated: "Recently changed",
  title: "Title",
  progress: "Progress",
};

export const TYPES = { "": "Movies and TV", movie: "Movies", tv: "TV" };

const DEFAULTS = { tab: "all", q: "", sort: "newest", type: "", open: "", health: "" };

export function tabOf(state) {
  if (state === "deleted") return null;
  for (const tab of TABS) if (tab.states && tab.states.includes(state)) return tab.id;
  // A state this page does not know yet is still moving: show it with the active ones.
  return "active";
}

export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const filters = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) if (params.has(key)) filters[key] = params.get(key);
  if (!TABS.some((tab) => tab.id === filters.tab)) filters.tab = DEFAULTS.tab;
  if (!(filters.sort in SORTS)) filters.sort = DEFAULTS.sort;
  if (!(filters.type in TYPES)) filters.type = DEFAULTS.type;
  return filters;
}

export function writeHash(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value !== DEFAULTS[key] && value !== undefined && value !== null) params.set(key, value);
  }
  const target = params.toString() ? `#${params}` : "";
  if (location.hash !== target) history.replaceState(null, "", target || location.pathname + location.search);
}

const fold = (text) =>
  String(text ?? "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

export function matches(item, filters, { ignoreTab = false } = {}) {
  if (filters.type && item.media_type !== filters.type) return false;
  if (filters.q && !fold(item.title).includes(fold(filters.q).trim())) return false;
  if (ignoreTab || filters.tab === "all") return true;
  return tabOf(item.state) === filters.tab;
}

const byNewest = (a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? "") || b.id - a.id;
const COMPARE = {
  newest: byNewest,
  updated: (a, b) => (b.updated_at ?? "").localeCompare(a.updated_at ?? "") || byNewest(a, b),
  title: (a, b) => String(a.title ?? "").localeCompare(String(b.title ?? ""), undefined, { sensitivity: "base" }) || byNewest(a, b),
  progress: (a, b) => (Number(b.progress) || 0) - (Number(a.progress) || 0) || byNewest(a, b),
};

export const compare = (sort) => COMPARE[sort] ?? byNewest;
