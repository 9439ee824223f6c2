#!/usr/bin/env node
// Drives the whole AccessBot demo story through real Microsoft 365 Agents Playground instances, one per person,
// through the Playground's own HTTP + WebSocket interface (the one its web UI uses; see docs/PLAYGROUND.md).
// Every step has a deadline and a clear failure message; the exit code is 0 only when every step passed.
//
//   node --experimental-websocket scripts/playground/e2e.mjs --bot http://127.0.0.1:13978/api/messages \
//        --sim http://127.0.0.1:13979 [--timeout 30] [--delivery-timeout 90] [--screenshots DIR] [--transcript FILE]
//        [--no-clock]
//
// Usually run through scripts/e2e.sh (`make e2e`), which starts a fresh `accessbot demo --reset` on its own
// ports first. Nine Playgrounds: the committed personas (Rita, Aaron, Gus, Adele) and five generated ones whose
// cards only show where they are the current user (Patti and Fiona, the Fabrikam sponsors; Isaiah and Lynne,
// the Falcon Security Reviewers; Megan, Aaron's other report). The story; acts run in order, an act stops at
// its first broken step and the next act still runs (act 0 failing stops the run):
//   0 open:     every chat is opened (installation) and welcomed, so the bot has every conversation reference.
//   1 request:  Rita lists packages, opens Falcon Team Member, submits it → "Pending approval", Aaron named;
//               Adele's /pending lists it.
//   2 approve:  Aaron's chat gets the approval card → he approves → decided view; Rita's status card is
//               updated in place to Delivered.
//   3 my stuff: Rita's `status` shows it delivered; `access` lists it.
//   4 stages:   Falcon Production Access: a bad change ticket is refused on the form, a good one filed; Aaron
//               must give a justification; Isaiah and Lynne get stage 2; Isaiah approves, Lynne's copy follows;
//               delivered.
//   5 partner:  Gus (Fabrikam) requests Falcon Partner Collaboration → brokered; Patti and Fiona get the card;
//               Patti approves → Fiona's copy turns decided and her late click is refused; Gus gets the guest
//               guidance card → the redemption link is opened → "You're in"; his status card says Delivered.
//   6 admin:    Adele's /orgs lists Fabrikam, /pending answers, /audit shows the decisions; Rita's /orgs is refused.
//   7 unknown:  a typo gets "Did you mean" suggestions; a welcome card button (Action.Submit) works.
//   8 places:   "@AccessBot help" is answered in a group chat and in a channel thread.
//   9 cancel:   Megan (generated) files Falcon Team Member and cancels it from her status card; Aaron's card for
//               her turns read-only and his late Approve changes nothing. She files Falcon Production Access;
//               Aaron denies it with a reason; her status card says Denied, by whom and why.
//  10 escalate: Megan files it again; Aaron approves stage 1; the simulator's clock moves 5 h past the stage's
//               PT4H escalation; Megan clicks Refresh; Patti gets "Escalated to you", Megan is told; Patti
//               approves; delivered.
//  11 ending:   (skipped with --no-clock) the clock moves 27 more days; Gus is told his partner access ends
//               soon (the demo bot looks again within its 15-second PollMax).
//  12 admin:    Adele /assign's Falcon Wiki Reader to Megan and /revoke's Rita's, each through its confirmation
//               card; Megan's and Rita's `access` follow.
//  13 failures: Graph throttles twice (retried, the list still comes), then keeps throttling (a "busy" card
//               with Try again, which works once Graph is back); Lynne has not consented (a permission card with
//               a My Access link; Try again works once she has).
//  14 web UI:   (only with --screenshots) Adele requests Falcon Wiki Reader by clicking in the Playground's page.
//  16 builder:  the seed's step 2 in chat: Adele /connect's Northwind and builds "Northwind Pilot" with /package new
//               (Falcon Team as Member, Northwind users may request, Patti approves, 30 days) and gets the links;
//               Adele edits it twice (/package Northwind Pilot edit): adds the site's Visitors role and 60 days, the
//               review lists exactly those calls and Save makes them; then unticks the role, which Save removes.
//               Nina (Northwind, generated) requests it, Patti approves, Nina gets the guest guidance and is in.
//               --only builder runs acts 0 and 16 alone, with the four Playgrounds they need.
//  17 reviews:  (--only reviews: acts 0 and 17 alone, with Rita, Aaron, Adele, Megan and Gus) the simulator's opt-in
//               review seed; Gus types "reviews" in his Fabrikam chat and answers his guest self-review (Yes, with
//               a reason, recorded with his own identity); Aaron gets the access review card and accepts the recommendations (Rita kept, Megan
//               denied); Adele's /reviews shows it decided, /review … stop and apply go through confirmation
//               cards; Megan is told her access ended; the clock moves 4 days: Rita is warned that Falcon Team
//               Member ends, extends it from the card, Aaron approves the extension. A two-stage review of Falcon
//               Team Member: Aaron decides stage 1 ("Stage 1 of 2"); Adele gets nothing until /review … stop ends
//               stage 1, then her stage 2 card with Aaron's decision as evidence; she approves; /reviews per stage.
//               Then Adele creates a three-stage review from chat (/review new … stages Aaron then manager then
//               self): Aaron reviews stage 1 and, as Rita's manager, stage 2 (a card for each, though Graph asked
//               him in stage 1); Rita answers her stage 3 self-review on her card.
//  15 received: over the whole run, no chat got the same message twice in a row (unasked) and no card has text
//               that Teams' Markdown mangles (a bare "1.", an HTML-like <tag>).
// --pg-port BASE numbers the Playgrounds' ports from BASE (default 56160).
// With --screenshots DIR, a headless Chromium (playwright-core + /usr/bin/chromium) shows each person's
// Playground during the whole run and a PNG of each 1:1 chat is saved at the end (DIR/<persona>.png).
// --transcript FILE writes every chat as text (events in order, then each message as it reads at the end).
//
// Node 20 needs --experimental-websocket for the global WebSocket (Node 22+ has it by default).
import { spawn, spawnSync } from "node:child_process";
import http from "node:http";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const CARD = "application/vnd.microsoft.card.adaptive";

/** Installs the pinned packages (package.json) into scripts/playground/node_modules unless those versions are there. */
export function ensureInstalled(names = ["@microsoft/m365agentsplayground"]) {
  const deps = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")).dependencies;
  const missing = names.filter((n) => {
    const pkg = path.join(here, "node_modules", ...n.split("/"), "package.json");
    return !existsSync(pkg) || JSON.parse(readFileSync(pkg, "utf8")).version !== deps[n];
  });
  if (missing.length === 0) return;
  console.error(`installing ${missing.map((n) => `${n}@${deps[n]}`).join(", ")} into ${here}/node_modules`);
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: here, stdio: "inherit" });
  if (r.error) throw new Error(`npm ci in ${here}: ${r.error.message} (Node's npm must be on PATH)`);
  if (r.status !== 0) throw new Error(`npm ci in ${here} failed (exit ${r.status}); the registry must be reachable for the first run`);
}

// ---- reading cards ----

/** Cards attached to a Playground message. */
export const cardsOf = (msg) => (msg?.attachments ?? []).filter((a) => a.contentType === CARD).map((a) => a.content);

/** Depth-first list of the actions (card actions and ActionSets) of an Adaptive Card. */
export function actionsOf(card) {
  const out = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    if (typeof node.type === "string" && node.type.startsWith("Action.")) out.push(node);
    for (const [k, v] of Object.entries(node)) if (k !== "data") walk(v);
  };
  walk(card?.body);
  walk(card?.actions);
  return out;
}

/** What a person reads on a card: text blocks, facts, rich text, input labels and choices, action titles. */
export function cardText(card) {
  const out = [];
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== "object") return;
    if (n.type === "TextBlock" || n.type === "TextRun") out.push(n.text);
    if (n.type === "FactSet") for (const f of n.facts ?? []) out.push(`${f.title}: ${f.value}`);
    if (typeof n.type === "string" && n.type.startsWith("Input.")) out.push(n.label ?? "", n.placeholder ?? "");
    if (n.type === "Input.ChoiceSet") for (const c of n.choices ?? []) out.push(c.title);
    if (typeof n.type === "string" && n.type.startsWith("Action.")) out.push(`[${n.title ?? ""}]`);
    for (const [k, v] of Object.entries(n)) if (k !== "data" && k !== "facts" && k !== "choices") walk(v);
  };
  walk(card?.body);
  walk(card?.actions);
  return out.filter(Boolean).join(" | ");
}

/** The text of a message: its text and its cards' text. */
export const messageText = (msg) => [msg?.text ?? "", ...cardsOf(msg).map(cardText)].filter(Boolean).join(" || ");

/** An invoke response ({type, value}) as a message with that card, for messageText and findAction. */
export const asMessage = (r) => ({ attachments: [{ contentType: CARD, content: r?.value }] });

/** The inputs of a request form that answer the policy's questions (ids q_…). */
export function questionsOf(msg) {
  const out = [];
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== "object") return;
    if (typeof n.id === "string" && n.id.startsWith("q_") && String(n.type).startsWith("Input.")) out.push(n);
    Object.values(n).forEach(walk);
  };
  cardsOf(msg).forEach((c) => walk(c.body));
  return out;
}

/** True when text contains every wanted string (case-insensitive). */
export const hasAll = (text, want) => want.every((w) => text.toLowerCase().includes(w.toLowerCase()));

/** The first action of a message's cards with this verb (Action.Execute) or title (any action). */
export function findAction(msg, { verb, title }) {
  const all = cardsOf(msg).flatMap(actionsOf);
  return all.find((a) => (verb ? a.verb === verb : true) && (title ? a.title === title : true));
}

// ---- one Playground ----

/** A running Playground instance, driven through its HTTP API and its conversation WebSocket. */
/**
 * What the bot says in German for the phrases the story waits for (from internal/i18n/catalog/*.de.json): a
 * persona started with a locale (E2E_LOCALES="guest=de-DE") is checked in its language.
 */
const phrases = {
  de: {
    "Pending approval": "Genehmigung ausstehend", "brokered": "vermittelt", "added you as a guest": "hat Sie als Gast hinzugefügt",
    "Accept the invitation": "Einladung annehmen", "You're in": "Geschafft", "Delivered": "Bereitgestellt", "Refresh": "Aktualisieren",
    "ends soon": "endet bald", "Submit request": "Anfrage senden", "Request": "Anfordern", "Not allowed": "Nicht erlaubt",
  },
};

/** The locale of each persona from E2E_LOCALES ("guest=de-DE,admin=fr-FR"); a persona not named speaks English. */
export function personaLocales(spec = process.env.E2E_LOCALES ?? "") {
  const out = {};
  for (const part of spec.split(",").map((x) => x.trim()).filter(Boolean)) {
    const [persona, locale] = part.split("=");
    if (!persona || !/^[a-z]{2}(-[A-Z]{2})?$/.test(locale ?? "")) throw new Error(`E2E_LOCALES: "${part}" is not persona=ll-CC`);
    out[persona] = locale;
  }
  return out;
}

/**
 * Starts a loopback proxy in front of the bot that stamps every activity with a Teams locale ("de-DE"): the
 * Playground itself always sends locale "en-US", while Teams sends the user's. It rewrites activity.locale and
 * the clientInfo entity's locale, forwards everything else unchanged (headers, body, the invoke answer) and
 * resolves to {url, close}: point the persona's Playground at url.
 */
