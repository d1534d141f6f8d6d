// The browser's side of the real-client test: every role the test asks for (a simulcast
// publisher, a plain publisher, a viewer that joins the room, a viewer with a subscriber handle
// only), played with Meetecho's janus.js as a janus.js application would, over HTTP, with
// iceServers: []. What the browser itself saw (its getStats and the times of what it did) is
// posted back to the page's server; the test holds the collector's documents against it.
"use strict";

let T0 = Date.now();  // the test's common start (CONFIG.t0_ms): its aiortc peers keep time too
let CONFIG = null;
const REPORT = { roles: {}, errors: [], userAgent: navigator.userAgent };

function now() { return Date.now(); }
function sleepUntil(offsetS) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, T0 + offsetS * 1000 - now())));
}
function fail(where, what) {
  const text = `${where}: ${what && what.message ? what.message : JSON.stringify(what)}`;
  REPORT.errors.push(text);
  Janus.error(text);
}
async function post(path, body) {
  await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify(body) });
}

// -- janus.js, promisified -----------------------------------------------------------------
function newSession(where) {
  return new Promise((resolve, reject) => {
    const janus = new Janus({
      server: CONFIG.janus, iceServers: [],
      success: () => resolve(janus),
      error: (e) => { fail(where, e); reject(e); },
    });
  });
}

function attach(janus, role, where, onmessage) {
  return new Promise((resolve, reject) => {
    const state = { webrtcup: null, hangup: null, iceStates: [] };
    janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: `browser-${role.name}`,
      success: (handle) => { handle.state = state; resolve(handle); },
      error: (e) => { fail(where, e); reject(e); },
      onmessage: (msg, jsep) => onmessage(msg, jsep),
      webrtcState: (up, reason) => {
        if (up && state.webrtcup === null) state.webrtcup = now();
        if (!up && state.hangup === null) state.hangup = { at: now(), reason: reason || null };
      },
      iceState: (s) => state.iceStates.push([now(), s]),
      onlocaltrack: () => {}, onremotetrack: () => {},
      oncleanup: () => {},
    });
  });
}

function send(handle, message, jsep) {
  return new Promise((resolve, reject) => {
    handle.send({ message, jsep, success: resolve, error: reject });
  });
}

