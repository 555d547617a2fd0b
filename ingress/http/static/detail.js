// The detail of one request, in a modal <dialog> (full screen on a phone). Opened from a card,
// it follows the feed: episode messages update one cell, timeline messages add one row, and a
// change of the request refreshes its downloads (the feed does not carry those).
import * as api from "./api.js";
import { availableCount, downloadSummary, saidByClient } from "./board.js";
import { confirmAction } from "./confirm.js";
import { KeyedList, h, progressBar, setAttr, setHidden, setProgress, setText } from "./dom.js";
import {
  bytes, clientStateWords, downloadWords, duration, episodeCode, eventWords, knownEta, localTime,
  percent, plural, releaseWords, setTime, sourceWords, speed, stateWords,
} from "./format.js";

const DOWNLOADS_REFRESH_MS = 2000;
// The server has nothing to check for these (it answers 409).
const FINISHED = ["available", "failed", "deleted"];
// Above this many episodes only the seasons still in progress start open; cells of a closed
// season are built the first time it is opened, so 1,100 episodes cost nothing until looked at.
const OPEN_ALL_UP_TO = 120;

const keyOf = (season, episode) => `${season}:${episode}`;
const newer = (a, b) => !b || !a.updated_at || !b.updated_at || a.updated_at >= b.updated_at;

function timelineKey(entry) {
  return [entry.at, entry.source, entry.event, entry.season, entry.episode, entry.to_state, entry.detail].join("|");
}