export function startLocaleProxy(target, locale) {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      try {
        const act = JSON.parse(body.toString("utf8"));
        if (act && typeof act === "object") {
          act.locale = locale;
          for (const e of act.entities ?? []) if (e?.type === "clientInfo") e.locale = locale;
          body = Buffer.from(JSON.stringify(act));
        }
      } catch { /* not JSON: forward as is */ }
      const headers = { ...req.headers, host: to.host, "content-length": String(body.length) };
      const up = http.request({ hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({
      url: `http://127.0.0.1:${server.address().port}${to.pathname}`,
      close: () => new Promise((r) => server.close(() => r())),
    }));
  });
}

export class Playground {
  /**
   * @param {{persona: string, bot: string, port?: number, config?: string, locale?: string, log?: (s: string) => void}} opts
   *   config: the persona file (default manifest/playground/<persona>.yml); locale: the persona's Teams locale
   *   ("de-DE"; default: the Playground's own, en-US).
   */
  constructor(opts) {
    this.persona = opts.persona;
    this.locale = opts.locale ?? "";
    this.bot = opts.bot;
    this.port = opts.port ?? 0;
    this.configFile = opts.config ?? path.join(root, "manifest", "playground", `${this.persona}.yml`);
    this.events = []; // every WebSocket event, in order: {action, actionConversationId, message}
    this.views = new Map(); // messageId → the message as the person sees it now (bot updates and invoke answers)
    this.waiters = [];
    this.mirror = false; // screenshot mode: show invoke answers in the web UI too (see execute)
    this.pendingMirrors = new Map();
  }

  /** Starts the Playground process and waits for its "Listening on" line, then connects the WebSocket. */
  async start(timeoutMs = 60_000) {
    const bin = path.join(here, "node_modules", ".bin", "agentsplayground");
    if (this.locale && !this.proxy) {
      this.proxy = await startLocaleProxy(this.bot, this.locale);
      this.bot = this.proxy.url;
    }
    this.dir = mkdtempSync(path.join(tmpdir(), `playground-${this.persona}-`));
    copyFileSync(this.configFile, path.join(this.dir, ".m365agentsplayground.yml"));
    // A busy port silently falls back to a random one: the real port is read from "Listening on N".
    const port = this.port || 56160 + Math.floor(Math.random() * 30);
    this.proc = spawn(bin, ["-e", this.bot, "-c", "msteams", "-p", String(port), "--disable-telemetry"], {
      cwd: this.dir,
      env: { ...process.env, APPLICATION_INSIGHTS_NO_STATSBEAT: "true", TEAMSAPPTESTER_BROWSER: "none" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.output = "";
    this.proc.stderr.on("data", (d) => (this.output += d));
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.persona}: no "Listening on" line after ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      this.proc.stdout.on("data", (d) => {
        this.output += d;
        const m = /^Listening on (\d+)$/m.exec(this.output);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${this.persona}: Playground exited (${code}) before listening:\n${this.output}`)); });
    });
    this.port = await listening;
    this.base = `http://127.0.0.1:${this.port}`;
    const cfg = await this.get("/_internal/v1/config");
    this.config = cfg.config;
    this.user = cfg.config.currentUser;
    this.chat = cfg.config.personalChat.id;
    await this.connect();
    return this;
  }

  /** The language this persona reads ("de"), or "en". */
  get lang() { return (this.locale || "en").slice(0, 2); }

  /** A phrase the bot says, in this persona's language. */
  tr(phrase) { return phrases[this.lang]?.[phrase] ?? phrase; }

  /** Who this is, for messages: "guest (Gus Guest)". */
  get who() { return `${this.persona} (${this.user?.name ?? "?"})`; }

  /** Opens the conversation WebSocket; every bot message, update and typing event arrives on it. */
  async connect() {
    this.ws = new WebSocket(`ws://127.0.0.1:${this.port}/_ws_conversation/v1/conversations/stream`);
    this.ws.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      const id = ev.message?.messageId;
      if (ev.action === "updateMessage" && this.pendingMirrors.get(id) === JSON.stringify(cardsOf(ev.message))) {
        ev.mirrored = true; // our own copy of an invoke answer (screenshot mode), not the bot's update
        this.pendingMirrors.delete(id);
      }
      this.events.push(ev);
      if (id && (ev.action === "createMessage" || ev.action === "updateMessage")) this.views.set(id, ev.message);
      this.waiters = this.waiters.filter((w) => !w(ev));
    };
    await new Promise((resolve, reject) => { this.ws.onopen = resolve; this.ws.onerror = () => reject(new Error(`${this.persona}: WebSocket connection failed`)); });
  }

  async get(p) {
    const r = await fetch(this.base + p);
    if (!r.ok) throw new Error(`${this.persona}: GET ${p}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  }

  async send(method, p, body) {
    const r = await fetch(this.base + p, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${this.persona}: ${method} ${p}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  post(p, body) { return this.send("POST", p, body); }

  /** Opens the 1:1 chat the way the UI does: the bot gets installationUpdate / conversationUpdate. */
  openChat(conversationId = this.chat) {
    return this.post(`/_debug/conversation/${encodeURIComponent(conversationId)}/installation`, {});
  }

  /**
   * Sends a text message as the persona; returns {messageId, timestamp}. With a browser page attached
   * (screenshots) the text is typed into the web UI's compose box instead, so the chat shows it too.
   */
  async say(text, conversationId = this.chat) {
    this.note(conversationId, `says ${JSON.stringify(text)}`);
    if (this.page && conversationId === this.chat) {
      const box = this.page.locator("[role=textbox]").first();
      await box.click();
      await this.page.keyboard.type(text);
      await this.page.keyboard.press("Enter");
      return {};
    }
    return this.post(`/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
      from: { id: this.user.id }, text, textFormat: "plain",
    });
  }

  /**
   * Clicks an Action.Execute on a card message: inputs are merged into the action's data as a Teams client does.
   * Returns the bot's invoke response ({type, value}); the Playground replaces the card with value, which is
   * recorded in views. In mirror mode (screenshots) the answer is also PUT through the Playground's connector:
   * the web UI only replaces a card after its own clicks, and this makes it show what the person would see.
   */
  async execute(messageId, action, inputs = {}, conversationId = this.chat) {
    this.note(conversationId, `clicks ${JSON.stringify(action.title ?? action.verb)} (${action.verb}) on ${messageId} ${JSON.stringify(inputs)}`);
    const res = await this.post("/_conversation/v1/invoke", {
      name: "adaptiveCard/action",
      value: { action: { type: "Action.Execute", verb: action.verb, data: { ...(action.data ?? {}), ...inputs } } },
      from: { id: this.user.id }, conversation: { id: conversationId }, replyToId: messageId,
    });
    if (res?.type === CARD && res.value) {
      const old = this.views.get(messageId) ?? { messageId };
      this.views.set(messageId, { ...old, text: "", attachments: [{ contentType: CARD, content: res.value }] });
      if (this.mirror) {
        this.pendingMirrors.set(messageId, JSON.stringify([res.value]));
        await this.send("PUT", `/_connector/v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(messageId)}`, {
          type: "message", id: messageId, attachments: [{ contentType: CARD, content: res.value }],
        }).catch((e) => console.error(`  (mirror of the invoke answer for the web UI failed: ${e.message})`));
      }
    }
    return res;
  }

  /** Clicks an Action.Submit: the bot receives a message activity whose value is data + inputs. */
  submit(messageId, action, inputs = {}, conversationId = this.chat) {
    this.note(conversationId, `clicks ${JSON.stringify(action.title)} (Action.Submit) on ${messageId}`);
    return this.post("/_conversation/v1/submit", {
      conversation: { id: conversationId }, from: { id: this.user.id }, replyToId: messageId,
      value: { ...(action.data ?? {}), ...inputs },
    });
  }

  /** Records what the person did (a "user" event, for the transcript and the duplicate check; never sent). */
  note(conversationId, what) {
    this.events.push({ action: "user", actionConversationId: conversationId, what });
  }

  /** Index of the next event: wait helpers given this index only look at what arrives from now on. */
  mark() { return this.events.length; }

  /** Resolves with the first event at index ≥ from matching pred (already seen or future); rejects after timeoutMs. */
  waitFor(pred, timeoutMs, what = "event", from = 0) {
    const seen = this.events.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`${this.who}: timed out after ${timeoutMs / 1000} s waiting for ${what}; ${this.recent(from)}`));
      }, timeoutMs);
      const check = (ev) => { if (!pred(ev)) return false; clearTimeout(timer); resolve(ev); return true; };
      this.waiters.push(check);
    });
  }

  /** A new bot message in this person's chat (from index `from`) whose text has every `want` string. */
  async message(from, want, timeoutMs, what) {
    want = want.map((w) => this.tr(w));
    const ev = await this.waitFor((e) => e.action === "createMessage" && e.actionConversationId === this.chat &&
      e.message.from?.id === this.config.bot.id && hasAll(messageText(e.message), want),
    timeoutMs, what ?? `a bot message containing ${JSON.stringify(want)}`, from);
    return ev.message;
  }

  /** The bot's in-place update (updateMessage) of message id (from index `from`) whose text has every `want` string. */
  async update(from, id, want, timeoutMs, what) {
    want = want.map((w) => this.tr(w));
    const ev = await this.waitFor((e) => e.action === "updateMessage" && !e.mirrored && e.message.messageId === id &&
      hasAll(messageText(e.message), want),
    timeoutMs, what ?? `an update of message ${id} containing ${JSON.stringify(want)}`, from);
    return ev.message;
  }

  /** A short account of what arrived since index from (for failure messages). */
  recent(from = 0) {
    const evs = this.events.slice(from).filter((e) => e.action !== "typing" && e.action !== "user");
    if (evs.length === 0) return "nothing arrived from the bot in this chat";
    return `what arrived:\n${evs.slice(-6).map((e) => `    ${e.action}${e.mirrored ? " (mirror)" : ""} ${e.message?.messageId}: ${messageText(e.message).slice(0, 400)}`).join("\n")}`;
  }

  /** This person's chat as text: every event in order, then every message as it reads now. */
  transcript() {
    const lines = [`== ${this.who}, chat ${this.chat}, Playground ${this.base}`];
    for (const e of this.events) {
      if (e.action === "typing") continue;
      if (e.action === "user") { lines.push(`  >> ${this.user?.name} ${e.what}${e.actionConversationId === this.chat ? "" : ` in ${e.actionConversationId}`}`); continue; }
      lines.push(`  ${e.action}${e.mirrored ? " (mirror of an invoke answer)" : ""} ${e.message?.messageId}: ${messageText(e.message)}`);
    }
    lines.push("  -- as the chat reads at the end (invoke answers applied):");
    for (const [id, m] of this.views) lines.push(`  ${id}: ${messageText(m)}`);
    return lines.join("\n");
  }

  async stop() {
    try { this.ws?.close(); } catch { /* already closed */ }
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    await this.proxy?.close();
  }
}

// ---- generated personas ----

