// The service's own health in a dialog: problems in words, dependencies, the supervision tree,
// the reconciler, notifications and dead letters. /health is read again every few seconds while
// the dialog is open; when it cannot be read the view says "Unreachable" instead of going stale.
import * as api from "./api.js";
import { confirmAction } from "./confirm.js";
import { KeyedList, h, setAttr, setHidden, setText } from "./dom.js";
import { duration, humanise, localTime, setTime, sourceWords } from "./format.js";

const POLL_MS = 3000;
const LETTERS_SHOWN = 50;
// A supervisor's children start folded above this many (a registry may hold hundreds of actors).
const OPEN_UP_TO = 8;

const STATUS_WORDS = {
  ok: "OK",
  degraded: "Degraded",
  failing: "Failing",
  unreachable: "Unreachable",
};

const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const numeric = (value) => typeof value === "number" && Number.isFinite(value);

function dependencyWords(dep) {
  if (!dep.configured) return ["unconfigured", "Not configured"];
  if (dep.status === "degraded" || dep.reachable === false) return ["degraded", "Degraded"];
  if (dep.reachable === true) return ["ok", "Reachable"];
  return ["unknown", "Not asked yet"];
}

// The database is shown as the first dependency: it is the one the service cannot work without.
function dependencies(health) {
  const db = health.database ?? {};
  const rows = [{
    key: "database",
    name: `Database${db.dialect ? ` (${db.dialect === "postgresql" ? "PostgreSQL" : "SQLite"})` : ""}`,
    configured: true,
    reachable: db.reachable === true,
    status: db.reachable === true ? "ok" : "degraded",
    reason: db.reachable === true ? null : db.error ?? "cannot be reached",
    facts: [numeric(db.outages) && db.outages ? count(db.outages, "outage") : null,
      db.unavailable_since ? `unavailable since ${localTime(db.unavailable_since)}` : null],
  }];
  for (const [name, dep] of Object.entries(health.dependencies ?? {})) {
    if (!dep || typeof dep !== "object") continue;
    rows.push({
      ...dep,
      key: name,
      name: sourceWords(name),
      facts: [typeof dep.url === "string" ? dep.url : null,
        numeric(dep.errors) && dep.errors ? count(dep.errors, "error") : null,
        dep.last_ok_at ? `last good answer ${localTime(dep.last_ok_at)}` : null],
    });
  }
  return rows;
}

class DependencyView {
  constructor() {
    this.name = h("span", { class: "dep-name" });
    this.state = h("span", { class: "state" });
    this.reason = h("p", { class: "reason" });
    this.facts = h("p", { class: "meta" });
    this.el = h("li", { class: "dep" }, h("p", { class: "status" }, this.name, " ", this.state), this.reason, this.facts);
  }

  update(dep) {
    const [state, words] = dependencyWords(dep);
    setText(this.name, dep.name);
    setText(this.state, words);
    setAttr(this.state, "data-state", state);
    setAttr(this.el, "data-dependency", dep.key);
    setText(this.reason, dep.reason ?? "");
    setHidden(this.reason, !dep.reason);
    setText(this.facts, dep.facts.filter(Boolean).join(" · "));
  }
}

class ProblemView {
  constructor() {
    this.el = h("li", { class: "problem" });
  }

  update(sentence) {
    setText(this.el, sentence);
  }
}

const STRATEGY_WORDS = {
  one_for_one: "restarts a crashed child alone",
  one_for_all: "restarts every child when one crashes",
  rest_for_one: "restarts a crashed child and those started after it",
};

function nodeFacts(node) {
  return [
    node.strategy ? STRATEGY_WORDS[node.strategy] ?? humanise(node.strategy) : null,
    numeric(node.active) ? `${node.active} active` : null,
    numeric(node.mailbox_max) ? `mailbox ${node.mailbox_used ?? 0}/${node.mailbox_max}` : null,
    numeric(node.handled) ? `${node.handled} handled` : null,
    numeric(node.crashes) && node.crashes ? count(node.crashes, "crash", "crashes") : null,
    numeric(node.restarts) ? count(node.restarts, "restart") : null,
    numeric(node.restarts_in_window) && node.restarts_in_window ? `${node.restarts_in_window} restarted lately` : null,
  ].filter(Boolean).join(" · ");
}

// One supervisor, registry or actor of the tree, with its children below it.
class TreeNode {
  constructor() {
    this.name = h("span", { class: "node-name" });
    this.state = h("span", { class: "state" });
    this.facts = h("span", { class: "meta" });
    this.childList = h("ul", { class: "tree" });
    this.children = new KeyedList(this.childList, (node) => String(node.id), () => new TreeNode());
    this.foldLabel = h("span");
    this.fold = h("details", { class: "fold" }, h("summary", {}, this.foldLabel), this.childList);
    this.seeded = false;
    this.el = h("li", { class: "node" }, h("p", { class: "node-head" }, this.name, " ", this.state, " ", this.facts), this.fold);
  }