function links(item) {
  // The user's own services first (the API's {name: url}, "Play in Jellyfin" among them), then
  // the public databases.
  const out = [];
  for (const [name, url] of Object.entries(item.links ?? {})) {
    if (typeof url === "string" && /^https?:\/\//.test(url)) out.push([name, url]);
  }
  const kind = item.media_type === "tv" ? "tv" : "movie";
  if (item.tmdb_id) out.push(["TMDB", `https://www.themoviedb.org/${kind}/${item.tmdb_id}`]);
  if (item.imdb_id) out.push(["IMDb", `https://www.imdb.com/title/${encodeURIComponent(item.imdb_id)}/`]);
  if (item.tvdb_id) out.push(["TheTVDB", `https://thetvdb.com/dereferrer/series/${item.tvdb_id}`]);
  return out;
}

class EpisodeCell {
  constructor(ep, selection) {
    this.key = keyOf(ep.season, ep.episode);
    this.check = h("input", { type: "checkbox", class: "pick admin-only" });
    this.check.addEventListener("change", () => selection.toggle(this.key, this.check.checked));
    this.code = h("span", { class: "code", text: episodeCode(ep.season, ep.episode) });
    this.state = h("span", { class: "ep-state" });
    this.bar = progressBar(`${episodeCode(ep.season, ep.episode)} progress`);
    this.pct = h("span", { class: "ep-pct" });
    // The reason is text, not a tooltip: a phone or a keyboard never shows a tooltip.
    this.reason = h("span", { class: "ep-reason" });
    this.el = h("li", { class: "ep", dataset: { key: this.key } },
      h("label", { class: "ep-head" }, this.check, this.code), this.state, h("span", { class: "ep-bar" }, this.bar, this.pct),
      this.reason);
    this.update(ep, selection);
  }

  update(ep, selection) {
    const code = episodeCode(ep.season, ep.episode);
    const title = ep.title ? `${code} ${ep.title}` : code;
    setAttr(this.el, "data-state", ep.state);
    setAttr(this.el, "title", title);
    setText(this.reason, ep.reason ?? "");
    setHidden(this.reason, !ep.reason);
    setAttr(this.check, "aria-label", `Select ${title}`);
    const deleted = ep.state === "deleted";
    if (this.check.disabled !== deleted) this.check.disabled = deleted;
    const checked = !deleted && selection.has(this.key);
    if (this.check.checked !== checked) this.check.checked = checked;
    setText(this.state, stateWords(ep.state));
    const pct = percent(ep.progress);
    setText(this.pct, pct);
    setProgress(this.bar, ep.progress, `${pct}, ${stateWords(ep.state)}`);
  }
}

class Season {
  constructor(number, detail) {
    this.number = number;
    this.detail = detail;
    this.cells = new Map();
    this.eps = new Map();
    this.built = false;
    this.check = h("input", { type: "checkbox", class: "pick admin-only", "aria-label": `Select all of season ${number}` });
    this.check.addEventListener("change", () => detail.selectSeason(number, this.check.checked));
    this.summaryText = h("span", { class: "season-counts" });
    this.bar = progressBar(`Season ${number} progress`);
    this.list = h("ol", { class: "episodes", "aria-label": `Season ${number} episodes` });
    this.el = h("details", { class: "season" },
      h("summary", {}, this.check, h("span", { class: "season-name", text: number === 0 ? "Specials" : `Season ${number}` }),
        this.summaryText, this.bar),
      this.list);
    this.el.addEventListener("toggle", () => {
      if (this.el.open) this.build();
    });
  }

  build() {
    if (this.built) return;
    this.built = true;
    const fragment = document.createDocumentFragment();
    for (const ep of this.episodes()) fragment.append(this.cell(ep).el);
    this.list.append(fragment);
  }

  episodes() {
    return [...this.eps.values()].sort((a, b) => a.episode - b.episode);
  }

  cell(ep) {
    const key = keyOf(ep.season, ep.episode);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new EpisodeCell(ep, this.detail.selection);
      this.cells.set(key, cell);
    }
    return cell;
  }

  update(ep) {
    const key = keyOf(ep.season, ep.episode);
    this.eps.set(key, ep);
    if (!this.built) return;
    const existing = this.cells.get(key);
    if (existing) {
      existing.update(ep, this.detail.selection);
      return;
    }
    const cell = this.cell(ep);
    const after = [...this.list.children].find((li) => Number(li.dataset.key.split(":")[1]) > ep.episode);
    this.list.insertBefore(cell.el, after ?? null);
  }

  refreshSummary() {
    const episodes = [...this.eps.values()];
    const live = episodes.filter((ep) => ep.state !== "deleted");
    const counts = {};
    for (const ep of episodes) counts[ep.state] = (counts[ep.state] ?? 0) + 1;
    const available = counts.available ?? 0;
    const others = Object.entries(counts).filter(([state]) => state !== "available")
      .map(([state, n]) => `${n} ${stateWords(state).toLowerCase()}`);
    setText(this.summaryText, [plural(episodes.length, "episode"), `${available}/${live.length} available`, ...others].join(" · "));
    const progress = live.length ? live.reduce((sum, ep) => sum + (Number(ep.progress) || 0), 0) / live.length : 0;
    setProgress(this.bar, progress, percent(progress));
    const picked = live.filter((ep) => this.detail.selection.has(keyOf(ep.season, ep.episode))).length;
    this.check.checked = picked > 0 && picked === live.length;
    this.check.indeterminate = picked > 0 && picked < live.length;
    this.check.disabled = live.length === 0;
  }
}

class DownloadView {
  constructor() {
    this.name = h("p", { class: "download-name" });
    this.state = h("span", { class: "state" });
    this.client = h("span", { class: "client-state" });
    this.bar = progressBar("Download progress");
    this.pct = h("span", { class: "percent" });
    this.facts = h("p", { class: "meta" });
    this.extra = h("p", { class: "meta" });
    this.reason = h("p", { class: "reason" });
    this.el = h("li", { class: "download" }, this.name, h("p", { class: "status" }, this.state, " ", this.client),
      h("div", { class: "progress-line" }, this.bar, this.pct), this.facts, this.extra, this.reason);
  }