const contoso = "11111111-1111-1111-1111-111111111111";
const fabrikam = "22222222-2222-2222-2222-222222222222";
const northwind = "33333333-3333-3333-3333-333333333333";
/** Seed people (docs/ARCHITECTURE.md): first name → [last name, tenant, NN of the object id]. */
const seedPeople = {
  Rita: ["Requester", contoso, 1], Aaron: ["Approver", contoso, 2], Adele: ["Vance", contoso, 3],
  Isaiah: ["Langer", contoso, 4], Patti: ["Fernandez", contoso, 5], Lynne: ["Robbins", contoso, 6],
  Megan: ["Bowen", contoso, 7], Gus: ["Guest", fabrikam, 1], Fiona: ["Partner", fabrikam, 2], Frank: ["Miller", fabrikam, 3],
  Nina: ["North", northwind, 1],
};
const domains = { [contoso]: ["contoso.example", "aaaaaaaa"], [fabrikam]: ["fabrikam.example", "bbbbbbbb"], [northwind]: ["northwind.example", "cccccccc"] };
const person = (first) => {
  const [last, tenant, n] = seedPeople[first];
  const [dom, prefix] = domains[tenant];
  const oid = `${prefix}-0000-0000-0000-0000000000${String(n).padStart(2, "0")}`;
  const id = first.toLowerCase();
  return `{id: "29:${id}", name: ${first} ${last}, userPrincipleName: ${id}@${dom}, aadObjectId: ${oid}, givenName: ${first}, surname: ${last}, email: ${id}@${dom}}`;
};
const places = {
  [contoso]: `groupChat: {id: "19:gc-falcon@thread.v2", name: Falcon Approvals}
team:
  id: "19:team-falcon@thread.tacv2"
  name: Falcon Team
  aadGroupId: dddddddd-0000-0000-0000-000000000001
  channels:
    - {id: "19:falcon-access@thread.tacv2", name: Access Requests}`,
  [fabrikam]: `groupChat: {id: "19:gc-fabrikam-partners@thread.v2", name: Fabrikam Partners}
team:
  id: "19:team-fabrikam@thread.tacv2"
  name: Fabrikam Projects
  aadGroupId: 22222222-0000-0000-0000-0000000000f1
  channels:
    - {id: "19:fabrikam-access@thread.tacv2", name: Access Requests}`,
  [northwind]: `groupChat: {id: "19:gc-northwind-pilot@thread.v2", name: Northwind Pilot}
team:
  id: "19:team-northwind@thread.tacv2"
  name: Northwind Engineering
  aadGroupId: 33333333-0000-0000-0000-0000000000f1
  channels:
    - {id: "19:northwind-general@thread.tacv2", name: General}`,
};

/**
 * The people of the story who have no committed persona, because their cards only show in a Playground where
 * they are the current user: the Fabrikam connected organization's sponsors Patti (internal) and Fiona
 * (external), and the Falcon Security Reviewers Isaiah and Lynne (stage 2 of Falcon Production Access).
 * persona name → [who, role, the 5 other users the format requires].
 */
export const extraPersonas = {
  patti: ["Patti", "internal sponsor of Fabrikam, fallback approver", ["Rita", "Aaron", "Adele", "Isaiah", "Lynne"]],
  fiona: ["Fiona", "external sponsor of Fabrikam", ["Gus", "Frank", "Patti", "Adele", "Aaron"]],
  isaiah: ["Isaiah", "Falcon Security Reviewers (stage 2)", ["Rita", "Aaron", "Adele", "Patti", "Lynne"]],
  lynne: ["Lynne", "Falcon Security Reviewers (stage 2)", ["Rita", "Aaron", "Adele", "Patti", "Isaiah"]],
  megan: ["Megan", "employee, Aaron's other report", ["Rita", "Aaron", "Adele", "Patti", "Isaiah"]],
  nina: ["Nina", "Northwind user (an organization Adele connects in act 16)", ["Gus", "Frank", "Fiona", "Patti", "Adele"]],
};

/**
 * Writes a persona file (Playground config format 0.1.1, ids from the seed) for each of extraPersonas into
 * dir; personal chat a:pc-<persona>. Returns persona name → file path.
 */
export function writeExtraPersonas(dir) {
  const out = {};
  for (const [name, [first, role, others]] of Object.entries(extraPersonas)) {
    const tenant = seedPeople[first][1];
    out[name] = path.join(dir, `${name}.yml`);
    writeFileSync(out[name], `# Generated by scripts/playground/e2e.mjs: ${first} ${seedPeople[first][0]}, ${role}.
version: "0.1.1"
tenantId: ${tenant}
bot: {id: "28:b0770000-0000-4000-8000-000000000001", name: AccessBot}
currentUser: ${person(first)}
users:
${others.map((o) => `  - ${person(o)}`).join("\n")}
personalChat: {id: "a:pc-${name}"}
${places[tenant]}
`);
  }
  return out;
}

// ---- screenshots ----

const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Headless Chromium showing each Playground's web UI for the whole run, so the end state can be captured. */
class Screens {
  async open(pgs) {
    ensureInstalled(["@microsoft/m365agentsplayground", "playwright-core"]);
    const exe = process.env.CHROMIUM ?? "/usr/bin/chromium";
    if (!existsSync(exe)) throw new Error(`screenshots need Chromium at ${exe} (apt-get install -y chromium fonts-open-sans, or set CHROMIUM)`);
    const { chromium } = await import("playwright-core");
    this.browser = await chromium.launch({ executablePath: exe, args: chromiumArgs });
    this.pages = new Map();
    for (const pg of pgs) {
      const page = await this.browser.newPage({ viewport: { width: 900, height: 900 } });
      await page.goto(pg.base + "/", { waitUntil: "load" });
      await page.locator("[role=textbox]").first().waitFor({ timeout: 30_000 });
      // The chat is what the person sees: close the Playground's log panel (its last header button).
      const header = page.getByText("Log Panel", { exact: true }).locator("xpath=..");
      await header.getByRole("button").last().click({ timeout: 5_000 }).catch(() => console.error(`  (${pg.persona}: could not close the log panel)`));
      this.pages.set(pg, page);
      pg.page = page;
    }
  }

  async capture(dir) {
    mkdirSync(dir, { recursive: true });
    const saved = [];
    for (const [pg, page] of this.pages) {
      // Make the window tall enough for the whole chat (the message list scrolls inside the page).
      const extra = await page.evaluate(() => {
        const els = [...document.querySelectorAll("div")].filter((el) => el.scrollHeight > el.clientHeight + 10);
        const list = els.sort((a, b) => b.scrollHeight - a.scrollHeight)[0];
        return list ? list.scrollHeight - list.clientHeight : 0;
      });
      const vp = page.viewportSize();
      await page.setViewportSize({ width: vp.width, height: Math.min(vp.height + extra + 20, 8000) });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(500); // rendering settle time for the image only; nothing is asserted on it
      const file = path.join(dir, `${pg.persona}.png`);
      await page.screenshot({ path: file });
      saved.push(file);
    }
    return saved;
  }

  async close() { await this.browser?.close().catch(() => {}); }
}

// ---- the story ----

/** The run's acts and steps, with what passed and what broke. */
class Story {
  constructor() {
    this.results = []; // {act?, step, ok, ms?, error?}
  }

  /** Runs one act: its steps in order, stopping at the first broken one. */
  async act(name, body) {
    console.log(`\n== ${name}`);
    try {
      await body();
    } catch (e) {
      this.results.push({ act: name, step: this.current, ok: false, error: e.message });
      console.log(`FAIL ${name} / ${this.current}:\n  ${e.message.replaceAll("\n", "\n  ")}`);
    }
  }

  /** Runs one step; its error is reported with the step's name. */
  async step(title, fn) {
    this.current = title;
    const t = Date.now();
    const r = await fn();
    const ms = Date.now() - t;
    this.results.push({ step: title, ok: true, ms });
    console.log(`ok   ${title} (${(ms / 1000).toFixed(1)} s)`);
    return r;
  }

  get failed() { return this.results.filter((r) => !r.ok); }
}

