// The card grid. One Card per request, kept for the page's lifetime and updated in place:
// a progress change rewrites a width and a number, never the poster or the rest of the grid.
import { h, placeChildren, progressBar, setAttr, setHidden, setProgress, setText } from "./dom.js";
import { bytes, downloadWords, duration, knownEta, percent, plural, speed, setTime, stateWords } from "./format.js";

// Download states a user should notice on the card: they answer "is it stuck?".
const ATTENTION = ["stalled", "queued", "paused", "missing", "error"];
const ACTIVE_DOWNLOADS = ["downloading", "stalled", "queued", "paused"];

export function availableCount(counts) {
  const entries = Object.entries(counts ?? {}).filter(([state]) => state !== "deleted");
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return total ? { available: counts.available ?? 0, failed: counts.failed ?? 0, total } : null;
}

// A download nothing has reported yet is `queued` with no `client_state`: qBittorrent did not
// queue it (it may not even be configured), so it is no "Queued" badge; its reason says what
// is known.
export const saidByClient = (d) => d.state !== "queued" || (d.client_state ?? null) !== null;

// What the downloads say about time left and speed; fields the API may not send yet are skipped.
export function downloadSummary(downloads) {
  const running = (downloads ?? []).filter((d) => ACTIVE_DOWNLOADS.includes(d.state));
  const etas = running.map((d) => d.eta_s).filter(knownEta);
  const speeds = running.map((d) => d.speed).filter((s) => typeof s === "number");
  return {
    attention: [...new Set((downloads ?? []).filter(saidByClient).map((d) => d.state).filter((s) => ATTENTION.includes(s)))],
    eta: etas.length ? Math.max(...etas) : null,
    speed: speeds.length ? speeds.reduce((a, b) => a + b, 0) : null,
    seeds: running.some((d) => typeof d.seeds === "number") ? running.reduce((a, d) => a + (d.seeds ?? 0), 0) : null,
  };
}

class Card {
  constructor(item, onOpen) {
    this.id = item.id;
    this.poster = h("img", { class: "poster", alt: "", loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
    this.poster.addEventListener("error", () => this.poster.classList.add("broken"));
    this.initials = h("span", { class: "initials", "aria-hidden": "true" });
    this.title = h("span", { class: "title-text" });
    this.year = h("span", { class: "year" });
    this.button = h("button", { type: "button", class: "open", "aria-haspopup": "dialog" }, this.title, this.year);
    this.button.addEventListener("click", () => onOpen(this.id, this.button));
    this.kind = h("span", { class: "kind" });
    this.state = h("span", { class: "state" });
    this.badges = h("span", { class: "badges" });
    this.bar = progressBar("Progress");
    this.percent = h("span", { class: "percent" });
    this.counts = h("span", { class: "counts" });
    this.eta = h("span", { class: "eta" });
    this.reason = h("p", { class: "reason" });
    this.requested = h("time", { class: "requested" });
    this.by = h("span", { class: "by" });
    this.updated = h("time", { class: "updated" });
    this.status = h("p", { class: "status", id: `card-status-${item.id}` }, this.state, " ", this.badges);
    this.button.setAttribute("aria-describedby", this.status.id);
    this.el = h("li", { class: "card", dataset: { id: item.id } },
      h("div", { class: "poster-box" }, this.initials, this.poster),
      h("div", { class: "card-body" },
        h("h2", { class: "card-title" }, this.button),
        h("p", { class: "meta" }, this.kind),
        this.status,
        h("div", { class: "progress-line" }, this.bar, this.percent),
        h("p", { class: "meta numbers" }, this.counts, this.eta),
        this.reason,
        h("p", { class: "meta times" }, this.requested, this.by, this.updated),
      ),
    );
    this.downloads = null;
    this.update(item);
  }

  update(item) {
    this.item = item;
    const poster = item.poster_url || "";
    if (this.poster.dataset.src !== poster) {
      this.poster.dataset.src = poster;
      this.poster.classList.remove("broken");
      if (poster) this.poster.src = poster;
      else this.poster.removeAttribute("src");
      setHidden(this.poster, !poster);
    }
    setText(this.initials, (item.title ?? "?").trim().charAt(0).toUpperCase());
    setText(this.title, item.title ?? "(untitled)");
    setText(this.year, item.year ? ` (${item.year})` : "");
    setText(this.kind, [item.media_type === "tv" ? "TV" : "Movie", item.is_anime ? "anime" : null,
      item.requested_seasons?.length ? `season ${item.requested_seasons.join(", ")}` : null].filter(Boolean).join(" · "));
    setText(this.state, stateWords(item.state));
    setAttr(this.el, "data-state", item.state);
    setAttr(this.state, "data-state", item.state);
    const pct = percent(item.progress);
    setProgress(this.bar, item.progress, `${pct} ${stateWords(item.state)}`);
    setText(this.percent, pct);
    const counts = availableCount(item.episode_counts);
    setText(this.counts, counts
      ? `${counts.available}/${counts.total} available${counts.failed ? ` · ${counts.failed} failed` : ""}`
      : "");
    setText(this.reason, item.reason ?? "");
    setHidden(this.reason, !item.reason);
    setTime(this.requested, item.requested_at ?? item.created_at, "requested ");
    setText(this.by, item.requested_by ? ` by ${item.requested_by}` : "");
    const moving = !["available", "failed", "deleted"].includes(item.state);
    setTime(this.updated, moving && item.updated_at !== item.created_at ? item.updated_at : null, " · changed ");
    this.renderDownloads();
  }

  setDownloads(downloads) {
    this.downloads = downloads;
    this.renderDownloads();
  }

  renderDownloads() {
    const summary = downloadSummary(this.downloads);
    const words = summary.attention.map(downloadWords);
    if (this.badges.dataset.words !== words.join("|")) {
      this.badges.dataset.words = words.join("|");
      this.badges.replaceChildren(...summary.attention.map((state) =>
        h("span", { class: "badge", "data-state": state, text: downloadWords(state) })));
    }
    // Fields the API will add (eta_s, speed) win over nothing; the list item may carry them too.
    const eta = knownEta(this.item.eta_s) ? this.item.eta_s : summary.eta;
    const rate = typeof this.item.speed === "number" ? this.item.speed : summary.speed;
    const parts = [];
    if (eta !== null && eta !== undefined && this.item.state !== "available") parts.push(`about ${duration(eta)} left`);
    if (rate) parts.push(speed(rate));
    if (summary.seeds !== null) parts.push(plural(summary.seeds, "seed"));
    if (typeof this.item.size_left === "number" && this.item.size_left > 0) parts.push(`${bytes(this.item.size_left)} to go`);
    setText(this.eta, parts.length ? ` · ${parts.join(" · ")}` : "");
  }
}

export class Board {
  constructor(list, { onOpen }) {
    this.list = list;
    this.onOpen = onOpen;
    this.cards = new Map();
  }

  upsert(item) {
    const card = this.cards.get(item.id);
    if (card) card.update(item);
    else this.cards.set(item.id, new Card(item, this.onOpen));
  }

  setDownloads(id, downloads) {
    this.cards.get(id)?.setDownloads(downloads);
  }

  button(id) {
    return this.cards.get(id)?.button ?? null;
  }

  // Puts exactly `items` in the list, in order, moving only the nodes that are out of place.
  arrange(items) {
    placeChildren(this.list, items.map((item) => this.cards.get(item.id).el));
  }
}