  update(node) {
    setText(this.name, String(node.id ?? "?"));
    setAttr(this.el, "data-node", node.id);
    setText(this.state, humanise(node.state));
    setAttr(this.state, "data-state", node.state === "running" ? "ok" : "degraded");
    setText(this.facts, nodeFacts(node));
    const children = Array.isArray(node.children) ? node.children.filter((c) => c && typeof c === "object") : [];
    if (!this.seeded && children.length) {
      this.seeded = true;
      this.fold.open = children.length <= OPEN_UP_TO;
    }
    setText(this.foldLabel, count(children.length, "child", "children"));
    setHidden(this.fold, children.length === 0);
    this.children.sync(children);
  }
}

class LetterView {
  constructor(health) {
    this.title = h("p", { class: "letter-title" });
    this.local = h("span");
    this.when = h("time", { class: "ago" });
    this.error = h("p", { class: "reason" });
    this.body = h("pre", { class: "letter-body" });
    this.bodyBox = h("details", {}, h("summary", { text: "The message as it was received" }), this.body);
    this.noBody = h("p", { class: "meta", text: "No message was kept: it cannot be posted again, only discarded." });
    this.retry = h("button", { type: "button", class: "secondary", text: "Retry" });
    this.retry.addEventListener("click", () => health.retryLetter(this.letter));
    this.discard = h("button", { type: "button", class: "danger", text: "Discard" });
    this.discard.addEventListener("click", () => health.discardLetter(this.letter));
    this.el = h("li", { class: "letter" }, this.title, h("p", { class: "meta" }, this.local, " · ", this.when), this.error, this.bodyBox, this.noBody,
      h("div", { class: "toolbar admin-only" }, this.retry, this.discard));
  }

  update(letter) {
    this.letter = letter;
    setAttr(this.el, "data-id", letter.id);
    setText(this.title, letterName(letter));
    setText(this.local, localTime(letter.at));
    setTime(this.when, letter.at);
    setText(this.error, letter.error ?? "");
    // /health's recent letters (all a viewer gets) carry no body at all; the API's, one or null.
    const hasBody = typeof letter.body === "string";
    setText(this.body, hasBody ? readable(letter.body) : "");
    setHidden(this.bodyBox, !hasBody);
    setHidden(this.noBody, hasBody || !("body" in letter));
    setHidden(this.retry, !hasBody);
    setAttr(this.retry, "aria-label", `Retry dead letter ${letter.id}`);
    setAttr(this.discard, "aria-label", `Discard dead letter ${letter.id}`);
  }
}