/** Fails with a message naming the person, what was expected and what the card said. */
/** POSTs body as JSON to the simulator's control path p (/_sim/clock, /_sim/throttle, /_sim/consent). */
async function simPost(sim, p, body) {
  const r = await fetch(`${sim}${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`POST ${sim}${p} ${JSON.stringify(body)}: HTTP ${r.status} ${text}`);
}

function expect(cond, pg, what, msg) {
  if (!cond) throw new Error(`${pg.who}: ${what}; the card says: ${messageText(msg).slice(0, 600)}`);
}

function args(argv) {
  const o = { bot: "http://127.0.0.1:3978/api/messages", sim: "http://127.0.0.1:3979", timeout: 30, "delivery-timeout": 90, screenshots: "", transcript: "", clock: true, only: "", "pg-port": 56160 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    if (k === "clock") { o.clock = true; i--; continue; }
    if (k === "no-clock") { o.clock = false; i--; continue; }
    if (!(k in o) || argv[i + 1] === undefined) {
      throw new Error(`usage: e2e.mjs [--bot URL] [--sim URL] [--timeout SECONDS] [--delivery-timeout SECONDS] [--screenshots DIR] [--transcript FILE] [--no-clock] [--only builder|reviews] [--pg-port BASE] (bad argument ${argv[i]})`);
    }
    o[k] = typeof o[k] === "number" ? Number(argv[i + 1]) : argv[i + 1];
    if (typeof o[k] === "number" && !(o[k] > 0)) throw new Error(`--${k}: want a positive number of seconds, got ${argv[i + 1]}`);
  }
  if (o.only !== "" && o.only !== "builder" && o.only !== "reviews") throw new Error(`--only: the acts that run alone are "builder" and "reviews", got ${o.only}`);
  return o;
}

async function story(o, pg, screens) {
  const s = new Story();
  const T = o.timeout * 1000;
  const D = o["delivery-timeout"] * 1000;
  const { requester: rita, approver: aaron, guest: gus, admin: adele, patti, fiona, isaiah, lynne, megan, nina } = pg;
  const decided = []; // approvers whose decisions /audit must show
  /** p types text; resolves with the bot's next message in p's chat that contains every wanted string. */
  const ask = async (p, text, want, what) => { const m = p.mark(); await p.say(text); return p.message(m, want, T, what ?? `an answer to "${text}" containing ${JSON.stringify(want)}`); };

  await s.act("0 open every chat", async () => {
    await s.step("each person opens the chat with AccessBot and gets its welcome", async () => {
      await Promise.all(Object.values(pg).map(async (p) => {
        const from = screens ? 0 : p.mark(); // the web UI installs the app itself when it loads
        if (!screens) await p.openChat();
        await p.message(from, [], T, "a welcome from the bot after the chat was opened");
      }));
    });
  });

  if (s.failed.length) return s; // without every chat open, no proactive message can arrive: stop here
  if (o.only === "builder") {
    await builderAct(s, o, { adele, patti, nina }, ask, T, D);
    return s;
  }
  if (o.only === "reviews") {
    await reviewsAct(s, o, { rita, aaron, adele, megan, gus }, ask, T, D);
    return s;
  }

  // 1-3: Rita asks for Falcon Team Member, Aaron approves, it is delivered.
  await s.act("1 Rita requests Falcon Team Member", async () => {
    let m;
    const list = await s.step('Rita: "packages" lists Falcon Team Member, not the hidden or partner packages', async () => {
      const l = await ask(rita, "packages", ["Falcon Team Member"]);
      for (const no of ["Break-glass", "Partner Collaboration"]) expect(!hasAll(messageText(l), [no]), rita, `the list offers ${no}`, l);
      return l;
    });
    const teamOpen = cardsOf(list).flatMap(actionsOf).find((a) => a.verb === "request.open" && a.data?.packageId === "eeeeeeee-0000-0000-0000-000000000001");
    expect(teamOpen, rita, "no Request button (request.open) for Falcon Team Member", list);
    const form = await s.step("Rita: Request opens the form", async () => {
      const r = await rita.execute(list.messageId, teamOpen);
      expect(r?.type === CARD, rita, `request.open answered ${JSON.stringify(r).slice(0, 200)}, want a card`, {});
      const f = asMessage(r);
      expect(hasAll(messageText(f), ["Falcon Team Member"]) && findAction(f, { verb: "request.submit" }), rita, "the form lacks the package name or a request.submit action", f);
      return f;
    });
    rita.cardId = list.messageId; // the form, then the status card, live in the message of the list
    m = rita.mark();
    await s.step("Rita: submit with a justification → Pending approval, Aaron named", async () => {
      const r = await rita.execute(rita.cardId, findAction(form, { verb: "request.submit" }), { justification: "Joining Project Falcon (e2e)" });
      const answer = asMessage(r);
      expect(r?.type === CARD, rita, `request.submit answered ${JSON.stringify(r).slice(0, 200)}, want the status card`, answer);
      if (!hasAll(messageText(answer), ["Pending approval", "Aaron Approver"])) {
        await rita.update(m, rita.cardId, ["Pending approval", "Aaron Approver"], T, 'the status card to say "Pending approval" and name Aaron Approver');
      }
    });
    await s.step("Adele: /pending lists Rita's request", () =>
      ask(adele, "/pending", ["Rita Requester", "Falcon Team Member"], "/pending listing Rita Requester's Falcon Team Member request"));
    rita.submitted = true;
  });

  await s.act("2 Aaron approves, Rita's card follows", async () => {
    if (!rita.submitted) throw new Error("skipped: act 1 did not file the request");
    const card = await s.step("Aaron: the approval card arrives in his chat", () =>
      aaron.message(0, ["Approval needed", "Rita Requester", "Falcon Team Member"], T, "an approval card naming Rita Requester and Falcon Team Member"));
    const approve = findAction(card, { verb: "approval.approve" });
    expect(approve, aaron, "the approval card has no approval.approve action", card);
    await s.step('Aaron: "approvals" lists Rita\'s request', () =>
      ask(aaron, "approvals", ["Rita Requester", "Falcon Team Member"], '"approvals" listing Rita Requester\'s Falcon Team Member request'));
    const m = rita.mark();
    await s.step("Aaron: approve with a justification → decided view", async () => {
      const r = await aaron.execute(card.messageId, approve, { justification: "Welcome aboard (e2e)" });
      const answer = asMessage(r);
      expect(r?.type === CARD && hasAll(messageText(answer), ["You approved this request"]), aaron, 'the answer to Approve is not the decided view ("You approved this request")', answer);
      expect(!findAction(answer, { verb: "approval.approve" }), aaron, "the decided view still offers Approve", answer);
      decided.push("Aaron Approver");
    });
    await s.step("Rita: her status card is updated in place to Delivered", () =>
      rita.update(m, rita.cardId, ["Delivered"], D, "Rita's status card (updateMessage) to say Delivered"));
    await s.step('Rita: "You now have access" notice', () => rita.message(m, ["You now have access"], T));
    rita.delivered = true;
  });

  await s.act("3 Rita sees her request and access", async () => {
    if (!rita.delivered) throw new Error("skipped: act 2 did not deliver the request");
    await s.step('Rita: "status" shows Falcon Team Member delivered', () =>
      ask(rita, "status", ["Falcon Team Member", "Delivered"], '"status" listing Falcon Team Member as Delivered'));
    await s.step('Rita: "access" lists Falcon Team Member', () =>
      ask(rita, "access", ["Falcon Team Member"], '"access" listing Falcon Team Member'));
    await s.step("Rita: Falcon Wiki Reader (no approval) is delivered without anyone deciding", async () => {
      const f = await ask(rita, "request Falcon Wiki Reader", ["Falcon Wiki Reader"], "the request form of Falcon Wiki Reader");
      const submit = findAction(f, { verb: "request.submit" });
      expect(submit, rita, "the answer is not a form with request.submit", f);
      const m = rita.mark();
      const r = await rita.execute(f.messageId, submit, { justification: "reading up (e2e)" });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["Delivered"])) await rita.update(m, f.messageId, ["Delivered"], D, "the Wiki Reader status card to say Delivered");
    });
  });

  // 4: two stages, policy questions with a format rule, an approver justification the policy requires.
  await s.act("4 Rita requests Falcon Production Access (questions, two stages)", async () => {
    const form = await s.step('Rita: "request Falcon Production Access" opens the form with its two questions', async () => {
      const f = await ask(rita, "request Falcon Production Access", ["Request Falcon Production Access", "Submit request"], "the request form of Falcon Production Access");
      expect(findAction(f, { verb: "request.submit" }), rita, "the answer is not a form with request.submit", f);
      return f;
    });
    const inputs = questionsOf(form);
    const ticket = inputs.find((i) => i.type === "Input.Text");
    const env = inputs.find((i) => i.type === "Input.ChoiceSet");
    expect(ticket && env && inputs.length === 2, rita, `the form's questions are ${JSON.stringify(inputs.map((i) => [i.id, i.type]))}, want one text (change ticket) and one choice (environment)`, form);
    const submit = findAction(form, { verb: "request.submit" });
    const id = form.messageId;
    await s.step("Rita: a change ticket not matching INC + digits is refused on the form", async () => {
      const r = await rita.execute(id, submit, { justification: "release 42 (e2e)", [ticket.id]: "CHG-1", [env.id]: env.choices[0].value });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["not in the expected format"]) && findAction(answer, { verb: "request.submit" }), rita,
        'a bad change ticket is not answered with the form and "not in the expected format"', answer);
    });
    let m = rita.mark();
    const am = aaron.mark();
    await s.step("Rita: a valid ticket is filed → stage 1 of 2", async () => {
      const r = await rita.execute(id, submit, { justification: "release 42 (e2e)", [ticket.id]: "INC123456", [env.id]: env.choices[0].value });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["stage 1 of 2"])) await rita.update(m, id, ["stage 1 of 2"], T, 'the status card to say "stage 1 of 2"');
    });
    const card = await s.step("Aaron: the stage-1 card arrives, showing the ticket", () =>
      aaron.message(am, ["Approval needed", "Falcon Production Access", "INC123456"], T, "an approval card for Falcon Production Access showing the ticket"));
    const approve = findAction(card, { verb: "approval.approve" });
    expect(approve, aaron, "no approval.approve action", card);
    await s.step("Aaron: approving without the justification this policy requires is refused", async () => {
      const r = await aaron.execute(card.messageId, approve, {});
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["justification is required"]), aaron, 'no "justification is required" answer', answer);
    });
    m = rita.mark();
    const im = isaiah.mark();
    const lm = lynne.mark();
    await s.step("Aaron: approves with a justification", async () => {
      const r = await aaron.execute(card.messageId, approve, { justification: "ticket checked (e2e)" });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["You approved this request"]), aaron, 'no "You approved this request"', answer);
    });
    await s.step("Rita: her status card moves to stage 2 of 2", () => rita.update(m, id, ["stage 2 of 2"], D, 'the status card to say "stage 2 of 2"'));
    const [ic, lc] = await s.step("Isaiah and Lynne (Falcon Security Reviewers): the stage-2 card arrives in each chat", () => Promise.all([
      isaiah.message(im, ["Approval needed", "Falcon Production Access", "stage 2 of 2"], T, "the stage-2 approval card"),
      lynne.message(lm, ["Approval needed", "Falcon Production Access", "stage 2 of 2"], T, "the stage-2 approval card"),
    ]));
    m = rita.mark();
    const lm2 = lynne.mark();
    await s.step("Isaiah: approves", async () => {
      const r = await isaiah.execute(ic.messageId, findAction(ic, { verb: "approval.approve" }), { justification: "change window open (e2e)" });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["You approved this request"]), isaiah, 'no "You approved this request"', answer);
      decided.push("Isaiah Langer");
    });
    await s.step("Lynne: her copy is updated to Isaiah's decision, without buttons", async () => {
      const up = await lynne.update(lm2, lc.messageId, ["Isaiah Langer"], T, "Lynne's stage-2 card (updateMessage) naming Isaiah Langer");
      expect(!findAction(up, { verb: "approval.approve" }), lynne, "Lynne's decided copy still offers Approve", up);
    });
    await s.step("Rita: Falcon Production Access is delivered (status card updated in place)", () =>
      rita.update(m, id, ["Delivered"], D, "Rita's status card to say Delivered"));
  });

  // 5: the partner story, brokered by the bot.
  await s.act("5 Gus (Fabrikam) gets Falcon Partner Collaboration as a guest", async () => {
    let m;
    const list = await s.step('Gus: "packages" lists Falcon Partner Collaboration', () => ask(gus, "packages", ["Falcon Partner Collaboration"]));
    expect(!hasAll(messageText(list), ["Falcon Team Member"]), gus, "Gus is offered Falcon Team Member, which only Contoso members may request", list);
    // A persona with a locale reads the bot in its language: every card says which ("lang"), for its dates too.
    expect(cardsOf(list).every((c) => c.lang === gus.lang), gus, `the package list is not in Gus's language (${gus.lang})`, list);
    const open = cardsOf(list).flatMap(actionsOf).find((a) => a.verb === "request.open" && a.data?.packageId === "eeeeeeee-0000-0000-0000-000000000003");
    expect(open, gus, "no Request button for Falcon Partner Collaboration", list);
    const form = await s.step("Gus: Request opens the form", async () => {
      const r = await gus.execute(list.messageId, open);
      const f = asMessage(r);
      expect(r?.type === CARD && findAction(f, { verb: "request.submit" }), gus, "request.open did not answer with a form", f);
      return f;
    });
    gus.cardId = list.messageId;
    m = gus.mark();
    const pm = patti.mark();
    const fm = fiona.mark();
    await s.step("Gus: submit → Pending approval, brokered, Patti named", async () => {
      const r = await gus.execute(gus.cardId, findAction(form, { verb: "request.submit" }), { justification: "Joint launch with Contoso (e2e)" });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["Pending approval", "Patti Fernandez", "brokered"].map((w) => gus.tr(w)))) {
        await gus.update(m, gus.cardId, ["Pending approval", "Patti Fernandez", "brokered"], T, 'the status card to say "Pending approval", "brokered" and name Patti Fernandez');
      }
    });
    const card = await s.step("Patti (internal sponsor): the approval card arrives in her chat", () =>
      patti.message(pm, ["Approval needed", "Gus Guest", "Falcon Partner Collaboration"], T, "an approval card naming Gus Guest and Falcon Partner Collaboration"));
    const fcard = await s.step("Fiona (external sponsor): the approval card arrives in her chat", () =>
      fiona.message(fm, ["Approval needed", "Gus Guest"], T, "an approval card naming Gus Guest"));
    const approve = findAction(card, { verb: "approval.approve" });
    expect(approve, patti, "the approval card has no approval.approve action", card);
    m = gus.mark();
    const approvedAt = gus.mark();
    const fm2 = fiona.mark();
    await s.step("Patti: approve → decided view", async () => {
      const r = await patti.execute(card.messageId, approve, { justification: "Fabrikam is our launch partner (e2e)" });
      const answer = asMessage(r);
      expect(r?.type === CARD && hasAll(messageText(answer), ["You approved this request"]), patti, 'the answer to Approve is not the decided view ("You approved this request")', answer);
      decided.push("Patti Fernandez");
    });
    await s.step("Fiona: her copy of the card is updated to the decision", async () => {
      const up = await fiona.update(fm2, fcard.messageId, ["Patti Fernandez"], T, "Fiona's approval card (updateMessage) to say Patti Fernandez decided");
      expect(!findAction(up, { verb: "approval.approve" }), fiona, "Fiona's decided copy still offers Approve", up);
    });
    await s.step("Fiona: a late click on her first copy's Approve is refused, naming Patti", async () => {
      const late = findAction(fcard, { verb: "approval.approve" });
      expect(late, fiona, "her approval card had no approval.approve action", fcard);
      const r = await fiona.execute(fcard.messageId, late, { justification: "late (e2e)" });
      const answer = asMessage(r);
      expect(r?.type === CARD && hasAll(messageText(answer), ["Already approved", "Patti Fernandez"]), fiona, 'the late click is not answered "Already approved by Patti Fernandez"', answer);
    });
    const guide = await s.step("Gus: the guest guidance card with the redemption link arrives", () =>
      gus.message(m, ["added you as a guest", "Accept the invitation"], D, 'the guidance card ("added you as a guest", "Accept the invitation")'));
    const link = cardsOf(guide).flatMap(actionsOf).find((a) => a.type === "Action.OpenUrl" && a.title === gus.tr("Accept the invitation"))?.url;
    expect(link && link.startsWith(`${o.sim}/_sim/redeem/`), gus, `the "Accept the invitation" link ${JSON.stringify(link)} is not the simulator's ${o.sim}/_sim/redeem/…`, guide);
    m = gus.mark();
    await s.step("Gus: opens the redemption link", async () => {
      const r = await fetch(link);
      await r.text();
      if (!r.ok) throw new Error(`GET ${link}: HTTP ${r.status}`);
    });
    await s.step(`Gus: "You're in"`, () => gus.message(m, ["You're in"], D, `the "You're in" card after redemption`));
    await s.step("Gus: his status card is updated to Delivered", () =>
      gus.update(approvedAt, gus.cardId, ["Delivered"], D, "Gus's status card (updateMessage) to say Delivered"));
  });

  await s.act("6 Adele administers; Rita may not", async () => {
    await s.step("Adele: /orgs lists Fabrikam", () => ask(adele, "/orgs", ["Connected organizations", "Fabrikam"]));
    // Every request so far was decided; if an earlier act broke, one may still wait and only the answer is checked.
    const clean = s.failed.length === 0;
    await s.step(`Adele: /pending answers${clean ? ": nothing is waiting any more" : ""}`, () =>
      ask(adele, "/pending", clean ? ["Pending requests", "Nothing is waiting for approval"] : ["Pending requests"]));
    await s.step(`Adele: /audit shows the decisions${decided.length ? ` of ${decided.join(" and ")}` : ""}`, () =>
      ask(adele, "/audit", ["Audit log", "approved (", ...decided], `/audit naming ${decided.join(", ") || "(nobody decided)"}`));
    await s.step("Adele: /packages also lists the hidden Break-glass package", () => ask(adele, "/packages", ["Falcon Break-glass", "hidden"]));
    await s.step("Gus (another tenant): /orgs is refused", () => ask(gus, "/orgs", ["Not allowed"], '"Not allowed" for a Fabrikam user typing /orgs'));
    await s.step("Rita: /orgs is refused", async () => {
      const msg = await ask(rita, "/orgs", ["Not allowed"], '"Not allowed" for a non-admin typing /orgs');
      expect(!hasAll(messageText(msg), ["Fabrikam"]), rita, "the refusal shows the connected organizations anyway", msg);
    });
  });

  await s.act("7 unknown input and buttons", async () => {
    await s.step('Rita: "statsu" gets suggestions, "status" among them', async () => {
      const msg = await ask(rita, "statsu", ["Did you mean"], 'a "Did you mean" answer');
      expect(cardsOf(msg).flatMap(actionsOf).some((a) => a.title === "status"), rita, 'no "status" suggestion button', msg);
    });
    await s.step('Rita: the welcome card\'s "My access" button (Action.Submit) answers with her access', async () => {
      const welcome = [...rita.views.values()].find((msg) => findAction(msg, { title: "My access" }));
      expect(welcome, rita, 'no welcome card with a "My access" button in her chat', {});
      const m = rita.mark();
      await rita.submit(welcome.messageId, findAction(welcome, { title: "My access" }));
      await rita.message(m, ["Your access", "Falcon Team Member"], T, 'her access list ("Your access", "Falcon Team Member") after the button');
    });
  });

  await s.act("8 group chat and channel", async () => {
    const mention = (p, conv, text) => p.post(`/_conversation/v1/conversations/${encodeURIComponent(conv)}/messages`, {
      from: { id: p.user.id }, text: `<at>AccessBot</at> ${text}`, textFormat: "plain",
      mentions: [{ mentioned: { id: p.config.bot.id, name: "AccessBot" }, text: "<at>AccessBot</at>" }],
    });
    const gc = rita.config.groupChats?.[0]?.id;
    const channel = rita.config.teams?.[0]?.channels?.find((c) => c.name === "Access Requests")?.id;
    expect(gc && channel, rita, `the persona has no group chat (${gc}) or "Access Requests" channel (${channel})`, {});
    await s.step(`Rita: "@AccessBot help" in the group chat is answered there`, async () => {
      await rita.openChat(gc);
      const m = rita.mark();
      await mention(rita, gc, "help");
      await rita.waitFor((e) => e.action === "createMessage" && e.actionConversationId === gc &&
        hasAll(messageText(e.message), ["What I can do"]), T, `a help card in ${gc}`, m);
    });
    await s.step('Rita: "@AccessBot help" in the Access Requests channel is answered in its thread', async () => {
      await rita.openChat(rita.config.teams[0].id);
      const m = rita.mark();
      const post = await mention(rita, channel, "help");
      const thread = post?.postConversationId ?? channel;
      await rita.waitFor((e) => e.action === "createMessage" && e.actionConversationId === thread &&
        hasAll(messageText(e.message), ["What I can do"]), T, `a help card in the thread ${thread}`, m);
    });
  });

  await s.act("9 Megan cancels one request, Aaron denies another", async () => {
    const form = await s.step('Megan: "request Falcon Team Member" opens the form', () =>
      ask(megan, "request Falcon Team Member", ["Falcon Team Member"], "the request form of Falcon Team Member"));
    const submit = findAction(form, { verb: "request.submit" });
    expect(submit, megan, "the answer is not a form with request.submit", form);
    let m = megan.mark();
    const am = aaron.mark();
    await s.step("Megan: submit → Pending approval, Aaron named", async () => {
      const r = await megan.execute(form.messageId, submit, { justification: "helping Rita (e2e)" });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["Pending approval", "Aaron Approver"])) await megan.update(m, form.messageId, ["Pending approval", "Aaron Approver"], T, 'the status card to say "Pending approval" and name Aaron');
    });
    const card = await s.step("Aaron: Megan's approval card arrives", () => aaron.message(am, ["Approval needed", "Megan Bowen"], T, "an approval card naming Megan Bowen"));
    const status = megan.views.get(form.messageId);
    const cancel = findAction(status, { title: "Cancel request" });
    expect(cancel, megan, 'her status card has no "Cancel request" button', status);
    const am2 = aaron.mark();
    await s.step("Megan: Cancel request → her card says it was cancelled", async () => {
      const r = await megan.execute(form.messageId, cancel);
      const answer = asMessage(r);
      expect(r?.type === CARD && /cancel/i.test(messageText(answer)) && !findAction(answer, { title: "Cancel request" }), megan,
        "the answer to Cancel request does not say the request was cancelled (or still offers Cancel)", answer);
    });
    await s.step("Aaron: his card for Megan is updated: cancelled, no Approve", async () => {
      const up = await aaron.waitFor((e) => e.action === "updateMessage" && !e.mirrored && e.message.messageId === card.messageId &&
        /cancel/i.test(messageText(e.message)), T, "an update of Megan's approval card saying it was cancelled", am2);
      expect(!findAction(up.message, { verb: "approval.approve" }), aaron, "the cancelled card still offers Approve", up.message);
    });
    await s.step("Aaron: a late click on the old Approve changes nothing", async () => {
      const r = await aaron.execute(card.messageId, findAction(card, { verb: "approval.approve" }), { justification: "late (e2e)" });
      const answer = asMessage(r);
      expect(!hasAll(messageText(answer), ["You approved this request"]) && /cancel/i.test(messageText(answer)), aaron,
        "the late click is not answered with the cancellation", answer);
    });
    // Denied at stage 1: the requester's card says who denied it and why.
    const pform = await s.step('Megan: "request Falcon Production Access" → form', () =>
      ask(megan, "request Falcon Production Access", ["Request Falcon Production Access", "Submit request"], "the request form of Falcon Production Access"));
    const qs = questionsOf(pform);
    const answers = Object.fromEntries(qs.map((q) => [q.id, q.type === "Input.ChoiceSet" ? q.choices[q.choices.length - 1].value : "INC000777"]));
    m = megan.mark();
    const am3 = aaron.mark();
    await s.step("Megan: submits it → stage 1 of 2", async () => {
      const r = await megan.execute(pform.messageId, findAction(pform, { verb: "request.submit" }), { justification: "hotfix (e2e)", ...answers });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["stage 1 of 2"])) await megan.update(m, pform.messageId, ["stage 1 of 2"], T, 'the status card to say "stage 1 of 2"');
    });
    const pcard = await s.step("Aaron: Megan's Production Access card arrives", () =>
      aaron.message(am3, ["Approval needed", "Megan Bowen", "Falcon Production Access"], T, "an approval card for Megan's Falcon Production Access"));
    m = megan.mark();
    await s.step("Aaron: denies with a reason", async () => {
      const deny = findAction(pcard, { verb: "approval.deny" });
      expect(deny, aaron, "no approval.deny action", pcard);
      const r = await aaron.execute(pcard.messageId, deny, { justification: "no change window this week (e2e)" });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["You denied this request"]), aaron, 'no "You denied this request"', answer);
    });
    await s.step("Megan: her status card says Denied, by Aaron, and why", () =>
      megan.update(m, pform.messageId, ["Denied", "Aaron Approver", "no change window this week (e2e)"], D, "Megan's status card to say Denied by Aaron Approver with his reason"));
  });

  // Nobody decides stage 2 in time: the simulator's clock passes the policy's escalation (PT4H) and Patti,
  // the escalation approver, gets the card.
  await s.act("10 Megan's second try escalates to Patti", async () => {
    const f = await s.step('Megan: "request Falcon Production Access" again → form', () =>
      ask(megan, "request Falcon Production Access", ["Request Falcon Production Access", "Submit request"], "the request form of Falcon Production Access"));
    const qs = questionsOf(f);
    const answers = Object.fromEntries(qs.map((q) => [q.id, q.type === "Input.ChoiceSet" ? q.choices[0].value : "INC000778"]));
    let m = megan.mark();
    const am = aaron.mark();
    await s.step("Megan: submits it → stage 1 of 2", async () => {
      const r = await megan.execute(f.messageId, findAction(f, { verb: "request.submit" }), { justification: "hotfix, second try (e2e)", ...answers });
      const answer = asMessage(r);
      if (!hasAll(messageText(answer), ["stage 1 of 2"])) await megan.update(m, f.messageId, ["stage 1 of 2"], T, 'the status card to say "stage 1 of 2"');
    });
    await s.step("Aaron: her card arrives; he approves stage 1", async () => {
      const c = await aaron.message(am, ["Approval needed", "Megan Bowen", "INC000778"], T, "an approval card for Megan's second request");
      const r = await aaron.execute(c.messageId, findAction(c, { verb: "approval.approve" }), { justification: "ok this time (e2e)" });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["You approved this request"]), aaron, 'no "You approved this request"', answer);
    });
    await s.step("Megan: her status card moves to stage 2 of 2", () => megan.update(m, f.messageId, ["stage 2 of 2"], D, 'the status card to say "stage 2 of 2"'));
    m = megan.mark();
    const pm = patti.mark();
    await s.step("the simulator's clock moves 5 hours (past the stage's PT4H escalation)", async () => {
      await simPost(o.sim, "/_sim/clock", { advance: "PT5H" });
    });
    await s.step("Megan: clicks Refresh on her status card (the bot looks at the request now)", async () => {
      const refresh = findAction(megan.views.get(f.messageId), { title: "Refresh" });
      expect(refresh, megan, "her status card has no Refresh button", megan.views.get(f.messageId));
      await megan.execute(f.messageId, refresh);
    });
    const pc = await s.step("Patti: the escalated card arrives", () =>
      patti.message(pm, ["Approval needed", "Megan Bowen", "Escalated to you"], D, 'an approval card for Megan saying "Escalated to you"'));
    await s.step("Megan: told it was escalated to Patti", () => megan.message(m, ["escalated to Patti Fernandez"], T, '"escalated to Patti Fernandez"'));
    m = megan.mark();
    await s.step("Patti: approves", async () => {
      const r = await patti.execute(pc.messageId, findAction(pc, { verb: "approval.approve" }), { justification: "covering for the reviewers (e2e)" });
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), ["You approved this request"]), patti, 'no "You approved this request"', answer);
    });
    await s.step("Megan: Falcon Production Access is delivered", () => megan.update(m, f.messageId, ["Delivered"], D, "Megan's status card to say Delivered"));
  });

  // Slow: the bot re-checks an accepted guest's assignment at most every PollMax (5 min in the demo) of wall time.
  if (o.clock) await s.act("11 Gus is told his partner access ends soon (the demo re-checks guests every 15 s)", async () => {
    const gm = gus.mark();
    await s.step("the simulator's clock moves 27 more days (Gus's 30-day partner access ends in 3 days)", async () => {
      await simPost(o.sim, "/_sim/clock", { advance: "P27D" });
    });
    await s.step("Gus: clicks Refresh on his status card", async () => {
      const refresh = findAction(gus.views.get(gus.cardId), { title: gus.tr("Refresh") });
      expect(refresh, gus, "his status card has no Refresh button", gus.views.get(gus.cardId));
      await gus.execute(gus.cardId, refresh);
    });
    await s.step('Gus: told his access "ends soon" and what happens to his guest account', () =>
      gus.message(gm, ["ends soon", "Falcon Partner Collaboration"], Math.max(D, 330_000), 'the end-of-access notice ("ends soon")'));
  });

  // Admin changes go through a confirmation card; the change reaches Entra.
  await s.act("12 Adele assigns and revokes", async () => {
    /** p asks `access` until its answer does (or no longer does) list pkg; the simulator delivers in ~2 s. */
    const accessUntil = async (p, pkg, listed) => {
      const deadline = Date.now() + D;
      for (;;) {
        const msg = await ask(p, "access", ["Your access"], '"access"');
        if (hasAll(messageText(msg), [pkg]) === listed) return msg;
        if (Date.now() > deadline) throw new Error(`${p.who}: "access" still ${listed ? "lacks" : "lists"} ${pkg} after ${D / 1000} s: ${messageText(msg).slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 1000)); // poll interval of a deadline-bound poll
      }
    };
    const confirm = async (text, want, done) => {
      const card = await ask(adele, text, want, `a confirmation card for ${text}`);
      const ok = findAction(card, { verb: "admin.confirm" });
      expect(ok, adele, "the confirmation card has no admin.confirm action", card);
      const r = await adele.execute(card.messageId, ok);
      const answer = asMessage(r);
      expect(hasAll(messageText(answer), done), adele, `the confirmation is not answered ${JSON.stringify(done)}`, answer);
    };
    await s.step('Adele: /assign megan@contoso.example "Falcon Wiki Reader" → confirm → Assigned', () =>
      confirm('/assign megan@contoso.example "Falcon Wiki Reader"', ["Megan Bowen", "Falcon Wiki Reader"], ["Assigned Falcon Wiki Reader"]));
    await s.step("Megan: \"access\" lists Falcon Wiki Reader", () => accessUntil(megan, "Falcon Wiki Reader", true));
    await s.step('Adele: /revoke rita@contoso.example "Falcon Wiki Reader" → confirm → Revoked', () =>
      confirm('/revoke rita@contoso.example "Falcon Wiki Reader"', ["Revoke Falcon Wiki Reader from Rita Requester?"], ["Revoked Falcon Wiki Reader"]));
    await s.step("Rita: \"access\" no longer lists Falcon Wiki Reader", () => accessUntil(rita, "Falcon Wiki Reader", false));
  });

  // Microsoft Graph throttles, a user has not consented: clear cards, and it works again afterwards.
  await s.act("13 when Graph throttles or consent is missing", async () => {
    await s.step("Rita: two throttled Graph calls (429, Retry-After 1 s) are retried: \"packages\" still answers", async () => {
      await simPost(o.sim, "/_sim/throttle", { requests: 2, retryAfterSeconds: 1 });
      try {
        await ask(rita, "packages", ["Packages you can request", "Falcon Team Member"]);
      } finally {
        await simPost(o.sim, "/_sim/throttle", { enabled: false });
      }
    });
    const busy = await s.step('Rita: while Graph keeps throttling, "packages" says Graph is busy and offers Try again', async () => {
      await simPost(o.sim, "/_sim/throttle", { enabled: true, retryAfterSeconds: 1 });
      try {
        const msg = await ask(rita, "packages", ["busy"], 'a "Microsoft Graph is busy" card');
        expect(!/429|TooManyRequests/i.test(messageText(msg)), rita, "the busy card shows HTTP internals", msg);
        expect(findAction(msg, { title: "Try again" }), rita, 'the busy card has no "Try again" button', msg);
        return msg;
      } finally {
        await simPost(o.sim, "/_sim/throttle", { enabled: false });
      }
    });
    await s.step("Rita: Try again, once Graph is back, lists the packages", async () => {
      const m = rita.mark();
      await rita.submit(busy.messageId, findAction(busy, { title: "Try again" }));
      await rita.message(m, ["Packages you can request"], T, "the package list after Try again");
    });
    const tenant = lynne.config.tenantId;
    const oid = lynne.user.aadObjectId;
    const perm = await s.step('Lynne: without consent, "status" asks for her permission and links to My Access', async () => {
      await simPost(o.sim, "/_sim/consent", { tenantId: tenant, oid, consented: false });
      const msg = await ask(lynne, "status", ["needs your permission"], 'a "needs your permission" card');
      const link = cardsOf(msg).flatMap(actionsOf).find((a) => a.type === "Action.OpenUrl" && /myaccess\.microsoft\.com/.test(a.url ?? ""));
      expect(link, lynne, "the consent card has no My Access link", msg);
      return msg;
    });
    await s.step("Lynne: after consenting, Try again shows her requests", async () => {
      await simPost(o.sim, "/_sim/consent", { tenantId: tenant, oid, consented: true });
      const m = lynne.mark();
      await lynne.submit(perm.messageId, findAction(perm, { title: "Try again" }));
      await lynne.message(m, ["Your requests"], T, "her requests after Try again");
    });
  });

  await builderAct(s, o, { adele, patti, nina }, ask, T, D);

  // With a browser: the same clicks through the web UI itself (the API above is what the UI calls, this proves it).
  if (screens) {
    await s.act("14 through the web UI: Adele requests Falcon Wiki Reader with clicks", async () => {
      const page = adele.page;
      await s.step('Adele (UI): types "packages"', () => ask(adele, "packages", ["Falcon Wiki Reader"]));
      await s.step("Adele (UI): clicks Request next to Falcon Wiki Reader → the form shows", async () => {
        await page.getByText("Falcon Wiki Reader", { exact: true }).last().locator("xpath=following::button[normalize-space()='Request'][1]").click({ timeout: T });
        await page.locator(".ac-adaptiveCard", { hasText: "Request Falcon Wiki Reader" }).waitFor({ timeout: T });
      });
      const m = adele.mark();
      await s.step("Adele (UI): fills the justification, clicks Submit request → the page shows Delivered", async () => {
        const form = page.locator(".ac-adaptiveCard", { hasText: "Request Falcon Wiki Reader" });
        await form.locator("textarea").first().fill("typed in the web UI (e2e)");
        await form.getByRole("button", { name: "Submit request", exact: true }).click({ timeout: T });
        await page.locator(".ac-adaptiveCard", { hasText: "Falcon Wiki Reader" }).filter({ hasText: "Delivered" }).first().waitFor({ timeout: D });
        await adele.message(m, ["You now have access", "Falcon Wiki Reader"], T, '"You now have access: Falcon Wiki Reader"');
      });
    });
  }

  return s;
}

/**
 * Act 16, the seed's step 2 in chat: Adele connects Northwind and builds "Northwind Pilot" with the package
 * builder's cards; Nina of Northwind requests it, Patti approves, Nina is invited and guided.
 */
async function builderAct(s, o, { adele, patti, nina }, ask, T, D) {
  await s.act("16 Adele builds Northwind Pilot; Nina (Northwind) gets it", async () => {
    await s.step("Adele: /connect northwind.example Northwind", () => ask(adele, "/connect northwind.example Northwind", ["Connected Northwind"]));
    let card = await s.step("Adele: /package new opens the wizard", () => ask(adele, "/package new", ["New access package", "Step 1 of 7"]));
    const id = card.messageId;
    /** Adele clicks verb on the wizard with inputs; the answer replaces the card and must contain want. */
    const click = async (verb, inputs, want) => {
      const r = await adele.execute(id, findAction(card, { verb }), inputs);
      const m = asMessage(r);
      expect(r?.type === CARD && hasAll(messageText(m), want), adele, `${verb} is not answered with ${JSON.stringify(want)}`, m);
      card = m;
      return m;
    };
    const catalog = cardsOf(card)[0].body.find((e) => e.id === "pb.catalog")?.choices.find((c) => c.title === "Project Falcon")?.value;
    expect(catalog, adele, "the catalog choice offers no Project Falcon", card);
    await s.step("Adele: name and catalog", () => click("builder.next", { "pb.name": "Northwind Pilot",
      "pb.description": "The Falcon team for Northwind's pilot engineers.", "pb.catalog": catalog }, ["Step 2 of 7"]));
    const role = JSON.stringify(cardsOf(card)).match(/"value":"([^"]*\|Member)"/)?.[1];
    expect(role, adele, "the resources step offers no Member role", card);
    await s.step("Adele: Falcon Team as Member", () => click("builder.next", { "pb.roles": role }, ["Step 3 of 7"]));
    const org = cardsOf(card)[0].body.find((e) => e.id === "pb.orgs")?.choices.find((c) => c.title === "Northwind")?.value;
    expect(org, adele, "the who step does not offer Northwind", card);
    await s.step("Adele: Northwind's users may request", () => click("builder.next", { "pb.who": "orgs", "pb.orgs": org }, ["Step 4 of 7"]));
    await s.step("Adele: the requestor's manager alone is refused for partner users", () =>
      click("builder.next", { "pb.stages": "1", "pb.stage1.kind": "manager" }, ["no manager here"]));
    await s.step("Adele: Patti approves", () => click("builder.next", { "pb.stages": "1", "pb.stage1.kind": "user",
      "pb.stage1.names": "patti@contoso.example", "pb.stage1.autoDeny": "14" }, ["Step 5 of 7"]));
    await s.step("Adele: 30 days", () => click("builder.next", { "pb.expiry": "days", "pb.expiryDays": "30" }, ["Step 6 of 7"]));
    await s.step("Adele: the review lists every choice", () => click("builder.next", {}, ["Review", "Northwind Pilot", "Falcon Team", "Users of Northwind", "Patti Fernandez", "after 30 days"]));
    const done = await s.step("Adele: Create → Created, with the links to share", () => click("builder.create", {}, ["Created Northwind Pilot", "myaccess.microsoft.com", "request%20Northwind%20Pilot"]));
    expect(cardsOf(done).flatMap(actionsOf).some((a) => a.type === "Action.OpenUrl" && a.url.includes("myaccess.microsoft.com/@")), adele, "no My Access link to share", done);

    await editPilot(s, adele, ask, role);

    const form = await s.step('Nina: "request Northwind Pilot" opens the form', () => ask(nina, "request Northwind Pilot", ["Northwind Pilot"]));
    const submit = findAction(form, { verb: "request.submit" });
    expect(submit, nina, "the answer is not a request form", form);
    const pm = patti.mark();
    let m = nina.mark();
    await s.step("Nina: submit → Pending approval, Patti named", async () => {
      const r = await nina.execute(form.messageId, submit, { justification: "Northwind pilot (e2e)" });
      expect(hasAll(messageText(asMessage(r)), ["Patti Fernandez"]), nina, "the status card does not name Patti Fernandez", asMessage(r));
    });
    const approval = await s.step("Patti: the approval card arrives", () => patti.message(pm, ["Approval needed", "Nina North", "Northwind Pilot"], T, "an approval card naming Nina North"));
    await s.step("Patti: approve", async () => {
      const r = await patti.execute(approval.messageId, findAction(approval, { verb: "approval.approve" }), { justification: "Northwind pilot (e2e)" });
      expect(hasAll(messageText(asMessage(r)), ["You approved this request"]), patti, "Approve is not answered with the decided view", asMessage(r));
    });
    const guide = await s.step("Nina: the guest guidance card arrives", () => nina.message(m, ["added you as a guest", "Accept the invitation"], D, "the guidance card"));
    const link = cardsOf(guide).flatMap(actionsOf).find((a) => a.type === "Action.OpenUrl" && a.title === nina.tr("Accept the invitation"))?.url;
    expect(link && link.startsWith(`${o.sim}/_sim/redeem/`), nina, `the invitation link ${JSON.stringify(link)} is not the simulator's`, guide);
    m = nina.mark();
    await s.step("Nina: opens the redemption link → \"You're in\"", async () => {
      const r = await fetch(link);
      await r.text();
      if (!r.ok) throw new Error(`GET ${link}: HTTP ${r.status}`);
      await nina.message(m, ["You're in"], D, `the "You're in" card`);
    });
  });
}

/**
 * Act 16's edits: Adele opens /package Northwind Pilot edit (one policy: the wizard at once); the review says
 * nothing changes yet; she adds the site's Visitors role and makes access last 60 days, the review lists exactly
 * those calls, Save makes them. A second edit unticks the site's role: the review says it is removed, Save does.
 */
async function editPilot(s, adele, ask, teamRole) {
  const edit = async (label, inputs, change, saved) => {
    let card = await s.step(`Adele: /package Northwind Pilot edit (${label})`, () => ask(adele, "/package Northwind Pilot edit", ["Edit Northwind Pilot", "Step 1 of 7"]));
    const id = card.messageId;
    const press = async (action, data, want) => {
      expect(action, adele, `the wizard has no button for ${JSON.stringify(want)}`, card);
      const r = await adele.execute(id, action, data);
      const m = asMessage(r);
      expect(r?.type === CARD && hasAll(messageText(m), want), adele, `the wizard is not answered with ${JSON.stringify(want)}`, m);
      card = m;
      return m;
    };
    const goto = (target) => cardsOf(card).flatMap(actionsOf).find((a) => a.verb === "builder.goto" && a.data?.target === target);
    await s.step("Adele: Next → the review says nothing changes yet", () => press(findAction(card, { verb: "builder.next" }),
      { "pb.name": "Northwind Pilot", "pb.description": "The Falcon team for Northwind's pilot engineers." }, ["Review", "Nothing changes yet"]));
    await s.step("Adele: the resources step ticks the package's roles", () => press(goto("resources"), {}, ["Resources and roles"]));
    const site = JSON.stringify(cardsOf(card)).match(/"value":"([^"]*\|Falcon Visitors)"/)?.[1];
    expect(site, adele, "the resources step offers no Falcon Visitors role", card);
    await s.step(`Adele: ${label}`, async () => {
      await press(findAction(card, { verb: "builder.next" }), { "pb.roles": inputs(site) }, change.slice(0, 1));
      if (change.length > 1) {
        await press(goto("lifetime"), {}, ["Lifetime"]);
        await press(findAction(card, { verb: "builder.next" }), { "pb.expiry": "days", "pb.expiryDays": "60" }, change);
      }
    });
    await s.step("Adele: Save makes exactly those changes", () => press(findAction(card, { verb: "builder.create" }), {}, ["Saved Northwind Pilot", ...saved]));
  };
  await edit("adds the site's Visitors and 60 days", (site) => `${teamRole},${site}`,
    ["Grant Falcon Visitors of Falcon", "after 30 days → after 60 days", "Save the policy Users of Northwind"], ["Grant Falcon Visitors of Falcon", "Save the policy Users of Northwind"]);
  await edit("unticks the site's Visitors", () => teamRole, ["Remove Falcon Visitors of Falcon"], ["Remove Falcon Visitors of Falcon"]);
}

/**
 * Act 17, access reviews and expiry (issue 14): the simulator's opt-in review seed; Aaron accepts the
 * recommendations on his review card; Adele stops and applies the review; Megan is told; 4 days later Rita is
 * warned that Falcon Team Member ends, extends it from the card, and Aaron approves the extension.
 */
async function reviewsAct(s, o, { rita, aaron, adele, megan, gus }, ask, T, D) {
  await s.act("17 access reviews and expiry", async () => {
    const am = aaron.mark();
    await s.step("the simulator seeds the access review scenario", () => simPost(o.sim, "/_sim/seed", { scenario: "reviews" }));
    // Gus (Fabrikam) reviews his own guest access from his home tenant's chat, with his own identity.
    const self = await s.step('Gus: "reviews" in his Fabrikam chat → "Do you still need access to Falcon Partner Collaboration?"', () =>
      ask(gus, "reviews", [gus.tr("Do you still need access to Falcon Partner Collaboration?")]));
    await s.step("Gus: Yes, with a reason → recorded as his answer", async () => {
      const yes = findAction(self, { verb: "review.self", title: gus.tr("Yes, I still need it") });
      expect(yes, gus, "the self-review card has no Yes", self);
      const r = await gus.execute(self.messageId, yes, { justification: "Still on the Falcon rollout (e2e)" });
      expect(hasAll(messageText(asMessage(r)), [gus.tr("You said you still need it")]), gus, "Yes is not answered with his recorded answer", asMessage(r));
    });
    const card = await s.step("Aaron: the access review card arrives, with Megan recommended for Deny", () =>
      aaron.message(am, ["Access review: Falcon Production Access quarterly review", "Rita Requester", "Megan Bowen", "Recommended: deny"], D, "the review card"));
    await s.step("Aaron: Accept recommendations → Rita approved, Megan denied, by him", async () => {
      const r = await aaron.execute(card.messageId, findAction(card, { verb: "review.accept" }), {});
      expect(hasAll(messageText(asMessage(r)), ["2 of 2 decided", "Approved by Aaron Approver", "Denied by Aaron Approver"]), aaron, "the card does not show both decisions", asMessage(r));
    });
    await s.step("Adele: /reviews shows the review decided", () => ask(adele, "/reviews", ["Falcon Production Access quarterly review", "2 of 2 decided"]));
    for (const [verb, want, done] of [["stop", "Stop the review", "Review stopped"], ["apply", "Apply the decisions", "Decisions applied"]]) {
      await s.step(`Adele: /review Falcon Production ${verb} → confirmation card → ${done}`, async () => {
        const ask2 = await ask(adele, `/review Falcon Production ${verb}`, [want]);
        const r = await adele.execute(ask2.messageId, findAction(ask2, { verb: "admin.confirm" }), {});
        expect(hasAll(messageText(asMessage(r)), [done]), adele, `confirming is not answered with "${done}"`, asMessage(r));
      });
    }
    const mm = megan.mark();
    await s.step("Megan: told that her Falcon Production Access has ended", () =>
      megan.message(mm, ["Your access to Falcon Production Access has ended"], D, "the end-of-access notice"));
    const rm = rita.mark();
    await s.step("the simulator's clock moves 4 days", () => simPost(o.sim, "/_sim/clock", { advance: "P4D" }));
    const notice = await s.step("Rita: warned that Falcon Team Member ends, with Extend", () =>
      rita.message(rm, ["Your access to Falcon Team Member ends on", "Extend"], D, "the ending notice"));
    const form = await s.step("Rita: Extend opens the request form", async () => {
      const r = await rita.execute(notice.messageId, findAction(notice, { verb: "access.extend" }), {});
      const f = asMessage(r);
      expect(findAction(f, { verb: "request.submit" }), rita, "Extend is not answered with a request form", f);
      return f;
    });
    const pm = aaron.mark();
    await s.step("Rita: submit the extension → Submitted", async () => {
      const r = await rita.execute(notice.messageId, findAction(form, { verb: "request.submit" }), { justification: "The project runs longer (e2e)" });
      const text = messageText(asMessage(r));
      expect(hasAll(text, ["Pending approval"]) || hasAll(text, ["Submitted"]), rita, "the status card says neither Submitted nor Pending approval", asMessage(r));
    });
    const approval = await s.step("Aaron: the approval card for Rita's extension arrives", () =>
      aaron.message(pm, ["Approval needed", "Rita Requester", "Falcon Team Member"], T, "an approval card naming Rita"));
    await s.step("Aaron: approves the extension", async () => {
      const r = await aaron.execute(approval.messageId, findAction(approval, { verb: "approval.approve" }), { justification: "still on the team (e2e)" });
      expect(hasAll(messageText(asMessage(r)), ["You approved this request"]), aaron, "Approve is not answered with the decided view", asMessage(r));
    });
    await stagedReviewSteps(s, o, { aaron, adele }, ask, D);
    await chatStagedReviewSteps(s, { rita, aaron, adele }, ask, D);
  });
}

/**
 * Act 17, a multi-stage review created from chat: Adele's /review new … stages … (Aaron by name, then each
 * person's manager, then each person about their own access) after a confirmation card listing the stages.
 * Aaron gets a card for stage 1 and one for stage 2 (Graph's contactedReviewers dates him by stage 1); Rita,
 * approved twice, gets her self-review card for stage 3 and answers Yes.
 */
async function chatStagedReviewSteps(s, { rita, aaron, adele }, ask, D) {
  const name = "Falcon Team Member access review";
  const stopStage = async (n) => {
    const ask2 = await ask(adele, `/review ${name} stop`, [`Stop stage ${n}`]);
    const r = await adele.execute(ask2.messageId, findAction(ask2, { verb: "admin.confirm" }), {});
    expect(hasAll(messageText(asMessage(r)), [`Stage ${n} stopped`]), adele, `confirming is not answered with "Stage ${n} stopped"`, asMessage(r));
  };
  const am = aaron.mark();
  await s.step("Adele: /review new Falcon Team Member once stages aaron@contoso.example (approved) then manager (approved) then self → confirmation lists the 3 stages → Review created", async () => {
    const ask2 = await ask(adele, "/review new Falcon Team Member once stages aaron@contoso.example 2d (approved) then manager 2d (approved) then self 2d",
      ["Create an access review of Falcon Team Member?", "in 3 stages", "Aaron Approver", "each person's manager", "each person, about their own access"]);
    const r = await adele.execute(ask2.messageId, findAction(ask2, { verb: "admin.confirm" }), {});
    expect(hasAll(messageText(asMessage(r)), ["Review created"]), adele, 'confirming is not answered with "Review created"', asMessage(r));
  });
  const st1 = await s.step("Aaron: the stage 1 card arrives (Stage 1 of 3)", () =>
    aaron.message(am, ["Access review: " + name, "Stage 1 of 3", "Rita Requester"], D, "the stage 1 card"));
  await s.step("Aaron: Accept recommendations on stage 1", async () => {
    const r = await aaron.execute(st1.messageId, findAction(st1, { verb: "review.accept" }), {});
    expect(hasAll(messageText(asMessage(r)), ["Stage 1 of 3", "Approved by Aaron Approver"]), aaron, "the stage 1 card does not show his decisions", asMessage(r));
  });
  const am2 = aaron.mark();
  await s.step("Adele: /review … stop → Stop stage 1 → Stage 1 stopped", () => stopStage(1));
  const st2 = await s.step("Aaron: his stage 2 card arrives (Rita's manager), with his stage 1 decision as evidence", () =>
    aaron.message(am2, ["Access review: " + name, "Stage 2 of 3", "Rita Requester", "Stage 1: Approved by Aaron Approver"], D, "the stage 2 card"));
  await s.step("Aaron: Approve Rita on stage 2", async () => {
    const r = await aaron.execute(st2.messageId, findAction(st2, { verb: "review.decide", title: "Approve" }), { justification: "still on the team (e2e)" });
    expect(hasAll(messageText(asMessage(r)), ["Stage 2 of 3", "Approved by Aaron Approver"]), aaron, "the stage 2 card does not show his decision", asMessage(r));
  });
  const rm = rita.mark();
  await s.step("Adele: /review … stop → Stop stage 2 → Stage 2 stopped", () => stopStage(2));
  const self = await s.step("Rita: her stage 3 self-review card arrives (Stage 3 of 3)", () =>
    rita.message(rm, ["Do you still need access to Falcon Team Member?", "Stage 3 of 3"], D, "the stage 3 self-review card"));
  await s.step("Rita: Yes, with a reason → recorded as her answer on stage 3", async () => {
    const yes = findAction(self, { verb: "review.self", title: rita.tr("Yes, I still need it") });
    expect(yes, rita, "the self-review card has no Yes", self);
    const r = await rita.execute(self.messageId, yes, { justification: "I still build Falcon (e2e)" });
    expect(hasAll(messageText(asMessage(r)), [rita.tr("You said you still need it")]), rita, "Yes is not answered with her recorded answer", asMessage(r));
  });
}

/**
 * Act 17, multi-stage review: the two-stage review of Falcon Team Member (stage 1 the holder's manager, stage 2
 * Adele for what stage 1 approved). Aaron decides stage 1; Adele gets nothing until /review … stop ends stage 1,
 * then her stage 2 card with Aaron's decision as evidence and without Megan (denied in stage 1); she approves.
 */
async function stagedReviewSteps(s, o, { aaron, adele }, ask, D) {
  const name = "Access review: Falcon Team Member two-stage review";
  const am = aaron.mark();
  const early = adele.mark();
  await s.step("the simulator seeds the two-stage review of Falcon Team Member", () => simPost(o.sim, "/_sim/seed", { scenario: "stagedReview" }));
  const st1 = await s.step("Aaron: the stage 1 card arrives (Stage 1 of 2, Rita and Megan)", () =>
    aaron.message(am, [name, "Stage 1 of 2", "Rita Requester", "Megan Bowen"], D, "the stage 1 card"));
  await s.step("Aaron: Accept recommendations on stage 1 → Rita approved, Megan denied", async () => {
    const r = await aaron.execute(st1.messageId, findAction(st1, { verb: "review.accept" }), {});
    expect(hasAll(messageText(asMessage(r)), ["Stage 1 of 2", "2 of 2 decided", "Approved by Aaron Approver", "Denied by Aaron Approver"]), aaron, "the stage 1 card does not show both decisions", asMessage(r));
  });
  await s.step("Adele: no stage 2 card while stage 1 runs", () => {
    const seen = adele.events.slice(early).find((e) => e.action === "createMessage" && hasAll(messageText(e.message), ["Stage 2 of 2"]));
    if (seen) throw new Error(`Adele got her stage 2 card before stage 1 ended: ${messageText(seen.message).slice(0, 300)}`);
  });
  const dm = adele.mark();
  await s.step("Adele: /review Falcon Team Member stop → Stop stage 1 → Stage 1 stopped", async () => {
    const ask2 = await ask(adele, "/review Falcon Team Member stop", ["Stop stage 1"]);
    const r = await adele.execute(ask2.messageId, findAction(ask2, { verb: "admin.confirm" }), {});
    expect(hasAll(messageText(asMessage(r)), ["Stage 1 stopped"]), adele, 'confirming is not answered with "Stage 1 stopped"', asMessage(r));
  });
  const st2 = await s.step("Adele: her stage 2 card arrives with Aaron's decision as evidence, without Megan", async () => {
    const m = await adele.message(dm, [name, "Stage 2 of 2", "Rita Requester", "Stage 1: Approved by Aaron Approver"], D, "the stage 2 card");
    expect(!messageText(m).includes("Megan Bowen"), adele, "Megan (denied in stage 1) is on the stage 2 card", m);
    return m;
  });
  await s.step("Adele: Approve Rita on stage 2 → Approved by Adele Vance", async () => {
    const r = await adele.execute(st2.messageId, findAction(st2, { verb: "review.decide", title: "Approve" }), { justification: "still on the team (e2e)" });
    expect(hasAll(messageText(asMessage(r)), ["1 of 1 decided", "Approved by Adele Vance"]), adele, "the stage 2 card does not show her decision", asMessage(r));
  });
  await s.step("Adele: /reviews shows the progress per stage", () =>
    ask(adele, "/reviews", ["Falcon Team Member two-stage review", "stage 1: 2 of 2 decided", "stage 2: 1 of 1 decided"]));
}

/** TextBlock/TextRun texts of a card that Teams' Markdown would mangle: a bare "1." (an empty list item) or an HTML-like <tag>. */
export function markdownHazards(card) {
  const out = [];
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== "object") return;
    if ((n.type === "TextBlock" || n.type === "TextRun") && typeof n.text === "string" &&
      (/^\s*\d+\.\s*$/.test(n.text) || /<\/?[a-z][a-z0-9-]*>/i.test(n.text))) out.push(n.text);
    Object.values(n).forEach(walk);
  };
  walk(card);
  return out;
}

