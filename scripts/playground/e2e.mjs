#!/usr/bin/env node
// Drives the Microsoft 365 Agents Playground through its own HTTP + WebSocket interface (the one its web UI
// uses; see docs/PLAYGROUND.md), so an end-to-end run needs no browser.
//
//   node --experimental-websocket scripts/playground/e2e.mjs [--bot http://127.0.0.1:3978/api/messages]
//                                                            [--persona requester] [--timeout 20]
//
// First step (this file): start a Playground as the persona in a private working directory, open the 1:1 chat
// (installation → conversationUpdate), send "help" as the persona and wait for the bot's reply. Exits 0 on a
// reply, 1 on any failure. The bot must already be running (`make run`).
//
// Node 20 needs --experimental-websocket for the global WebSocket (Node 22+ has it by default).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

/** Installs the pinned Playground into scripts/playground/node_modules unless that exact version is there. */
export function ensureInstalled() {
  const want = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8")).dependencies["@microsoft/m365agentsplayground"];
  const pkg = path.join(here, "node_modules", "@microsoft", "m365agentsplayground", "package.json");
  if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).version === want) return;
  console.error(`installing @microsoft/m365agentsplayground@${want} into ${here}/node_modules`);
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: here, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm install failed (exit ${r.status})`);
}

/** A running Playground instance, driven through its HTTP API and its conversation WebSocket. */
export class Playground {
  /** @param {{persona: string, bot: string, port?: number}} opts */
  constructor(opts) {
    this.persona = opts.persona;
    this.bot = opts.bot;
    this.port = opts.port ?? 0;
    this.events = []; // every WebSocket event, in order: {action, actionConversationId, message}
    this.waiters = [];
  }

  /** Starts the Playground process and waits for its "Listening on" line. */
  async start(timeoutMs = 60_000) {
    const bin = path.join(here, "node_modules", ".bin", "agentsplayground");
    this.dir = mkdtempSync(path.join(tmpdir(), `playground-${this.persona}-`));
    copyFileSync(path.join(root, "manifest", "playground", `${this.persona}.yml`), path.join(this.dir, ".m365agentsplayground.yml"));
    // -p 0 is not special to the Playground; pick a port from a range the manual personas (56150-56153) don't use.
    const port = this.port || 56160 + Math.floor(Math.random() * 30);
    this.proc = spawn(bin, ["-e", this.bot, "-c", "msteams", "-p", String(port), "--disable-telemetry"], {
      cwd: this.dir,
      env: { ...process.env, APPLICATION_INSIGHTS_NO_STATSBEAT: "true", TEAMSAPPTESTER_BROWSER: "none" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.output = "";
    this.proc.stderr.on("data", (d) => (this.output += d));
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Listening on" line after ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      this.proc.stdout.on("data", (d) => {
        this.output += d;
        const m = /^Listening on (\d+)$/m.exec(this.output);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`Playground exited (${code}) before listening:\n${this.output}`)); });
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

  /** Opens the conversation WebSocket; every bot message, update and typing event arrives on it. */
  async connect() {
    this.ws = new WebSocket(`ws://127.0.0.1:${this.port}/_ws_conversation/v1/conversations/stream`);
    this.ws.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      this.events.push(ev);
      this.waiters = this.waiters.filter((w) => !w(ev));
    };
    await new Promise((resolve, reject) => { this.ws.onopen = resolve; this.ws.onerror = () => reject(new Error("WebSocket connection failed")); });
  }

  async get(p) {
    const r = await fetch(this.base + p);
    if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  }

  async post(p, body) {
    const r = await fetch(this.base + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`POST ${p}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** Opens the 1:1 chat the way the UI does: the bot gets installationUpdate / conversationUpdate. */
  openChat(conversationId = this.chat) {
    return this.post(`/_debug/conversation/${encodeURIComponent(conversationId)}/installation`, {});
  }

  /** Sends a text message as the persona; returns {messageId, timestamp}. */
  say(text, conversationId = this.chat) {
    return this.post(`/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`, {
      from: { id: this.user.id }, text, textFormat: "plain",
    });
  }

  /**
   * Clicks an Action.Execute on a card message: inputs are merged into the action's data as a Teams client does.
   * Returns the bot's invoke response ({type, value}); the Playground replaces the card with value.
   */
  execute(messageId, action, inputs = {}, conversationId = this.chat) {
    return this.post("/_conversation/v1/invoke", {
      name: "adaptiveCard/action",
      value: { action: { type: "Action.Execute", verb: action.verb, data: { ...(action.data ?? {}), ...inputs } } },
      from: { id: this.user.id }, conversation: { id: conversationId }, replyToId: messageId,
    });
  }

  /** Clicks an Action.Submit: the bot receives a message activity whose value is data + inputs. */
  submit(messageId, action, inputs = {}, conversationId = this.chat) {
    return this.post("/_conversation/v1/submit", {
      conversation: { id: conversationId }, from: { id: this.user.id }, replyToId: messageId,
      value: { ...(action.data ?? {}), ...inputs },
    });
  }

  /** Resolves with the first event (past or future) matching pred, or rejects after timeoutMs. */
  waitFor(pred, timeoutMs, what = "event") {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events so far:\n${JSON.stringify(this.events, null, 1).slice(0, 4000)}`));
      }, timeoutMs);
      const check = (ev) => { if (!pred(ev)) return false; clearTimeout(timer); resolve(ev); return true; };
      this.waiters.push(check);
    });
  }

  async stop() {
    try { this.ws?.close(); } catch { /* already closed */ }
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Cards attached to a Playground message. */
export const cardsOf = (msg) => (msg.attachments ?? []).filter((a) => a.contentType === "application/vnd.microsoft.card.adaptive").map((a) => a.content);

/** Depth-first list of the actions (card actions and ActionSets) of an Adaptive Card. */
export function actionsOf(card) {
  const out = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    if (typeof node.type === "string" && node.type.startsWith("Action.")) out.push(node);
    for (const [k, v] of Object.entries(node)) if (k !== "data") walk(v);
  };
  walk(card.body);
  walk(card.actions);
  return out;
}