  update(d) {
    setText(this.name, d.name || d.hash);
    setAttr(this.name, "title", d.hash);
    // Nothing has reported it yet (no client, or not listed): no state word and no 0 %, only
    // the reason that says so, as on the cards.
    const known = saidByClient(d);
    setHidden(this.state.parentElement, !known);
    setHidden(this.bar.parentElement, !known);
    setText(this.state, downloadWords(d.state));
    setAttr(this.state, "data-state", d.state);
    setText(this.client, d.client_state ? `qBittorrent: ${clientStateWords(d.client_state)}` : "");
    const pct = percent(d.progress);
    setText(this.pct, pct);
    setProgress(this.bar, d.progress, `${pct}, ${downloadWords(d.state)}`);
    setAttr(this.bar, "aria-label", `Download progress of ${d.name || d.hash}`);
    const episodes = d.episodes ?? [];
    const packed = d.is_season_pack && d.release_type !== "season_pack" ? "season pack" : null;
    const holds = d.is_season_pack ? [packed, episodes.length ? plural(episodes.length, "episode") : "several episodes"].filter(Boolean).join(", ")
      : episodes.length === 1 ? episodeCode(episodes[0].season, episodes[0].episode) : null;
    setText(this.facts, [d.release_type ? releaseWords(d.release_type) : null, holds,
      d.size ? bytes(d.size) : null, typeof d.size_left === "number" && d.size_left > 0 ? `${bytes(d.size_left)} left` : null,
    ].filter(Boolean).join(" · "));
    const running = ["downloading", "stalled", "queued"].includes(d.state);
    setText(this.extra, [
      running && d.speed ? speed(d.speed) : null,
      running && knownEta(d.eta_s) ? `about ${duration(d.eta_s)} left` : null,
      typeof d.seeds === "number" ? plural(d.seeds, "seed") : null,
      typeof d.peers === "number" ? plural(d.peers, "peer") : null,
      d.quality, d.release_group ? `group ${d.release_group}` : null, d.indexer ? `from ${d.indexer}` : null,
      Array.isArray(d.languages) && d.languages.length ? d.languages.join(", ") : null,
      Array.isArray(d.custom_formats) && d.custom_formats.length ? d.custom_formats.join(", ") : null,
    ].filter(Boolean).join(" · "));
    setText(this.reason, d.reason ?? "");
    setHidden(this.reason, !d.reason);
  }
}

function timelineRow(entry) {
  const time = h("time", { class: "local", datetime: entry.at, text: localTime(entry.at) });
  const ago = h("time", { class: "ago" });
  setTime(ago, entry.at);
  const code = entry.season !== null && entry.season !== undefined && entry.episode !== null && entry.episode !== undefined
    ? episodeCode(entry.season, entry.episode) : null;
  const move = entry.to_state
    ? `${entry.from_state ? `${stateWords(entry.from_state)} → ` : ""}${stateWords(entry.to_state)}` : null;
  const words = eventWords(entry.event);
  const row = h("li", { class: "entry", dataset: { event: entry.event, source: entry.source } },
    h("p", { class: "when" }, time, " ", ago),
    h("p", { class: "what" },
      code ? h("span", { class: "code", text: code }) : null,
      h("span", { class: "words", text: words }),
      h("span", { class: "source", text: sourceWords(entry.source) })),
    move ? h("p", { class: "move", text: move }) : null,
    entry.detail ? h("p", { class: "detail", text: entry.detail }) : null);
  row.dataset.search = [code, words, entry.event, entry.source, move, entry.detail].filter(Boolean).join(" ").toLowerCase();
  return row;
}

class Selection {
  constructor(onChange) {
    this.keys = new Set();
    this.onChange = onChange;
  }

  has(key) {
    return this.keys.has(key);
  }

  toggle(key, on) {
    if (on) this.keys.add(key);
    else this.keys.delete(key);
    this.onChange();
  }

  clear() {
    this.keys.clear();
  }
}

export class Detail {
  constructor({ onClose, onDownloads }) {
    this.onClose = onClose;
    this.onDownloads = onDownloads;
    this.requestId = null;
    this.selection = new Selection(() => this.selectionChanged());
    this.newestFirst = true;
    this.build();
  }