/**
 * The last act: what every chat received, over the whole run. No chat got the same new message twice in a row
 * (the welcome used to answer both installationUpdate and conversationUpdate), and no card text is one that
 * Teams' Markdown mangles (a bare "1." renders as an empty list item, "<org>" is stripped as HTML).
 */
async function received(s, pg) {
  await s.act("15 what every chat received", async () => {
    await s.step("no chat got the same message twice in a row (without being asked twice)", () => {
      for (const p of Object.values(pg)) {
        const byChat = new Map();
        for (const e of p.events) {
          if (e.action === "user") byChat.delete(e.actionConversationId);
          if (e.action !== "createMessage" || e.mirrored) continue;
          const text = messageText(e.message);
          if (byChat.get(e.actionConversationId) === text) throw new Error(`${p.who}: the bot sent the same message twice in a row to ${e.actionConversationId}: ${text.slice(0, 200)}`);
          byChat.set(e.actionConversationId, text);
        }
      }
    });
    await s.step('no card text Teams\' Markdown mangles (a bare "1.", an HTML-like <tag>)', () => {
      for (const p of Object.values(pg)) {
        for (const e of p.events) {
          for (const c of cardsOf(e.message)) {
            const bad = markdownHazards(c);
            if (bad.length) throw new Error(`${p.who}: message ${e.message.messageId} has ${JSON.stringify(bad)}: ${messageText(e.message).slice(0, 200)}`);
          }
        }
      }
    });
  });
}

