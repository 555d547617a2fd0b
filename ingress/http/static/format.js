// Turning wire values into what a person reads: words, percentages, sizes, local and relative times.
import { CLIENT_STATE_WORDS, DOWNLOAD_WORDS, EVENT_WORDS, RELEASE_WORDS, SOURCE_WORDS, STATE_WORDS } from "./words.js";

export function humanise(word) {
  if (!word) return "";
  const text = String(word).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const stateWords = (state) => STATE_WORDS[state] ?? humanise(state);
export const downloadWords = (state) => DOWNLOAD_WORDS[state] ?? humanise(state);
export const clientStateWords = (state) => CLIENT_STATE_WORDS[state] ?? state ?? "";
export const releaseWords = (type) => RELEASE_WORDS[type] ?? humanise(type).toLowerCase();
export const plural = (n, word, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
export const sourceWords = (source) => SOURCE_WORDS[source] ?? humanise(source);

export function eventWords(event) {
  if (EVENT_WORDS[event]) return EVENT_WORDS[event];
  // Planned: what the reconciler caught up on is `caught_up_<event>`.
  const caught = /^caught_up_(.+)$/.exec(event ?? "");
  if (caught) return `${eventWords(caught[1])} (caught up later)`;
  return humanise(event);
}

const pad = (n) => String(n).padStart(2, "0");
export const episodeCode = (season, episode) => `S${pad(season)}E${pad(episode)}`;

export function percent(value) {
  const n = Number(value) || 0;
  // Floor, so 99.6 % never reads as done.
  return `${n >= 100 ? 100 : Math.floor(n)}%`;
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];
export function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return "";
  let value = Number(n);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

export const speed = (n) => (n ? `${bytes(n)}/s` : "");

export function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds)));
  if (!Number.isFinite(s)) return "";
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

// qBittorrent answers 8640000 (100 days) for "never".
export const knownEta = (eta) => eta !== null && eta !== undefined && eta >= 0 && eta < 8640000;

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

export function localTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateTimeFormat.format(date);
}

export function fullTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : fullFormat.format(date);
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const STEPS = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Infinity],
];

export function relativeTime(iso, now = Date.now()) {
  if (!iso) return "";
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return "";
  let amount = (then - now) / 1000;
  if (Math.abs(amount) < 45) return "just now";
  for (const [unit, size] of STEPS) {
    if (Math.abs(amount) < size) return relativeFormat.format(Math.round(amount), unit);
    amount /= size;
  }
  return "";
}

// A <time> that says "2 hr. ago" and shows the local date and time on hover; refreshTimes()
// keeps every such element current without re-rendering anything else.
export function setTime(el, iso, prefix = "") {
  if (el.dataset.iso !== (iso ?? "") || el.dataset.prefix !== prefix) {
    el.dataset.iso = iso ?? "";
    el.dataset.prefix = prefix;
    el.dateTime = iso ?? "";
    el.title = iso ? `${localTime(iso)} (${Intl.DateTimeFormat().resolvedOptions().timeZone})` : "";
  }
  const text = iso ? `${prefix}${relativeTime(iso)}` : "";
  if (el.textContent !== text) el.textContent = text;
}

export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-iso]")) setTime(el, el.dataset.iso || null, el.dataset.prefix);
}