async function waitFor(test, timeoutS, what) {
  const until = now() + timeoutS * 1000;
  while (!test()) {
    if (now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// -- what the browser measured ---------------------------------------------------------------
async function snapshot(handle) {
  const pc = handle.webrtcStuff && handle.webrtcStuff.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const out = { at: now(), outbound: [], inbound: [], pair: null };
  const byId = {};
  report.forEach((s) => { byId[s.id] = s; });
  report.forEach((s) => {
    if (s.type === "outbound-rtp") {
      out.outbound.push({ kind: s.kind, rid: s.rid || null, ssrc: s.ssrc,
        packetsSent: s.packetsSent, bytesSent: s.bytesSent,
        retransmittedPacketsSent: s.retransmittedPacketsSent || 0,
        frameWidth: s.frameWidth || null,
        frameHeight: s.frameHeight || null, framesPerSecond: s.framesPerSecond || null,
        framesEncoded: s.framesEncoded || null, framesSent: s.framesSent || null });
    } else if (s.type === "inbound-rtp") {
      out.inbound.push({ kind: s.kind, ssrc: s.ssrc, packetsReceived: s.packetsReceived,
        retransmittedPacketsReceived: s.retransmittedPacketsReceived || 0,
        packetsLost: s.packetsLost, bytesReceived: s.bytesReceived,
        framesDecoded: s.framesDecoded || null, frameWidth: s.frameWidth || null,
        frameHeight: s.frameHeight || null });
    } else if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = byId[s.selectedCandidatePairId];
      const local = pair && byId[pair.localCandidateId];
      const remote = pair && byId[pair.remoteCandidateId];
      if (local && remote) {
        out.pair = {
          local: { address: local.address || local.ip, port: local.port, type: local.candidateType },
          remote: { address: remote.address || remote.ip, port: remote.port, type: remote.candidateType },
        };
      }
    }
  });
  return out;
}

// getStats every SAMPLE_MS, so the test can read the browser's counts at the moment of each of
// Janus's own samples (Janus reports once a second: its last one before an end is up to a second
// old). A feed that goes away takes its stats with it, so these are also the last ones it had.
const SAMPLE_MS = 250;
function sample(handle, record) {
  record.samples = [];
  return setInterval(async () => {
    const s = await snapshot(handle);
    if (s && (s.inbound.length || s.outbound.length)) record.samples.push(s);
  }, SAMPLE_MS);
}

// -- subscriptions -----------------------------------------------------------------------------
async function findFeeds(handle, displays) {
  const found = {};
  const until = now() + 30000;
  while (now() < until) {
    const reply = await send(handle, { request: "listparticipants", room: CONFIG.room });
    for (const p of reply.participants || []) {
      if (p.publisher && p.display) found[p.display] = p.id;
    }
    if (displays.every((d) => d in found)) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`publishers ${displays} never appeared (have ${Object.keys(found)})`);
}

async function subscribe(janus, role, feedId, display, record, privateId) {
  const where = `${role.name} subscribing to ${display}`;
  const sub = { display, feed: feedId, started: now(), webrtcup: null, ended: null, end: null,
                stats: null };
  record.subscriptions[display] = sub;
  let handle = null;
  handle = await attach(janus, role, where, (msg, jsep) => {
    if (msg.videoroom === "event" && msg.left === "ok" && sub.ended === null) {
      sub.ended = now(); sub.end = sub.end || "feed-left";
    }
    if (jsep) {
      handle.createAnswer({
        jsep, tracks: [],
        success: (answer) => send(handle, { request: "start", room: CONFIG.room }, answer)
          .catch((e) => fail(where, e)),
        error: (e) => fail(where, e),
      });
    }
  });
  sub.handle = handle;
  sub.janusHandleId = handle.getId();
  sub.sampler = sample(handle, sub);
  const body = { request: "join", ptype: "subscriber", room: CONFIG.room, streams: [{ feed: feedId }] };
  if (privateId) body.private_id = privateId;
  handle.send({ message: body });
  await waitFor(() => handle.state.webrtcup !== null, 20, `${where}: webrtcup`);
  sub.webrtcup = handle.state.webrtcup;
  return sub;
}

async function endSubscription(sub, why) {
  if (sub.ended !== null && sub.end !== "feed-left") return;
  clearInterval(sub.sampler);
  sub.stats = await snapshot(sub.handle);
  if (sub.ended === null) { sub.ended = now(); sub.end = why; }
  await new Promise((resolve) => sub.handle.detach({ success: resolve, error: resolve }));
  sub.detached = now();
}

// -- roles -------------------------------------------------------------------------------------
async function publisher(role) {
  const record = { kind: role.kind, display: role.display, subscriptions: {} };
  REPORT.roles[role.name] = record;
  const janus = await newSession(role.name);
  record.janusSessionId = janus.getSessionId();
  let handle = null;
  let answered = false;
  handle = await attach(janus, role, role.name, (msg, jsep) => {
    if (msg.videoroom === "joined") { record.joined = now(); record.feed = msg.id; }
    if (jsep) { handle.handleRemoteJsep({ jsep }); answered = true; }
  });
  handle.send({ message: { request: "join", ptype: "publisher", room: CONFIG.room, display: role.display } });
  await waitFor(() => record.joined, 10, `${role.name}: joined`);
  const offer = await new Promise((resolve, reject) => handle.createOffer({
    tracks: [
      { type: "audio", capture: true, recv: false },
      // Chrome sends three simulcast layers from 960x540 up (two below): 240x135, 480x270
      // and 960x540.
      { type: "video", capture: role.simulcast ? { width: 960, height: 540 } : { width: 640, height: 480 },
        recv: false, simulcast: !!role.simulcast },
    ],
    success: resolve, error: reject,
  }));
  record.published = now();
  await send(handle, { request: "configure", audio: true, video: true }, offer);
  await waitFor(() => answered && handle.state.webrtcup !== null, 20, `${role.name}: webrtcup`);
  record.webrtcup = handle.state.webrtcup;
  record.sampler = sample(handle, record);
  if (role.unpublish_at) {
    await sleepUntil(role.unpublish_at);
    clearInterval(record.sampler);
    record.stats = await snapshot(handle);
    record.unpublished = now();
    await send(handle, { request: "unpublish" });
  }
  await sleepUntil(role.leave_at);
  clearInterval(record.sampler);
  if (!role.unpublish_at) record.stats = await snapshot(handle);
  record.left = now();
  await send(handle, { request: "leave" });
  if (role.destroy_session) {
    await new Promise((resolve) => janus.destroy({ success: resolve, error: resolve }));
    record.destroyed = now();
  }
  record.hangup = handle.state.hangup;
}

async function joinedViewer(role) {
  const record = { kind: role.kind, display: role.display, subscriptions: {} };
  REPORT.roles[role.name] = record;
  const janus = await newSession(role.name);
  record.janusSessionId = janus.getSessionId();
  let privateId = null;
  const control = await attach(janus, role, role.name, (msg) => {
    if (msg.videoroom === "joined") { record.joined = now(); record.feed = msg.id; privateId = msg.private_id; }
  });
  control.send({ message: { request: "join", ptype: "publisher", room: CONFIG.room, display: role.display } });
  await waitFor(() => record.joined, 10, `${role.name}: joined`);
  const feeds = await findFeeds(control, role.subscribe_to);
  await Promise.all(role.subscribe_to.map((d) => subscribe(janus, role, feeds[d], d, record, privateId)));
  for (const [display, at] of Object.entries(role.unsubscribe_at || {})) {
    await sleepUntil(at);
    await endSubscription(record.subscriptions[display], "unsubscribe");
  }
  await sleepUntil(role.leave_at);
  const open = Object.values(record.subscriptions).filter((s) => s.detached === undefined);
  for (const sub of open) sub.stats = await snapshot(sub.handle);
  record.left = now();
  await send(control, { request: "leave" });
  for (const sub of open) await endSubscription(sub, "left");
  if (role.destroy_session) {
    await new Promise((resolve) => janus.destroy({ success: resolve, error: resolve }));
    record.destroyed = now();
  }
}

async function subscriberOnly(role) {
  // The usual janus.js viewer: no join as a participant, one subscriber handle per feed.
  const record = { kind: role.kind, display: null, subscriptions: {} };
  REPORT.roles[role.name] = record;
  const janus = await newSession(role.name);
  record.janusSessionId = janus.getSessionId();
  const lookup = await attach(janus, role, `${role.name} lookup`, () => {});
  const feeds = await findFeeds(lookup, role.subscribe_to);
  await new Promise((resolve) => lookup.detach({ success: resolve, error: resolve }));
  record.joined = now();
  await Promise.all(role.subscribe_to.map((d) => subscribe(janus, role, feeds[d], d, record, null)));
  await sleepUntil(role.leave_at);
  const open = Object.values(record.subscriptions);
  for (const sub of open) sub.stats = await snapshot(sub.handle);
  record.left = now();
  for (const sub of open) await endSubscription(sub, "left");
  if (role.destroy_session) {
    await new Promise((resolve) => janus.destroy({ success: resolve, error: resolve }));
    record.destroyed = now();
  }
}

const ROLES = { publisher, joined_viewer: joinedViewer, subscriber_only: subscriberOnly };

function cleaned() {
  // Handles are not JSON: keep only what was measured.
  for (const role of Object.values(REPORT.roles)) {
    clearInterval(role.sampler);
    delete role.sampler;
    for (const sub of Object.values(role.subscriptions)) {
      clearInterval(sub.sampler);
      delete sub.handle;
      delete sub.sampler;
    }
  }
  return REPORT;
}

async function main() {
  CONFIG = await (await fetch("/config")).json();
  T0 = CONFIG.t0_ms || T0;
  await new Promise((resolve) => Janus.init({ debug: CONFIG.debug ? "all" : ["error"], callback: resolve }));
  REPORT.t0 = T0;
  const runs = CONFIG.roles.map(async (role) => {
    await sleepUntil(role.start_at || 0);
    try {
      await ROLES[role.kind](role);
    } catch (e) {
      fail(role.name, e);
    }
  });
  await Promise.all(runs);
  await post("/report", cleaned());
}

window.addEventListener("error", (e) => fail("page", e.message));
main().catch((e) => { fail("main", e); post("/report", cleaned()); });