async function main() {
  if (typeof WebSocket === "undefined") throw new Error("no global WebSocket: run with node --experimental-websocket (Node 20) or Node 22+");
  const o = args(process.argv.slice(2));
  o.sim = o.sim.replace(/\/+$/, "");
  ensureInstalled();
  const work = mkdtempSync(path.join(tmpdir(), "accessbot-e2e-"));
  const gen = writeExtraPersonas(work);
  const locales = personaLocales();
  const t0 = Date.now();
  let pg = {
    requester: new Playground({ persona: "requester", bot: o.bot, locale: locales.requester }),
    approver: new Playground({ persona: "approver", bot: o.bot, locale: locales.approver }),
    guest: new Playground({ persona: "guest", bot: o.bot, locale: locales.guest }),
    admin: new Playground({ persona: "admin", bot: o.bot, locale: locales.admin }),
    ...Object.fromEntries(Object.keys(extraPersonas).map((n) => [n, new Playground({ persona: n, bot: o.bot, config: gen[n] })])),
  };
  if (o.only === "builder") pg = { admin: pg.admin, patti: pg.patti, nina: pg.nina };
  if (o.only === "reviews") pg = { requester: pg.requester, approver: pg.approver, admin: pg.admin, megan: pg.megan, guest: pg.guest };
  // Distinct ports: random picks in the same range could collide and the Playground would then pick a random one.
  Object.values(pg).forEach((p, i) => (p.port = o["pg-port"] + i));
  let screens;
  let s;
  // Whatever ends this process (a crash included), no Playground outlives it.
  process.on("exit", () => {
    for (const p of Object.values(pg)) if (p.proc && p.proc.exitCode === null) p.proc.kill("SIGTERM");
  });
  // Ctrl-C or a TERM from scripts/e2e.sh: stop every Playground and the browser before exiting.
  let stopping = false;
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      if (stopping) return;
      stopping = true;
      console.error(`\ne2e: ${sig}: stopping the Playgrounds`);
      await screens?.close();
      await Promise.all(Object.values(pg).map((p) => p.stop().catch(() => {})));
      rmSync(work, { recursive: true, force: true });
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  try {
    await Promise.all(Object.values(pg).map((p) => p.start()));
    for (const p of Object.values(pg)) console.log(`playground ${p.who} on ${p.base}`);
    console.log(`started ${Object.keys(pg).length} Playgrounds in ${((Date.now() - t0) / 1000).toFixed(1)} s; bot ${o.bot}, simulator ${o.sim}`);
    if (o.screenshots) {
      screens = new Screens();
      await screens.open(Object.values(pg));
      Object.values(pg).forEach((p) => (p.mirror = true));
    }
    s = await story(o, pg, screens);
    await received(s, pg);
    if (screens) {
      const files = await screens.capture(path.resolve(o.screenshots));
      console.log(`\nscreenshots: ${files.join(", ")}`);
    }
  } finally {
    if (o.transcript) {
      writeFileSync(o.transcript, Object.values(pg).map((p) => p.transcript()).join("\n\n") + "\n");
    }
    await screens?.close();
    await Promise.all(Object.values(pg).map((p) => p.stop().catch(() => {})));
    rmSync(work, { recursive: true, force: true });
  }
  const passed = s.results.filter((r) => r.ok).length;
  console.log(`\n${passed} steps passed, ${s.failed.length} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
  if (s.failed.length) {
    for (const f of s.failed) console.log(`  FAILED: ${f.act} / ${f.step}`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`e2e: FAIL: ${e.stack ?? e.message}`); process.exit(1); });
}