function args(argv) {
  const o = { bot: "http://127.0.0.1:3978/api/messages", persona: "requester", timeout: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in o) || argv[i + 1] === undefined) throw new Error(`usage: e2e.mjs [--bot URL] [--persona NAME] [--timeout SECONDS] (bad argument ${argv[i]})`);
    o[k] = k === "timeout" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return o;
}

async function main() {
  if (typeof WebSocket === "undefined") throw new Error("no global WebSocket: run with node --experimental-websocket (Node 20) or Node 22+");
  const o = args(process.argv.slice(2));
  ensureInstalled();
  const pg = new Playground({ persona: o.persona, bot: o.bot });
  try {
    await pg.start();
    console.log(`playground ${o.persona} (${pg.user.name}) on ${pg.base}, bot ${o.bot}`);
    await pg.openChat();
    const sent = await pg.say("help");
    const fromBot = (ev) => ev.action === "createMessage" && ev.actionConversationId === pg.chat &&
      ev.message.from?.id === pg.config.bot.id && Number(ev.message.timestamp) >= Number(sent.timestamp);
    const reply = await pg.waitFor(fromBot, o.timeout * 1000, `the bot's reply to "help" in ${pg.chat}`);
    const cards = cardsOf(reply.message);
    if (!reply.message.text && cards.length === 0) throw new Error(`the bot replied with neither text nor a card: ${JSON.stringify(reply)}`);
    console.log(`ok: bot replied to "help": ${reply.message.text ? JSON.stringify(reply.message.text.slice(0, 120)) : ""}` +
      `${cards.length ? ` ${cards.length} card(s), actions: ${cards.flatMap(actionsOf).map((a) => a.title).join(", ")}` : ""}`);
  } finally {
    await pg.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(`e2e: FAIL: ${e.message}`); process.exit(1); });
}