  build() {
    this.poster = h("img", { class: "poster", alt: "", referrerpolicy: "no-referrer" });
    this.poster.addEventListener("error", () => setHidden(this.poster, true));
    // Focus lands here when the control that had it goes away (disabled, hidden, deleted).
    this.heading = h("h2", { id: "detail-title", tabindex: "-1" });
    this.offline = h("p", { class: "offline", role: "status", hidden: true });
    this.meta = h("p", { class: "meta" });
    this.times = h("p", { class: "meta" });
    this.state = h("span", { class: "state" });
    this.badges = h("span", { class: "badges" });
    this.bar = progressBar("Overall progress");
    this.pct = h("span", { class: "percent" });
    this.counts = h("p", { class: "meta" });
    this.reason = h("p", { class: "reason" });
    this.links = h("p", { class: "links" });
    this.overview = h("p", { class: "overview", id: "detail-overview" });
    // Three lines are shown; the rest on asking (the detail is the only place it is).
    this.overviewToggle = h("button", {
      type: "button", class: "secondary overview-toggle", "aria-controls": "detail-overview",
      "aria-expanded": "false", text: "Read all", hidden: true,
    });
    this.overviewToggle.addEventListener("click", () => this.showWholeOverview(!this.overview.classList.contains("whole")));
    this.message = h("p", { class: "message", role: "alert" });
    this.deleteButton = h("button", { type: "button", class: "danger", text: "Delete request" });
    this.deleteButton.addEventListener("click", () => this.deleteAll());
    this.checkButton = h("button", { type: "button", class: "secondary" });
    this.checkButton.addEventListener("click", () => this.checkNow());
    const close = h("button", { type: "button", class: "close", "aria-label": "Close", text: "×" });
    close.addEventListener("click", () => this.close());

    this.pickedText = h("span", { class: "picked", "aria-live": "polite" });
    this.deletePicked = h("button", { type: "button", class: "danger", text: "Delete selected" });
    this.deletePicked.addEventListener("click", () => this.deleteSelected());
    const all = h("button", { type: "button", class: "secondary", text: "Select all" });
    all.addEventListener("click", () => this.selectAll(true));
    const none = h("button", { type: "button", class: "secondary", text: "Clear" });
    none.addEventListener("click", () => this.selectAll(false));
    const deleteAll = h("button", { type: "button", class: "danger", text: "Delete all" });
    deleteAll.addEventListener("click", () => this.deleteAll());
    this.seasonList = h("div", { class: "seasons" });
    this.episodesTitle = h("h3", { id: "episodes-title", text: "Episodes", tabindex: "-1" });
    this.episodeSection = h("section", { class: "block", "aria-labelledby": "episodes-title" },
      this.episodesTitle,
      h("div", { class: "toolbar admin-only" }, all, none, this.pickedText, this.deletePicked, deleteAll),
      this.seasonList);

    this.downloadList = h("ul", { class: "downloads" });
    this.downloads = new KeyedList(this.downloadList, (d) => d.hash, () => new DownloadView());
    this.downloadSection = h("section", { class: "block", "aria-labelledby": "downloads-title" },
      h("h3", { id: "downloads-title", text: "Downloads" }), this.downloadList);

    this.orderButton = h("button", { type: "button", class: "secondary", "aria-pressed": "true" });
    this.orderButton.addEventListener("click", () => this.setOrder(!this.newestFirst));
    this.timelineFilter = h("input", { type: "search", class: "timeline-filter", placeholder: "Filter, e.g. S01E05", "aria-label": "Filter the timeline" });
    this.timelineFilter.addEventListener("input", () => this.filterTimeline());
    this.timelineCount = h("span", { class: "meta" });
    this.timelineList = h("ol", { class: "timeline", "aria-label": "Timeline" });
    const timelineSection = h("section", { class: "block", "aria-labelledby": "timeline-title" },
      h("h3", { id: "timeline-title" }, "Timeline ", this.timelineCount),
      h("div", { class: "toolbar" }, this.orderButton, this.timelineFilter),
      this.timelineList);

    this.actions = h("div", { class: "toolbar admin-only" }, this.checkButton, this.deleteButton);
    this.dialog = h("dialog", { id: "detail", "aria-labelledby": "detail-title" },
      h("div", { class: "detail-inner" },
        h("header", { class: "detail-head" }, this.poster,
          h("div", { class: "detail-summary" }, this.heading, this.meta,
            h("p", { class: "status" }, this.state, " ", this.badges),
            h("div", { class: "progress-line" }, this.bar, this.pct), this.counts, this.times),
          close),
        this.offline, this.reason, this.links, this.overview, this.overviewToggle,
        this.actions, this.message,
        this.episodeSection, this.downloadSection, timelineSection));
    this.dialog.addEventListener("close", () => this.closed());
    // A click on the backdrop (outside the panel) closes, like Escape.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.close();
    });
    document.body.append(this.dialog);
    this.setOrder(true);
  }

  // The feed is down: said in the dialog too, which covers the header (full screen on a phone).
  setOffline(text) {
    setText(this.offline, text ?? "");
    setHidden(this.offline, !text);
  }

  // When `control` has the focus and is about to be disabled or hidden, the focus moves to
  // `to` (the heading by default) rather than falling to the page's <body>.
  keepFocus(control, to = this.heading) {
    if (this.dialog.open && control.contains(document.activeElement)) to.focus();
  }

  get openId() {
    return this.requestId;
  }

  async open(id, item) {
    this.reset(id);
    if (item) this.request(item);
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.scrollTop = 0;
    await this.load();
  }

  reset(id) {
    this.requestId = id;
    this.loaded = false;
    this.pending = [];
    this.item = null;
    this.episodes = new Map();
    this.seasons = new Map();
    this.timelineKeys = new Set();
    this.failedBy = null;
    this.selection.clear();
    this.seasonList.replaceChildren();
    this.downloads.clear();
    this.checking = null;
    this.checkIdle();
    this.badges.replaceChildren();
    this.badges.dataset.words = "";
    this.timelineList.replaceChildren();
    this.timelineFilter.value = "";
    this.showMessage("");
    this.poster.removeAttribute("src");
    setHidden(this.poster, true);
    setHidden(this.episodeSection, true);
    setHidden(this.downloadSection, true);
    setText(this.heading, "Loading…");
    setHidden(this.actions, true);
    this.selectionChanged();
  }

  async load() {
    const id = this.requestId;
    if (!Number.isSafeInteger(id) || id < 1) {
      // #open=abc: no id at all (and NaN is not even equal to itself).
      setText(this.heading, "No such request");
      this.showMessage("This address names no request.", true);
      return;
    }
    let detail;
    try {
      detail = await api.getRequest(id);
    } catch (exc) {
      if (this.requestId !== id) return;
      if (!this.item) setText(this.heading, exc.status === 404 ? "No such request" : "Could not load the request");
      // Unreachable: the feed's reconnection loads it again (refresh).
      this.showMessage(exc.status ? exc.message : `${exc.message}; it loads once the connection is back`, true);
      return;
    }
    if (this.requestId !== id) return;
    this.apply(detail);
    this.loaded = true;
    const queued = this.pending;
    this.pending = [];
    for (const message of queued) this.feed(message);
  }

  // The whole detail (first load, or after the feed reconnected): merged in place.
  apply(detail) {
    this.request(detail);
    const firstLoad = this.episodes.size === 0;
    for (const ep of detail.episodes ?? []) this.episode(ep, { summary: false });
    for (const season of this.seasons.values()) season.refreshSummary();
    if (firstLoad) this.openSeasons();
    this.setDownloads(detail.downloads ?? []);
    const entries = detail.timeline ?? [];
    const fresh = entries.filter((entry) => !this.timelineKeys.has(timelineKey(entry)));
    if (fresh.length) this.addTimeline(fresh);
  }

  refresh() {
    if (this.requestId !== null) this.load();
  }

  // A feed message about the open request; kept until the first load is in, then applied.
  feed(message) {
    if (!this.loaded) {
      this.pending.push(message);
      return;
    }
    if (message.type === "request") {
      this.request(message.request);
      this.scheduleDownloads();
    } else if (message.type === "episode") {
      this.episode(message.episode);
    } else if (message.type === "timeline") {
      if (!this.timelineKeys.has(timelineKey(message.entry))) this.addTimeline([message.entry]);
    }
  }

  request(item) {
    if (item.id !== this.requestId) return;
    this.item = item;
    if (item.poster_url && this.poster.getAttribute("src") !== item.poster_url) {
      this.poster.src = item.poster_url;
      setHidden(this.poster, false);
    }
    setText(this.heading, `${item.title ?? "(untitled)"}${item.year ? ` (${item.year})` : ""}`);
    setText(this.meta, [item.media_type === "tv" ? "TV" : "Movie", item.is_anime ? "anime" : null,
      item.requested_seasons?.length ? `season ${item.requested_seasons.join(", ")}` : null,
      item.source ? `from ${sourceWords(item.source)}` : null,
      item.requested_by ? `requested by ${item.requested_by}` : null].filter(Boolean).join(" · "));
    setText(this.times, [`requested ${localTime(item.requested_at ?? item.created_at)}`,
      item.available_at ? `available ${localTime(item.available_at)}` : null,
      item.updated_at ? `last change ${localTime(item.updated_at)}` : null].filter(Boolean).join(" · "));
    setText(this.state, stateWords(item.state));
    setAttr(this.state, "data-state", item.state);
    const pct = percent(item.progress);
    setText(this.pct, pct);
    setProgress(this.bar, item.progress, `${pct}, ${stateWords(item.state)}`);
    const counts = availableCount(item.episode_counts);
    setText(this.counts, counts ? `${counts.available}/${counts.total} available · ` +
      Object.entries(item.episode_counts).map(([state, n]) => `${n} ${stateWords(state).toLowerCase()}`).join(" · ") : "");
    this.showReason();
    const out = links(item);
    if (this.links.dataset.links !== JSON.stringify(out)) {
      this.links.dataset.links = JSON.stringify(out);
      this.links.replaceChildren(...out.map(([name, url]) =>
        h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: name })));
    }
    if (this.overview.textContent !== (item.overview ?? "")) this.showWholeOverview(false);
    setText(this.overview, item.overview ?? "");
    setHidden(this.overview, !item.overview);
    // Laid out first: only an overview longer than its three lines offers the rest.
    requestAnimationFrame(() => {
      const cut = this.overview.scrollHeight > this.overview.clientHeight + 1;
      setHidden(this.overviewToggle, !item.overview || !(cut || this.overview.classList.contains("whole")));
    });
    const gone = item.state === "deleted";
    if (gone) this.keepFocus(this.deleteButton);
    if (FINISHED.includes(item.state)) this.keepFocus(this.checkButton);
    this.deleteButton.disabled = gone;
    setHidden(this.checkButton, FINISHED.includes(item.state));
    setHidden(this.actions, false);
  }

  showWholeOverview(whole) {
    this.overview.classList.toggle("whole", whole);
    setAttr(this.overviewToggle, "aria-expanded", String(whole));
    setText(this.overviewToggle, whole ? "Read less" : "Read all");
  }

  // The API's reason; a failed request has none, and its timeline says what failed it.
  showReason() {
    const item = this.item;
    let text = item?.reason ?? "";
    const by = this.failedBy;
    if (!text && item?.state === "failed" && by) {
      const words = eventWords(by.event);
      // "Declined in Jellyseerr" needs no ": declined in Jellyseerr" after it.
      const same = by.detail && by.detail.toLowerCase() === words.toLowerCase();
      text = [words, same ? null : by.detail].filter(Boolean).join(": ");
    }
    setText(this.reason, text);
    setHidden(this.reason, !text);
  }

  episode(ep, { summary = true } = {}) {
    const key = keyOf(ep.season, ep.episode);
    const known = this.episodes.get(key);
    // A queued feed message may be older than what the first load already brought.
    if (known && !newer(ep, known)) return;
    this.episodes.set(key, ep);
    if (ep.state === "deleted") this.selection.keys.delete(key);
    setHidden(this.episodeSection, false);
    let season = this.seasons.get(ep.season);
    if (!season) {
      season = new Season(ep.season, this);
      this.seasons.set(ep.season, season);
      const after = [...this.seasons.values()].filter((s) => s.number > ep.season && s.el.isConnected)
        .sort((a, b) => a.number - b.number)[0];
      this.seasonList.insertBefore(season.el, after?.el ?? null);
    }
    season.update(ep);
    if (summary) this.markDirty(season);
  }

  // Season summaries are recounted once per frame, however many episode messages came in it.
  markDirty(season) {
    this.dirty ??= new Set();
    this.dirty.add(season);
    if (this.dirtyFrame) return;
    this.dirtyFrame = requestAnimationFrame(() => {
      this.dirtyFrame = null;
      for (const dirty of this.dirty) dirty.refreshSummary();
      this.dirty.clear();
      this.selectionChanged({ seasons: false });
    });
  }

  openSeasons() {
    const all = this.episodes.size <= OPEN_ALL_UP_TO;
    let opened = false;
    for (const season of [...this.seasons.values()].sort((a, b) => a.number - b.number)) {
      const busy = season.episodes().some((ep) => !["available", "deleted", "failed"].includes(ep.state));
      if (all || (busy && !opened)) {
        season.el.open = true;
        season.build();
        opened = true;
      }
    }
  }

  setDownloads(downloads) {
    this.downloads.sync(downloads);
    setHidden(this.downloadSection, downloads.length === 0);
    this.onDownloads(this.requestId, downloads);
    const attention = downloadSummary(downloads).attention;
    if (this.badges.dataset.words !== attention.join("|")) {
      this.badges.dataset.words = attention.join("|");
      this.badges.replaceChildren(...attention.map((state) =>
        h("span", { class: "badge", "data-state": state, text: downloadWords(state) })));
    }
  }

  scheduleDownloads() {
    if (this.downloadTimer) return;
    this.downloadTimer = setTimeout(async () => {
      this.downloadTimer = null;
      const id = this.requestId;
      if (id === null) return;
      try {
        const detail = await api.getRequest(id);
        if (this.requestId === id) this.setDownloads(detail.downloads ?? []);
      } catch {
        // The next change tries again; the feed status line already tells about outages.
      }
    }, DOWNLOADS_REFRESH_MS);
  }

  addTimeline(entries) {
    const rows = entries.map((entry) => {
      this.timelineKeys.add(timelineKey(entry));
      if (entry.to_state === "failed" && (!this.failedBy || entry.at >= this.failedBy.at)) this.failedBy = entry;
      return timelineRow(entry);
    });
    const fragment = document.createDocumentFragment();
    if (this.newestFirst) {
      fragment.append(...rows.reverse());
      this.timelineList.prepend(fragment);
    } else {
      fragment.append(...rows);
      this.timelineList.append(fragment);
    }
    setText(this.timelineCount, `(${this.timelineKeys.size})`);
    this.showReason();
    if (this.timelineFilter.value) this.filterTimeline();
  }

  setOrder(newestFirst) {
    if (newestFirst !== this.newestFirst) this.timelineList.append(...[...this.timelineList.children].reverse());
    this.newestFirst = newestFirst;
    setText(this.orderButton, newestFirst ? "Newest first" : "Oldest first");
    setAttr(this.orderButton, "aria-pressed", newestFirst ? "true" : "false");
    setAttr(this.orderButton, "aria-label", `Order: ${newestFirst ? "newest" : "oldest"} first (switch)`);
  }

  filterTimeline() {
    const words = this.timelineFilter.value.trim().toLowerCase();
    for (const row of this.timelineList.children) setHidden(row, words && !row.dataset.search.includes(words));
  }

  selectionChanged({ seasons = true } = {}) {
    const n = this.selection.keys.size;
    setText(this.pickedText, n ? `${n} selected` : "");
    // Disabled, it would drop the focus to the page: whatever empties the selection (the
    // answer to "Delete selected", or the feed telling of the deletion first), the episodes get it.
    if (n === 0) this.keepFocus(this.deletePicked, this.episodesTitle);
    this.deletePicked.disabled = n === 0;
    setText(this.deletePicked, n ? `Delete selected (${n})` : "Delete selected");
    if (seasons) for (const season of this.seasons?.values() ?? []) season.refreshSummary();
  }

  selectSeason(number, on) {
    const season = this.seasons.get(number);
    season.build();
    for (const ep of season.episodes()) {
      if (ep.state === "deleted") continue;
      const key = keyOf(ep.season, ep.episode);
      if (on) this.selection.keys.add(key);
      else this.selection.keys.delete(key);
      season.update(ep);
    }
    this.selectionChanged();
  }

  selectAll(on) {
    for (const season of this.seasons.values()) this.selectSeason(season.number, on);
  }

  showMessage(text, isError = false) {
    setText(this.message, text);
    this.message.classList.toggle("error", isError);
    setHidden(this.message, !text);
  }

  async deleteSelected() {
    const keys = [...this.selection.keys].map((key) => key.split(":").map(Number))
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (!keys.length) return;
    const codes = keys.map(([s, e]) => episodeCode(s, e));
    const shown = codes.length > 6 ? `${codes.slice(0, 6).join(", ")} and ${codes.length - 6} more` : codes.join(", ");
    const ok = await confirmAction({
      title: `Delete ${keys.length} episode${keys.length === 1 ? "" : "s"}?`,
      message: `${shown} of ${this.item?.title ?? "this request"} will be deleted, here and in Sonarr.`,
      action: "Delete episodes",
    });
    if (!ok) return;
    const id = this.requestId;
    try {
      await api.deleteEpisodes(id, keys.map(([season, episode]) => ({ season, episode })));
    } catch (exc) {
      if (this.requestId === id) this.showMessage(`Could not delete: ${exc.message}`, true);
      return;
    }
    if (this.requestId !== id) return;
    this.selection.clear();
    for (const [s, e] of keys) {
      const ep = this.episodes.get(keyOf(s, e));
      if (ep) this.seasons.get(s)?.update(ep);
    }
    this.selectionChanged();
    this.showMessage(`Deleting ${shown}…`);
  }

  async deleteAll() {
    const item = this.item;
    if (!item || item.state === "deleted") return;
    const ok = await confirmAction({
      title: "Delete this request?",
      message: `${item.title} and all its episodes will be deleted, here and in Sonarr/Radarr.`,
      action: "Delete request",
    });
    if (!ok) return;
    const id = this.requestId;
    try {
      await api.deleteRequest(id);
    } catch (exc) {
      if (this.requestId === id) this.showMessage(`Could not delete: ${exc.message}`, true);
      return;
    }
    if (this.requestId !== id) return;
    this.showMessage(`Deleting ${item.title}…`);
    this.keepFocus(this.deleteButton);
  }

  // "Check again now": the service looks at this request at once; the timeline tells what it found.
  async checkNow() {
    const id = this.requestId;
    const asking = {};
    if (this.checking) return;
    this.checking = asking;
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus to <body>.
    setAttr(this.checkButton, "aria-disabled", "true");
    setAttr(this.checkButton, "aria-busy", "true");
    setText(this.checkButton, "Asking…");
    try {
      await api.checkRequest(id);
      if (this.checking === asking) this.showMessage("Asked to check again now: what the check finds appears in the timeline.");
    } catch (exc) {
      if (this.checking === asking) this.showMessage(`Could not ask for a check: ${exc.message}`, true);
    } finally {
      if (this.checking === asking) {
        this.checking = null;
        this.checkIdle();
      }
    }
  }

  checkIdle() {
    setAttr(this.checkButton, "aria-disabled", null);
    setAttr(this.checkButton, "aria-busy", null);
    setText(this.checkButton, "Check again now");
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    const id = this.requestId;
    this.requestId = null;
    clearTimeout(this.downloadTimer);
    this.downloadTimer = null;
    this.onClose(id);
  }
}