// A JSON body is shown indented; anything else as it came.
function readable(body) {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function letterName(letter) {
  const what = letter.kind || "A message";
  const from = letter.source ? ` from ${sourceWords(letter.source)}` : "";
  return `#${letter.id} · ${what}${from} · stopped at ${letter.actor}`;
}

function statusWords(status, health, problems) {
  if (status === "ok") return "nothing needs attention";
  if (status === "failing") {
    return health.database?.reachable === false ? "the database cannot be reached" : "the supervision tree gave up";
  }
  return count(problems.length, "problem");
}

function section(id, title, ...children) {
  // The heading takes the focus when what had it (a letter's button) is gone.
  return h("section", { class: "block", "aria-labelledby": id }, h("h3", { id, text: title, tabindex: -1 }), ...children);
}

export class Health {
  constructor({ canChange, onClose }) {
    this.canChange = canChange;
    this.onClose = onClose;
    this.timer = null;
    this.asked = 0;
    this.shown = 0;
    this.build();
  }

  build() {
    this.status = h("p", { class: "health-status", role: "status" });
    this.checked = h("p", { class: "meta" });
    this.summary = h("p", { class: "meta" });
    const close = h("button", { type: "button", class: "close", "aria-label": "Close", text: "×" });
    close.addEventListener("click", () => this.close());

    this.problemList = h("ul", { class: "problems" });
    this.problems = new KeyedList(this.problemList, (sentence) => sentence, () => new ProblemView());
    this.noProblems = h("p", { class: "meta", text: "No problems." });

    this.dependencyList = h("ul", { class: "deps" });
    this.dependencies = new KeyedList(this.dependencyList, (dep) => dep.key, () => new DependencyView());

    this.treeList = h("ul", { class: "tree root" });
    this.tree = new KeyedList(this.treeList, (node) => String(node.id), () => new TreeNode());
    this.noTree = h("p", { class: "reason", text: "The supervision tree is not running." });

    this.reconciler = h("p", { class: "meta" });
    this.reconcilerList = h("ul", { class: "deps" });
    this.reconcilerServices = new KeyedList(this.reconcilerList, (row) => row.name, () => new DependencyView());

    this.notifications = h("p", { class: "meta" });
    this.notificationError = h("p", { class: "reason" });

    this.letterCount = h("p", { class: "meta" });
    this.letterMessage = h("p", { class: "message", role: "status" });
    this.letterList = h("ul", { class: "letters" });
    this.letters = new KeyedList(this.letterList, (letter) => letter.id, () => new LetterView(this));

    this.content = h("div", { class: "health-sections" },
      section("health-problems", "Problems", this.problemList, this.noProblems),
      section("health-deps", "Dependencies", this.dependencyList),
      this.letterSection = section("health-letters", "Dead letters", this.letterCount, this.letterMessage, this.letterList),
      section("health-tree", "Supervision tree", this.noTree, this.treeList),
      section("health-reconciler", "Reconciler", this.reconciler, this.reconcilerList),
      section("health-notifications", "Notifications", this.notifications, this.notificationError));

    this.dialog = h("dialog", { id: "health", "aria-labelledby": "health-title" },
      h("div", { class: "detail-inner" },
        h("header", { class: "detail-head" },
          h("div", { class: "detail-summary" }, h("h2", { id: "health-title", text: "Health" }), this.status, this.checked, this.summary),
          close),
        this.content));
    this.dialog.addEventListener("close", () => this.closed());
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.close();
    });
    document.body.append(this.dialog);
    this.showLetterMessage("");
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    if (!this.dialog.open) this.dialog.showModal();
    setText(this.status, "Asking the service…");
    this.poll();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    clearTimeout(this.timer);
    this.timer = null;
    this.onClose();
  }

  async poll() {
    clearTimeout(this.timer);
    this.timer = null;
    await this.refresh();
    if (this.dialog.open && this.timer === null) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  // Answers can cross (a poll and a refresh after an action): only the newest question is shown.
  async refresh() {
    const asked = ++this.asked;
    let health;
    let failure = null;
    try {
      health = await api.health();
    } catch (exc) {
      failure = exc;
    }
    if (asked < this.shown) return;
    this.shown = asked;
    if (failure) {
      this.unreachable(failure.message);
      return;
    }
    this.show(health);
    if (this.canChange) await this.loadLetters(health);
  }

  unreachable(why) {
    this.content.classList.add("stale");
    setAttr(this.status, "data-status", "unreachable");
    setText(this.status, `Unreachable: ${why}`);
    setText(this.checked, this.lastAnswer
      ? `What follows is the last answer, from ${localTime(this.lastAnswer)}; asking again every ${POLL_MS / 1000} s.`
      : `No answer yet; asking again every ${POLL_MS / 1000} s.`);
  }

  show(health) {
    this.lastAnswer = new Date().toISOString();
    this.content.classList.remove("stale");
    const status = STATUS_WORDS[health.status] ? health.status : "degraded";
    const problems = Array.isArray(health.problems) ? health.problems.filter((p) => typeof p === "string") : [];
    setAttr(this.status, "data-status", status);
    setText(this.status, `${STATUS_WORDS[status]}: ${statusWords(status, health, problems)}`);
    setText(this.checked, `Checked ${localTime(this.lastAnswer)}, again every ${POLL_MS / 1000} s while this is open.`);
    setText(this.summary, [
      numeric(health.uptime_s) ? `up ${duration(health.uptime_s)}` : null,
      numeric(health.inbox?.pending) ? `${health.inbox.pending} waiting in the inbox` : null,
      numeric(health.waiting_for_library) ? `${health.waiting_for_library} waiting for the library` : null,
      numeric(health.recovery?.stuck_now) ? `${health.recovery.stuck_now} stuck` : null,
      numeric(health.refused_transitions) ? count(health.refused_transitions, "refused change") : null,
      numeric(health.live_feed?.clients) ? `${health.live_feed.clients} on the live feed` : null,
    ].filter(Boolean).join(" · "));

    this.problems.sync(problems);
    setHidden(this.noProblems, problems.length > 0);
    this.dependencies.sync(dependencies(health));

    const root = health.supervisor && typeof health.supervisor === "object" ? [health.supervisor] : [];
    this.tree.sync(root);
    setHidden(this.noTree, root.length > 0);

    this.showReconciler(health.reconciler ?? {});
    this.showNotifications(health.notifications ?? {});
    this.showLetterCount(health.dead_letters ?? {});
  }

  showReconciler(rec) {
    if (!rec.configured) {
      setText(this.reconciler, "Not configured: nothing catches up on webhooks that never came.");
      this.reconcilerServices.sync([]);
      return;
    }
    const caught = Object.entries(rec.last_round?.caught_up ?? {}).map(([kind, n]) => `${n} ${humanise(kind).toLowerCase()}`);
    setText(this.reconciler, [
      numeric(rec.interval_s) ? `reads the services every ${duration(rec.interval_s)}` : null,
      numeric(rec.rounds) ? count(rec.rounds, "round") : null,
      rec.last_round?.at ? `last round ${localTime(rec.last_round.at)}` : null,
      caught.length ? `caught up: ${caught.join(", ")}` : "nothing to catch up last round",
    ].filter(Boolean).join(" · "));
    this.reconcilerServices.sync(Object.entries(rec.services ?? {}).map(([name, s]) => ({
      key: `reconciler-${name}`,
      name: sourceWords(name),
      configured: true,
      reachable: s.last_error ? false : s.last_read_at ? true : null,
      status: s.last_error ? "degraded" : s.last_read_at ? "ok" : "unknown",
      reason: s.last_error,
      facts: [s.last_read_at ? `last read ${localTime(s.last_read_at)}` : null,
        numeric(s.cursor_lag_s) ? `history read up to ${duration(s.cursor_lag_s)} ago` : null],
    })));
  }

  showNotifications(n) {
    if (!n.configured) {
      setText(this.notifications, "Not configured.");
      setHidden(this.notificationError, true);
      return;
    }
    setText(this.notifications, [
      n.status === "degraded" ? "Degraded" : "OK",
      numeric(n.targets) ? count(n.targets, "target") : null,
      ...["pending", "retrying", "sent", "failed"].map((key) => (numeric(n[key]) ? `${n[key]} ${key}` : null)),
      n.last_sent_at ? `last sent ${localTime(n.last_sent_at)}` : null,
    ].filter(Boolean).join(" · "));
    setText(this.notificationError, n.last_error ? `Last error${n.last_error_at ? ` (${localTime(n.last_error_at)})` : ""}: ${n.last_error}` : "");
    setHidden(this.notificationError, !n.last_error);
  }

  showLetterCount(letters) {
    const total = numeric(letters.count) ? letters.count : null;
    if (total === null) setText(this.letterCount, "Unknown: the database did not answer.");
    else if (total === 0) setText(this.letterCount, "None: every message was applied.");
    else if (this.canChange) setText(this.letterCount, `${count(total, "message")} no actor could apply.`);
    else {
      setText(this.letterCount, `${count(total, "message")} no actor could apply. ` +
        "Their contents, and retrying them, are for a session signed in with the API token.");
    }
    // A viewer sees the ids and kinds /health gives; an admin the full list from the API.
    if (!this.canChange) this.letters.sync(Array.isArray(letters.recent) ? letters.recent : []);
  }

  async loadLetters(health) {
    try {
      const page = await api.listDeadLetters({ limit: LETTERS_SHOWN });
      this.letters.sync(page.items ?? []);
      if (page.total > (page.items ?? []).length) {
        setText(this.letterCount, `${count(page.total, "message")} no actor could apply; the newest ${page.items.length} are shown.`);
      }
    } catch (exc) {
      if (health.dead_letters?.count) this.showLetterMessage(`Could not list the dead letters: ${exc.message}`, true);
    }
  }

  showLetterMessage(text, isError = false) {
    setText(this.letterMessage, text);
    this.letterMessage.classList.toggle("error", isError);
    setHidden(this.letterMessage, !text);
  }

  async retryLetter(letter) {
    const ok = await confirmAction({
      title: `Retry dead letter ${letter.id}?`,
      message: `${letterName(letter)} is handed to its actor again. If what stopped it is not fixed, it comes back here.`,
      action: "Retry",
    });
    if (ok) await this.act(() => api.retryDeadLetter(letter.id), `Dead letter ${letter.id} was posted again.`, "retry");
  }

  async discardLetter(letter) {
    const ok = await confirmAction({
      title: `Discard dead letter ${letter.id}?`,
      message: `${letterName(letter)} will be deleted and never applied.`,
      action: "Discard",
    });
    if (ok) await this.act(() => api.discardDeadLetter(letter.id), `Dead letter ${letter.id} was discarded.`, "discard");
  }

  async act(action, done, verb) {
    try {
      await action();
      this.showLetterMessage(done);
    } catch (exc) {
      this.showLetterMessage(`Could not ${verb} it: ${exc.message}`, true);
    }
    await this.refresh();
    if (!this.dialog.contains(document.activeElement)) this.letterSection.querySelector("h3").focus();
  }
}
