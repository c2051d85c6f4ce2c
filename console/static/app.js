"use strict";
// tagstream console: plain DOM, no libraries. Every server-provided string
// enters the DOM through textContent / text nodes only (see el()).
(() => {
  const $ = (id) => document.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";
  const TOKEN_KEY = "tagstream.token";
  const MAX_RESULTS = 300, MAX_DEAD = 200, TOP_SCORES = 4, HIST_MAX = 10, MAX_SKIP = 200;
  const ENT_TYPES = ["PER", "LOC", "ORG", "MISC"];
  const TABS = ["live", "results", "try", "review", "models", "dead"];
  const MIX_LINES = 8; // label-mix chart: top labels drawn, the rest summed as "other"

  // ---------- DOM helpers ----------
  function append(parent, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(parent, k);
      else if (k instanceof Node) parent.appendChild(k);
      else parent.appendChild(document.createTextNode(String(k)));
    }
    return parent;
  }
  // el("div", {class, text, title, data: {...}, on: {click: fn}, ...attrs}, ...children)
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = String(v);
        else if (k === "data") for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
        else if (k === "on") for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
        else if (k === "disabled" || k === "hidden") e[k] = Boolean(v);
        else e.setAttribute(k, String(v));
      }
    }
    return append(e, kids);
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  const clear = (node) => { node.replaceChildren(); return node; };
  const setText = (id, s) => { const n = $(id); if (n) n.textContent = s == null ? "" : String(s); };
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const enc = encodeURIComponent;

  function fmtNum(v, digits) {
    if (!isNum(v)) return "–";
    if (digits !== undefined) return v.toFixed(digits);
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function toDate(v) {
    if (isNum(v)) return new Date(v > 1e12 ? v : v * 1000);
    if (typeof v === "string" && v) { const d = new Date(v); return isNaN(d.getTime()) ? null : d; }
    return null;
  }
  const pad2 = (n) => String(n).padStart(2, "0");
  function fmtTime(v) {
    const d = toDate(v);
    if (!d) return v == null ? "" : String(v);
    const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    if (d.toDateString() === new Date().toDateString()) return time;
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
  }
  function ago(v) {
    const d = toDate(v);
    if (!d) return "–";
    const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
    return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : fmtTime(v);
  }
  const srcText = (s) => (s && typeof s === "object") ? `${s.topic ?? "?"}[${s.partition ?? "?"}]@${s.offset ?? "?"}` : "";
  function listOf(d, ...keys) {
    if (Array.isArray(d)) return d;
    for (const k of keys) if (d && Array.isArray(d[k])) return d[k];
    return null;
  }

  // ---------- API ----------
  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return ""; } }
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" }, cache: "no-store" };
    if (method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
      const t = token();
      if (t) opts.headers.Authorization = "Bearer " + t;
    }
    let res;
    try { res = await fetch(path, opts); } catch (e) {
      return { ok: false, status: 0, data: null, error: "network error: " + (e && e.message ? e.message : e) };
    }
    const txt = await res.text().catch(() => "");
    let data = null;
    try { data = txt ? JSON.parse(txt) : null; } catch (_) { data = null; }
    let error = "";
    if (data && typeof data.error === "string") error = data.error;
    else if (!res.ok) error = (txt.trim().slice(0, 300)) || `${res.status} ${res.statusText}`;
    return { ok: res.ok, status: res.status, data, error };
  }
  const writeError = (r) => (r.status === 401 || r.status === 403) ? "token needed" : (r.error || `error ${r.status}`);

  // ---------- app state ----------
  let S = null;           // last /state
  let writeOK = true;
  let activeTab = "live";
  let tasksSig = "";

  // ---------- header, token, write gate ----------
  const tokenInput = $("token");
  tokenInput.value = token();
  tokenInput.addEventListener("input", () => {
    try { sessionStorage.setItem(TOKEN_KEY, tokenInput.value); } catch (_) { /* storage unavailable */ }
  });
  $("token-form").addEventListener("submit", (e) => e.preventDefault()); // Enter in the token field must not navigate
  function setConn(state) {
    const c = $("conn");
    c.className = "conn conn-" + state;
    c.textContent = state === "ok" ? "SSE connected" : state === "bad" ? "reconnecting…" : "connecting…";
  }
  function applyWrite() {
    $("write-note").hidden = writeOK;
    for (const b of document.querySelectorAll("button.write")) b.disabled = !writeOK || b.dataset.off === "1";
  }

  // ---------- tabs ----------
  const tabButtons = Array.from(document.querySelectorAll("[role=tab][data-tab]"));
  function showTab(name, focusTab) {
    if (!TABS.includes(name)) return;
    activeTab = name;
    for (const b of tabButtons) {
      const on = b.dataset.tab === name;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
      if (on && focusTab) b.focus();
    }
    for (const t of TABS) $(t).hidden = t !== name;
    try { history.replaceState(null, "", "#" + name); } catch (_) { /* ignore */ }
    if (name === "live") renderLive();
    if (name === "results") renderStaleResults();
    if (name === "models") loadModels();
    if (name === "review") { if (!V.loaded && V.task) loadNext(); else renderReview(); }
  }
  for (const b of tabButtons) b.addEventListener("click", () => showTab(b.dataset.tab, false));
  window.addEventListener("hashchange", () => { const h = location.hash.slice(1); if (TABS.includes(h) && h !== activeTab) showTab(h, false); });
  document.querySelector("[role=tablist]").addEventListener("keydown", (e) => {
    const i = tabButtons.findIndex((b) => b.dataset.tab === activeTab);
    let j = -1;
    if (e.key === "ArrowRight") j = (i + 1) % tabButtons.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + tabButtons.length) % tabButtons.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = tabButtons.length - 1;
    if (j < 0) return;
    e.preventDefault();
    showTab(tabButtons[j].dataset.tab, true);
  });

  // ---------- charts (SVG) ----------
  function niceMax(m) {
    if (!(m > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(m));
    for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= m) return k * p;
    return 10 * p;
  }
  // t: unix seconds; lines: [{values, cls, name}]; x spans [t1 - span, t1].
  function lineChart(t, lines, label, opts = {}) {
    const w = 280, h = 80, padT = 12, padB = 2, ph = h - padT - padB;
    const times = Array.isArray(t) ? t : [];
    const span = opts.span || 300;
    const t1 = times.length ? times[times.length - 1] : 0, t0 = t1 - span;
    let max = 0;
    for (const l of lines) for (const v of l.values || []) if (isNum(v) && v > max) max = v;
    const top = niceMax(max);
    const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "chart-svg", role: "img", "aria-label": label });
    s.appendChild(svg("title", null, label));
    s.appendChild(svg("line", { x1: 0, y1: padT, x2: w, y2: padT, class: "grid" }));
    s.appendChild(svg("line", { x1: 0, y1: h - padB, x2: w, y2: h - padB, class: "axis" }));
    s.appendChild(svg("text", { x: 2, y: 9, class: "axis-label" }, fmtNum(top) + (opts.unit || "")));
    s.appendChild(svg("text", { x: w - 2, y: 9, class: "axis-label end" }, `${Math.round(span / 60)} min`));
    for (const l of lines) {
      let pts = [];
      const flush = () => {
        if (pts.length > 1) s.appendChild(svg("polyline", { points: pts.join(" "), class: "line " + (l.cls || "") }));
        else if (pts.length === 1) {
          const [x, y] = pts[0].split(",");
          s.appendChild(svg("circle", { cx: x, cy: y, r: 1.5, class: "dot " + (l.cls || "") }));
        }
        pts = [];
      };
      (l.values || []).forEach((v, i) => {
        const ti = times[i];
        if (!isNum(v) || !isNum(ti) || ti < t0) { flush(); return; }
        const x = ((ti - t0) / span) * w;
        const y = padT + ph - (v / top) * ph;
        pts.push(x.toFixed(1) + "," + y.toFixed(1));
      });
      flush();
    }
    return s;
  }
  function lastNum(a) {
    if (!Array.isArray(a)) return null;
    for (let i = a.length - 1; i >= 0; i--) if (isNum(a[i])) return a[i];
    return null;
  }

  // ---------- Live ----------
  function renderLive() {
    if (!S || activeTab !== "live") return;
    const se = S.series || {};
    $("chart-events").replaceChildren(lineChart(se.t, [{ values: se.events, cls: "c0" }], "events per second"));
    $("chart-latency").replaceChildren(lineChart(se.t, [{ values: se.p50_ms, cls: "c0" }, { values: se.p99_ms, cls: "c3" }], "latency p50 and p99, ms", { unit: " ms" }));
    $("chart-dead").replaceChildren(lineChart(se.t, [{ values: se.dead, cls: "c3" }], "dead letters per second"));
    setText("cur-events", fmtNum(lastNum(se.events), 1));
    setText("cur-latency", `p50 ${fmtNum(lastNum(se.p50_ms), 0)} · p99 ${fmtNum(lastNum(se.p99_ms), 0)}`);
    setText("cur-dead", fmtNum(lastNum(se.dead), 1));

    // label mix: one multi-line chart per task
    const mix = clear($("label-mix"));
    const lm = S.label_mix || {};
    const mt = Array.isArray(lm.t) ? lm.t : [];
    const mixTasks = lm.tasks && typeof lm.tasks === "object" ? lm.tasks : {};
    for (const task of Object.keys(mixTasks).sort()) {
      const per = mixTasks[task] || {};
      const tot = (a) => (Array.isArray(a) ? a.reduce((x, y) => x + (isNum(y) ? y : 0), 0) : 0);
      const labels = Object.keys(per).map((l) => ({ l, n: tot(per[l]) })).sort((a, b) => b.n - a.n || a.l.localeCompare(b.l));
      const shown = labels.slice(0, MIX_LINES), rest = labels.slice(MIX_LINES);
      const lines = shown.map((x, i) => ({ values: per[x.l], cls: "c" + i, name: x.l }));
      const legend = el("ul", { class: "legend" }, shown.map((x, i) =>
        el("li", null, el("span", { class: "sw c" + i }), x.l, el("span", { class: "muted", text: " " + x.n }))));
      if (rest.length) {
        const other = mt.map((_, i) => rest.reduce((s, x) => s + (isNum(per[x.l][i]) ? per[x.l][i] : 0), 0));
        lines.push({ values: other, cls: "c8" });
        legend.appendChild(el("li", { title: rest.map((x) => `${x.l} ${x.n}`).join(", ") }, el("span", { class: "sw c8" }),
          `other (${rest.length})`, el("span", { class: "muted", text: " " + rest.reduce((s, x) => s + x.n, 0) })));
      }
      const span = Math.max(300, mt.length > 1 ? mt[mt.length - 1] - mt[0] : 0);
      mix.appendChild(el("figure", { class: "chart" }, el("figcaption", { text: task }),
        labels.length ? lineChart(mt, lines, `label mix of ${task}`, { span }) : el("p", { class: "muted", text: "no results yet" }), legend));
    }
    if (!mix.firstChild) mix.appendChild(el("p", { class: "muted", text: "no label mix yet" }));

    // entity types
    const et = clear($("entity-types"));
    const ents = Object.entries(S.entity_types || {}).filter(([, n]) => isNum(n)).sort((a, b) => b[1] - a[1]);
    const emax = ents.reduce((m, [, n]) => Math.max(m, n), 0) || 1;
    for (const [type, n] of ents) {
      const fill = el("span", { class: "fill ent-" + entClass(type) });
      fill.style.width = (n / emax) * 100 + "%";
      et.appendChild(el("div", { class: "bar-row" }, el("span", { class: "bname", text: type }), el("span", { class: "bar" }, fill), el("span", { class: "bval", text: n })));
    }
    if (!ents.length) et.appendChild(el("p", { class: "muted", text: "no entities in the last 5 minutes" }));

    fillInService($("in-service").tBodies[0], S.in_service);
    const fb = S.feedback || {};
    setText("feedback-counts", `sent ${fmtNum(fb.sent)} · since last promotion ${fmtNum(fb.since_last_promotion)}`);
    const pr = clear($("promotions"));
    for (const p of (Array.isArray(S.promotions) ? S.promotions : []).slice(0, 5)) pr.appendChild(promoItem(p));
    if (!pr.firstChild) pr.appendChild(el("li", { class: "muted", text: "no promotions yet" }));
    const rd = clear($("rounds"));
    for (const r of (Array.isArray(S.rounds) ? S.rounds : []).slice(0, 5)) rd.appendChild(roundItem(r));
    if (!rd.firstChild) rd.appendChild(el("li", { class: "muted", text: "no round here yet (or the trainer runs elsewhere)" }));
    const tt = S.totals || {};
    setText("totals", `totals since start: ${fmtNum(tt.results)} results · ${fmtNum(tt.dead)} dead letters`);
  }
  function roundItem(r) {
    return el("li", { class: "round round-" + (r.decision === "promoted" ? "ok" : "no") },
      el("b", { text: r.decision || "?" }), " ",
      el("span", { text: [r.task || (r.kind === "ner" ? "ner" : ""), r.lang].filter(Boolean).join(" / ") }),
      el("span", { class: "muted", text: ` · ${fmtNum(r.examples)} new examples · ${fmtTime(r.at)}` }),
      r.version ? el("div", { class: "small" }, el("code", { text: r.version }), el("span", { class: "muted", text: " ← " + (r.base || "?") })) : null,
      el("div", { class: "small metrics", text: r.reason || "" }));
  }
  function promoItem(p) {
    return el("li", null,
      el("code", { text: p.version || "?" }),
      p.parent ? el("span", { class: "muted", text: " ← " + p.parent }) : null,
      el("div", { class: "small" }, [p.task || (p.kind === "ner" ? "ner" : ""), p.lang, p.seq != null ? "#" + p.seq : ""].filter(Boolean).join(" / "),
        " · ", fmtTime(p.created)),
      p.metrics ? el("div", { class: "small metrics", text: typeof p.metrics === "string" ? p.metrics : JSON.stringify(p.metrics) }) : null);
  }
  function fillInService(tbody, list) {
    clear(tbody);
    const rows = (Array.isArray(list) ? list.slice() : []).sort((a, b) =>
      String(a.task || "").localeCompare(String(b.task || "")) || String(a.lang).localeCompare(String(b.lang)) || String(a.kind).localeCompare(String(b.kind)));
    for (const m of rows) {
      tbody.appendChild(el("tr", null, el("td", { text: m.task || (m.kind === "ner" ? "(ner)" : "–") }), el("td", { text: m.lang || "" }),
        el("td", { text: m.kind || "" }), el("td", null, el("code", { text: m.version || "" })), el("td", { text: ago(m.last_seen), title: fmtTime(m.last_seen) })));
    }
    if (!rows.length) tbody.appendChild(el("tr", null, el("td", { colspan: 5, class: "muted", text: "nothing seen yet" })));
  }

  // ---------- result rendering ----------
  const entClass = (t) => (ENT_TYPES.includes(t) ? t : "other");
  function entMark(s, type, nominal) {
    const label = (type || "?") + (nominal ? "·nom" : "");
    return el("mark", { class: "ent ent-" + entClass(type), data: { type: label }, title: label }, s);
  }
  // Highlights entities in text; start/end are rune (code point) offsets, end exclusive.
  function entText(text, ents, box) {
    box = box || el("div", { class: "rtext" });
    clear(box);
    box.classList.remove("muted");
    const list = Array.isArray(ents) ? ents : [];
    if (typeof text !== "string") {
      box.classList.add("muted");
      box.append("(text not shown)");
      for (const e of list) box.append(" ", entMark(String(e.text ?? ""), e.type, e.nominal));
      return box;
    }
    const cps = Array.from(text);
    const spans = list.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.end > e.start && e.end <= cps.length)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    let pos = 0;
    for (const e of spans) {
      if (e.start < pos) continue; // overlapping span: keep the first
      if (e.start > pos) box.append(cps.slice(pos, e.start).join(""));
      box.append(entMark(cps.slice(e.start, e.end).join(""), e.type, e.nominal));
      pos = e.end;
    }
    if (pos < cps.length) box.append(cps.slice(pos).join(""));
    return box;
  }
  function taskOutputs(r) {
    if (r.tasks && typeof r.tasks === "object" && Object.keys(r.tasks).length) return r.tasks;
    if (r.label != null || r.scores) return { [(S && S.route) || "label"]: { label: r.label, scores: r.scores } };
    return {};
  }
  function scoreBars(scores, chosen) {
    const wrap = el("div", { class: "scores" });
    const top = Object.entries(scores || {}).filter(([, p]) => isNum(p)).sort((a, b) => b[1] - a[1]).slice(0, TOP_SCORES);
    for (const [l, p] of top) {
      const fill = el("span", { class: "fill" });
      fill.style.width = Math.max(0, Math.min(1, p)) * 100 + "%";
      wrap.appendChild(el("div", { class: "score" + (chosen.includes(l) ? " on" : "") },
        el("span", { class: "sname", text: l, title: l }), el("span", { class: "bar" }, fill), el("span", { class: "sval", text: p.toFixed(2) })));
    }
    return wrap;
  }
  function tasksBlock(r) {
    const tasks = taskOutputs(r);
    const route = S && S.route;
    const names = Object.keys(tasks).sort((a, b) => (a === route ? -1 : b === route ? 1 : a.localeCompare(b)));
    const box = el("div", { class: "rtasks" });
    for (const name of names) {
      const o = tasks[name] || {};
      const multi = Array.isArray(o.labels);
      const chosen = multi ? o.labels.map(String) : o.label != null ? [String(o.label)] : [];
      const labs = el("span", { class: "tlabels" }, chosen.map((l) => el("span", { class: "chip", text: l })));
      if (!chosen.length) labs.appendChild(el("span", { class: "muted", text: multi ? "(none)" : "–" }));
      box.appendChild(el("div", { class: "rtask", data: { task: name } },
        el("div", { class: "rtask-head" }, el("span", { class: "tname", text: name }), labs), scoreBars(o.scores, chosen)));
    }
    if (!names.length) box.appendChild(el("span", { class: "muted", text: "(no task output)" }));
    return box;
  }
  function versionsLine(r) {
    const mv = r.model_version || {};
    const parts = [];
    if (mv.tasks && typeof mv.tasks === "object") for (const [t, v] of Object.entries(mv.tasks)) parts.push(`${t}: ${v}`);
    else if (mv.classifier) parts.push(`classifier: ${mv.classifier}`);
    if (mv.ner) parts.push(`ner: ${mv.ner}`);
    return parts.length ? el("div", { class: "rver", text: "models · " + parts.join(" · ") }) : null;
  }
  function resultCard(r, fallbackText) {
    const text = typeof r.text === "string" ? r.text : fallbackText;
    return el("article", { class: "result", data: { id: r.id ?? "" } },
      el("div", { class: "rhead" },
        el("span", { class: "lang", text: r.lang || "?" }),
        el("span", { class: "rid", text: r.id ? r.id : "(no id)" }),
        r.truncated ? el("span", { class: "flag", text: "truncated" }) : null,
        el("span", { class: "muted", text: srcText(r.source) }),
        el("span", { class: "muted rtime", text: fmtTime(r.received || r.processed_at || r.event_time) })),
      entText(text, r.entities), tasksBlock(r), versionsLine(r));
  }

  // ---------- Results ----------
  const R = { list: [], keys: new Set(), paused: false, buffer: [], missedFill: false, seq: 0, stale: false };
  const rkey = (r) => (r.source && r.source.topic != null ? `${r.source.topic}/${r.source.partition}/${r.source.offset}` : `${r.id}|${r.received || r.event_time || ""}`);
  const filt = () => ({ task: $("f-task").value, label: $("f-label").value, lang: $("f-lang").value });
  function matches(r, f) {
    if (f.lang && r.lang !== f.lang) return false;
    const tasks = taskOutputs(r);
    if (f.task && !tasks[f.task]) return false;
    if (!f.label) return true;
    const has = (o) => o && (o.label === f.label || (Array.isArray(o.labels) && o.labels.includes(f.label)));
    return f.task ? has(tasks[f.task]) : r.label === f.label; // as the server: no task = the route task's label
  }
  async function fillResults(force) {
    if (R.paused && !force) { R.missedFill = true; return; }
    const seq = ++R.seq, f = filt();
    const q = new URLSearchParams({ limit: String(MAX_RESULTS) });
    for (const k of ["task", "label", "lang"]) if (f[k]) q.set(k, f[k]);
    const r = await api("GET", "/api/v1/results?" + q.toString());
    if (seq !== R.seq) return;
    const list = listOf(r.data, "results", "items");
    if (!r.ok || !list) { setText("results-msg", r.error || "could not load results"); return; }
    setText("results-msg", "");
    R.list = list.slice(0, MAX_RESULTS);
    R.keys = new Set(R.list.map(rkey));
    R.buffer = [];
    R.missedFill = false;
    R.stale = false;
    $("results-list").replaceChildren(...R.list.map((x) => resultCard(x)));
    resultsStatus();
  }
  // prependCapped puts the cards of newest (newest first) at the top of
  // box and store.list, keeping at most max of each (store.keys follows).
  function prependCapped(box, store, newest, card, max, key) {
    const frag = document.createDocumentFragment();
    for (const x of newest) frag.appendChild(card(x));
    box.prepend(frag);
    store.list = newest.concat(store.list);
    if (store.list.length > max) {
      store.list.length = max;
      while (box.children.length > max) box.lastElementChild.remove();
      store.keys = new Set(store.list.map(key));
    }
  }
  // While the Results tab is hidden only the data is kept: its cards are
  // built when the tab is shown (a flood costs a hidden list nothing).
  function prependResults(newest) {
    if (!newest.length) return;
    if (activeTab !== "results") {
      R.list = newest.concat(R.list);
      if (R.list.length > MAX_RESULTS) { R.list.length = MAX_RESULTS; R.keys = new Set(R.list.map(rkey)); }
      R.stale = true;
      return;
    }
    prependCapped($("results-list"), R, newest, resultCard, MAX_RESULTS, rkey);
    resultsStatus();
  }
  function renderStaleResults() {
    if (!R.stale) return;
    R.stale = false;
    $("results-list").replaceChildren(...R.list.map((x) => resultCard(x)));
    resultsStatus();
  }
  function onResults(arr) {
    const f = filt(), fresh = [];
    for (const r of arr) {
      if (!r || typeof r !== "object" || !matches(r, f)) continue;
      const k = rkey(r);
      if (R.keys.has(k)) continue;
      R.keys.add(k);
      fresh.unshift(r); // SSE batches are oldest first; the list is newest first
    }
    if (!fresh.length) return;
    if (R.paused) { R.buffer = fresh.concat(R.buffer).slice(0, MAX_RESULTS); resultsStatus(); }
    else prependResults(fresh);
  }
  function resultsStatus() {
    const nc = $("new-count");
    nc.hidden = !R.paused;
    nc.textContent = `${R.buffer.length} new`;
    setText("results-count", `${R.list.length} shown, newest first` + (S && S.texts_hidden ? " · texts hidden (http.console_texts is off)" : S && S.text_shown === false ? " · texts are not shown by the server" : ""));
  }
  $("pause").addEventListener("click", () => {
    R.paused = !R.paused;
    const b = $("pause");
    b.setAttribute("aria-pressed", String(R.paused));
    b.textContent = R.paused ? "resume" : "pause";
    if (!R.paused) {
      if (R.missedFill) fillResults(true);
      else { const buf = R.buffer; R.buffer = []; prependResults(buf); }
    }
    resultsStatus();
  });
  function fillLabelFilter() {
    const sel = $("f-label"), keep = sel.value, task = $("f-task").value || (S && S.route) || ""; // no task: the route task's labels
    const tasks = (S && S.tasks) || {}, set = new Set();
    for (const [t, def] of Object.entries(tasks)) {
      if (task && t !== task) continue;
      for (const ls of Object.values((def && def.langs) || {})) for (const l of ls || []) set.add(l);
    }
    const labels = Array.from(set).sort();
    sel.replaceChildren(el("option", { value: "", text: "any" }), ...labels.map((l) => el("option", { value: l, text: l })));
    sel.value = labels.includes(keep) ? keep : "";
  }
  $("f-task").addEventListener("change", () => { fillLabelFilter(); fillResults(true); });
  $("f-label").addEventListener("change", () => fillResults(true));
  $("f-lang").addEventListener("change", () => fillResults(true));

  // ---------- Dead letters ----------
  const D = { list: [], keys: new Set() };
  const dkey = (d) => `${srcText(d.source)}|${d.received || ""}|${d.reason || ""}`;
  function deadCard(d) {
    const bytes = (d.raw_bytes != null ? `${d.raw_bytes} bytes` : "") + (d.raw_truncated ? " (truncated)" : "");
    return el("article", { class: "dead-item" },
      el("div", { class: "rhead" }, el("span", { class: "reason", text: d.reason || "?" }), el("span", { class: "muted", text: srcText(d.source) }),
        el("span", { class: "muted", text: bytes }), el("span", { class: "muted rtime", text: fmtTime(d.received) })),
      d.error ? el("div", { class: "derr", text: d.error }) : null,
      el("pre", { class: "preview", text: d.preview || (S && S.texts_hidden ? "(texts hidden: http.console_texts is off)" : "") }));
  }
  function deadStatus() { setText("dead-count", `${D.list.length} recent dead letters, newest first`); }
  async function fillDead() {
    const r = await api("GET", "/api/v1/deadletters?limit=100");
    const list = listOf(r.data, "deadletters", "dead", "items");
    if (!r.ok || !list) { setText("dead-msg", r.error || "could not load dead letters"); return; }
    setText("dead-msg", "");
    D.list = list.slice(0, MAX_DEAD);
    D.keys = new Set(D.list.map(dkey));
    $("dead-list").replaceChildren(...D.list.map(deadCard));
    deadStatus();
  }
  function onDead(arr) {
    const fresh = [];
    for (const d of arr) {
      if (!d || typeof d !== "object") continue;
      const k = dkey(d);
      if (D.keys.has(k)) continue;
      D.keys.add(k);
      fresh.unshift(d);
    }
    if (!fresh.length) return;
    prependCapped($("dead-list"), D, fresh, deadCard, MAX_DEAD, dkey);
    deadStatus();
  }

  // ---------- Try ----------
  async function runTry() {
    const text = $("try-text").value, lang = $("try-lang").value, btn = $("try-run");
    setText("try-error", "");
    if (!text.trim()) { setText("try-error", "enter a text first"); return; }
    const body = { text };
    if (lang) body.lang = lang;
    btn.disabled = true;
    const r = await api("POST", "/api/v1/analyze", body);
    btn.disabled = false;
    if (r.ok && r.data && typeof r.data === "object") $("try-out").replaceChildren(resultCard(r.data, text));
    else { clear($("try-out")); setText("try-error", r.error || `error ${r.status}`); }
  }
  $("try-run").addEventListener("click", runTry);
  $("try-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runTry(); } });

  // ---------- Review ----------
  // cur: a /review/next answer {item, task, multi, labels, suggestion, margin}
  // hist: newest first [{id, task, kind: "answer"|"rejected"|"skipped", answer, changed, resp}]
  const V = { ents: [], entsTouched: false, task: "", cur: null, sel: new Set(), skip: new Map(), hist: [], reopen: null, busy: false, loaded: false, waiting: null, waitingAt: 0 };
  const revMsg = (s) => setText("review-msg", s);
  const focusReview = () => $("review-item").focus({ preventScroll: true });
  const skipList = (task) => V.skip.get(task) || [];
  function addSkip(task, id) {
    if (id == null || id === "") return;
    const l = skipList(task).filter((x) => x !== id);
    l.push(String(id));
    V.skip.set(task, l.slice(-MAX_SKIP));
  }
  function curLabels(cur) {
    if (Array.isArray(cur.labels) && cur.labels.length) return cur.labels.map(String);
    const def = S && S.tasks && S.tasks[cur.task];
    return (def && def.langs && cur.item && def.langs[cur.item.lang]) || [];
  }
  function taskKind(def) {
    const ml = def && def.multi_langs && typeof def.multi_langs === "object" ? def.multi_langs : null;
    if (!ml) return def && def.multi ? " (multi-label)" : "";
    const multi = Object.keys(ml).filter((l) => ml[l]).sort(), single = Object.keys(ml).filter((l) => !ml[l]).sort();
    if (!multi.length) return "";
    if (!single.length) return " (multi-label)";
    return ` (multi-label ${multi.join(", ")}; single-label ${single.join(", ")})`;
  }
  function curMulti(cur) {
    if (typeof cur.multi === "boolean") return cur.multi;
    const def = S && S.tasks && S.tasks[cur.task];
    return Boolean(def && def.multi);
  }
  const answerText = (h) => (h.kind !== "answer" ? h.kind : Array.isArray(h.answer) ? (h.answer.length ? h.answer.join(", ") : "(no label applies)") : String(h.answer));

  async function loadNext() {
    const task = V.task;
    V.loaded = true;
    if (!task) { V.cur = null; renderReview(); return; }
    V.busy = true; V.cur = null; V.reopen = null;
    renderReview("loading…");
    const skip = skipList(task);
    let url = "/api/v1/review/next?task=" + enc(task);
    if (skip.length) url += "&skip=" + skip.map(enc).join(",");
    const r = await api("GET", url);
    if (task !== V.task) return; // task changed meanwhile; that change loads its own item
    V.busy = false;
    if (!r.ok) { renderReview(); revMsg(r.error || `error ${r.status}`); return; }
    setCurrent(r.data && r.data.item ? r.data : null, null);
  }
  function setCurrent(resp, entry) {
    V.cur = resp ? Object.assign({}, resp, { task: resp.task || V.task }) : null;
    V.reopen = entry;
    V.sel = new Set();
    V.ents = resp && resp.item && Array.isArray(resp.item.entities)
      ? resp.item.entities.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end)).map((e) => ({ start: e.start, end: e.end, type: String(e.type) }))
      : [];
    V.entsTouched = false;
    if (V.cur && curMulti(V.cur)) {
      const pre = entry && entry.kind === "answer" && Array.isArray(entry.answer) ? entry.answer : (V.cur.suggestion && V.cur.suggestion.labels) || [];
      for (const l of pre) V.sel.add(String(l));
    }
    renderReview();
  }
  function renderReview(loadingText) {
    const cur = V.cur, meta = clear($("review-meta")), labelsBox = clear($("review-labels"));
    clear($("review-suggestion"));
    revMsg("");
    if (!cur) {
      entText("", [], $("review-text"));
      if (loadingText) meta.append(loadingText);
      else if (!V.task) meta.append("no task to review (waiting for state)");
      else meta.append(`nothing to review for task ${V.task} right now `,
        el("button", { type: "button", class: "link", text: "check again", on: { click: () => loadNext() } }));
    } else {
      const it = cur.item || {}, multi = curMulti(cur);
      meta.append(el("span", { class: "lang", text: it.lang || "?" }), " ", el("code", { text: it.id ?? "(no id)" }),
        ` · task ${cur.task} (${multi ? "multi-label" : "single-label"}) · margin ${fmtNum(cur.margin, 3)}`);
      entText(it.text, V.ents, $("review-text"));
      renderEnts(it);
      const sg = cur.suggestion || {};
      const sgl = Array.isArray(sg.labels) ? sg.labels.map(String) : sg.label != null ? [String(sg.label)] : [];
      $("review-suggestion").append("model suggests: ", sgl.length ? el("b", { text: sgl.join(", ") }) : el("i", { text: multi ? "no label applies" : "(none)" }));
      const out = taskOutputs(it)[cur.task] || {};
      const scores = out.scores || {};
      curLabels(cur).forEach((l, i) => {
        const on = multi && V.sel.has(l);
        labelsBox.appendChild(el("button", {
          type: "button", class: "review-label write" + (sgl.includes(l) ? " suggested" : "") + (on ? " selected" : ""),
          data: { label: l }, "aria-pressed": multi ? String(on) : null,
          on: { click: (e) => { pickLabel(l); if (e.detail > 0) focusReview(); } },
        }, i < 9 ? el("kbd", { text: String(i + 1) }) : null, el("span", { text: l }),
        isNum(scores[l]) ? el("span", { class: "muted small", text: " " + scores[l].toFixed(2) }) : null));
      });
    }
    const multi = cur ? curMulti(cur) : false;
    $("review-accept").dataset.off = cur ? "0" : "1";
    $("review-send").dataset.off = cur ? "0" : "1";
    $("review-send").hidden = !multi;
    $("review-reject").disabled = !cur;
    $("review-skip").disabled = !cur;
    $("review-undo").disabled = !V.hist.length;
    const h = V.reopen;
    setText("review-hint", h ? `Changing an earlier answer (was: ${answerText(h)}). A changed answer is sent again as a new correction; the earlier one is not withdrawn.` : "");
    applyWrite();
    renderHistory();
    renderWaiting();
  }
  function renderHistory() {
    const ol = clear($("review-history"));
    for (const h of V.hist) {
      ol.appendChild(el("li", null, el("button", {
        type: "button", class: "hist" + (h === V.reopen ? " cur" : ""), data: { id: h.id ?? "" }, title: "re-open to change",
        on: { click: (e) => { reopen(h); if (e.detail > 0) focusReview(); } },
      }, el("code", { text: h.id ?? "?" }), " ", el("span", { class: "muted", text: h.task }), " ",
      el("b", { class: h.kind === "answer" ? "" : "muted", text: answerText(h) }), h.changed ? el("span", { class: "muted", text: " (changed)" }) : null)));
    }
    if (!V.hist.length) ol.appendChild(el("li", { class: "muted", text: "no answers yet" }));
  }
  function renderWaiting() {
    if (V.waiting != null && Date.now() - V.waitingAt > 5000) V.waiting = null;
    const n = V.waiting != null ? V.waiting : S && S.feedback ? S.feedback.since_last_promotion : null;
    setText("review-waiting", `${isNum(n) ? n : 0} corrections waiting for the next round`);
    const ps = (S && Array.isArray(S.promotions)) ? S.promotions : [];
    const p = ps.find((x) => x.task === V.task) || ps[0];
    const rs = (S && Array.isArray(S.rounds)) ? S.rounds : [];
    const r = rs.find((x) => x.task === V.task);
    if (r) {
      setText("review-promo", `latest round of ${r.task} / ${r.lang}: ${r.decision}${r.version ? " " + r.version : ""} · ${r.reason || ""} · ${fmtTime(r.at)}`);
      return;
    }
    setText("review-promo", p ? `latest promotion: ${p.version || "?"}${p.parent ? " ← " + p.parent : ""} · ${fmtTime(p.created)}${p.metrics ? " · " + (typeof p.metrics === "string" ? p.metrics : JSON.stringify(p.metrics)) : ""}` : "no promotion yet");
  }
  function record(kind, answer) {
    const cur = V.cur, it = cur.item || {};
    if (V.reopen) {
      const h = V.reopen;
      h.changed = h.changed || h.kind !== kind || JSON.stringify(h.answer) !== JSON.stringify(answer);
      h.kind = kind; h.answer = answer;
    } else {
      V.hist.unshift({ id: it.id, task: cur.task, kind, answer, changed: false, resp: cur });
      V.hist.length = Math.min(V.hist.length, HIST_MAX);
    }
  }
  // Entity spans: select text in the post, then a type; the spans listed
  // (the model's, as corrected) go with the answer once changed.
  function renderEnts(it) {
    const box = clear($("review-ents"));
    if (typeof it.text !== "string") return;
    box.append("entities: ");
    if (!V.ents.length) box.append(el("i", { class: "muted", text: "none" }));
    const cps = Array.from(it.text);
    V.ents.slice().sort((a, b) => a.start - b.start).forEach((e) => {
      box.append(el("span", { class: "ent-item" }, entMark(cps.slice(e.start, e.end).join(""), e.type),
        el("button", { type: "button", class: "link ent-del", title: "remove", text: "×", data: { start: e.start },
          on: { click: () => { V.ents = V.ents.filter((x) => x !== e); V.entsTouched = true; entText(it.text, V.ents, $("review-text")); renderEnts(it); } } })), " ");
    });
    box.append(" · mark the selection as ");
    for (const t of ENT_TYPES) box.append(el("button", { type: "button", class: "mark-ent", data: { type: t }, text: t, on: { click: () => markSelection(t) } }), " ");
    if (V.entsTouched) box.append(el("span", { class: "muted", text: "(changed: sent with the answer)" }));
  }
  function markSelection(type) {
    const cur = V.cur, it = cur && cur.item;
    const box = $("review-text"), sel = window.getSelection();
    if (!it || typeof it.text !== "string" || !sel || sel.rangeCount === 0 || sel.isCollapsed) { revMsg("select a span of the post first"); return; }
    const rg = sel.getRangeAt(0);
    if (!box.contains(rg.startContainer) || !box.contains(rg.endContainer)) { revMsg("select a span of the post first"); return; }
    const runesTo = (node, off) => { const r = document.createRange(); r.setStart(box, 0); r.setEnd(node, off); return Array.from(r.toString()).length; };
    const cps = Array.from(it.text);
    let start = runesTo(rg.startContainer, rg.startOffset), end = runesTo(rg.endContainer, rg.endOffset);
    while (start < end && /\s/.test(cps[start])) start++;
    while (end > start && /\s/.test(cps[end - 1])) end--;
    if (end <= start || end > cps.length) { revMsg("select a span of the post first"); return; }
    V.ents = V.ents.filter((e) => e.end <= start || e.start >= end).concat([{ start, end, type }]);
    V.entsTouched = true;
    sel.removeAllRanges();
    revMsg("");
    entText(it.text, V.ents, box);
    renderEnts(it);
  }
  async function sendAnswer(answer) {
    const cur = V.cur;
    if (!cur || V.busy) return;
    if (!writeOK) { revMsg("writes are disabled: set http.token"); return; }
    const it = cur.item || {};
    const body = { id: it.id, text: it.text, lang: it.lang, task: cur.task };
    if (Array.isArray(answer)) body.labels = answer; else body.label = answer;
    if (V.entsTouched) body.entities = V.ents.map((e) => ({ start: e.start, end: e.end, type: e.type }));
    V.busy = true; revMsg("sending…");
    const r = await api("POST", "/api/v1/feedback", body);
    V.busy = false;
    if (!r.ok) { revMsg(writeError(r)); return; }
    revMsg("");
    if (r.data && isNum(r.data.waiting)) { V.waiting = r.data.waiting; V.waitingAt = Date.now(); }
    record("answer", answer);
    loadNext();
  }
  function accept() {
    const cur = V.cur;
    if (!cur || V.busy) return;
    const sg = cur.suggestion || {};
    if (curMulti(cur)) sendAnswer(Array.isArray(sg.labels) ? sg.labels.map(String) : []);
    else if (sg.label != null) sendAnswer(String(sg.label));
    else revMsg("no suggestion to accept: pick a label");
  }
  function dismiss(kind) { // "rejected" or "skipped": nothing is sent
    const cur = V.cur;
    if (!cur || V.busy) return;
    addSkip(cur.task, cur.item && cur.item.id);
    record(kind, null);
    loadNext();
  }
  function pickLabel(l) {
    const cur = V.cur;
    if (!cur || V.busy) return;
    if (!curMulti(cur)) { sendAnswer(l); return; }
    if (V.sel.has(l)) V.sel.delete(l); else V.sel.add(l);
    for (const b of document.querySelectorAll("#review-labels .review-label")) {
      const on = V.sel.has(b.dataset.label);
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", String(on));
    }
  }
  function pickIndex(i) { const cur = V.cur; if (!cur) return; const ls = curLabels(cur); if (i < ls.length) pickLabel(ls[i]); }
  function sendSelection() {
    const cur = V.cur;
    if (!cur || V.busy || !curMulti(cur)) return;
    sendAnswer(curLabels(cur).filter((l) => V.sel.has(l)));
  }
  function reopen(h) {
    if (V.busy || !h || !h.resp) return;
    if (h.task !== V.task) { V.task = h.task; $("review-task").value = h.task; }
    setCurrent(h.resp, h);
  }
  function undo() {
    if (V.busy) return;
    const i = V.reopen ? V.hist.indexOf(V.reopen) + 1 : 0;
    if (i < V.hist.length) reopen(V.hist[i]); else revMsg("nothing earlier to undo");
  }
  const clickAction = (id, fn) => $(id).addEventListener("click", (e) => { fn(); if (e.detail > 0) focusReview(); });
  clickAction("review-accept", accept);
  clickAction("review-send", sendSelection);
  clickAction("review-reject", () => dismiss("rejected"));
  clickAction("review-skip", () => dismiss("skipped"));
  clickAction("review-undo", undo);
  $("review-task").addEventListener("change", () => { V.task = $("review-task").value; loadNext(); focusReview(); });

  function isTextField(t) {
    if (!(t instanceof HTMLElement)) return false;
    if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
    return t.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(t.type);
  }
  document.addEventListener("keydown", (e) => {
    if (activeTab !== "review" || e.ctrlKey || e.metaKey || e.altKey || isTextField(e.target)) return;
    const k = e.key, t = e.target;
    const onReviewButton = t instanceof HTMLElement && t.tagName === "BUTTON" && t.closest("#review");
    if ((k === "Enter" || k === " ") && onReviewButton) return; // let the focused button activate
    let act = null;
    if (k === "a" || k === "A") act = accept;
    else if (k === "x" || k === "X") act = () => dismiss("rejected");
    else if (k === " " || k === "Spacebar") act = () => dismiss("skipped");
    else if (k === "Enter") act = sendSelection;
    else if (k === "Backspace") act = undo;
    else if (/^[1-9]$/.test(k)) act = () => pickIndex(Number(k) - 1);
    if (!act) return;
    e.preventDefault();
    if (k === " " || k === "Enter") focusReview(); // keep the keyup away from any focused button
    if (!e.repeat) act();
  });

  // ---------- Models ----------
  const effTask = (o) => (o.kind === "ner" ? "" : o.task || (S && S.route) || "");
  function modelsMsg(s, isErr) { const m = $("models-msg"); m.textContent = s; m.className = isErr ? "error" : "ok"; }
  async function loadModels() {
    const r = await api("GET", "/api/v1/models");
    if (!r.ok || !r.data) { modelsMsg(r.error || "could not load models", true); return; }
    renderModels(r.data);
  }
  async function modelAction(path, body) {
    modelsMsg("working…", false);
    const r = await api("POST", path, body);
    if (r.ok) modelsMsg((r.data && r.data.message) || "done", false);
    else modelsMsg(writeError(r), true);
    loadModels();
  }
  function renderModels(d) {
    const tb = clear($("models-table").tBodies[0]);
    const objs = (Array.isArray(d.objects) ? d.objects.slice() : []).sort((a, b) =>
      effTask(a).localeCompare(effTask(b)) || String(a.lang).localeCompare(String(b.lang)) ||
      String(a.kind).localeCompare(String(b.kind)) || (Number(b.seq) || 0) - (Number(a.seq) || 0));
    const live = new Set((Array.isArray(d.in_service) ? d.in_service : []).map((m) => m.version));
    let group = null;
    for (const o of objs) {
      const task = effTask(o), key = `${task}\u0000${o.lang}`;
      if (key !== group) {
        group = key;
        tb.appendChild(el("tr", { class: "group" }, el("td", { colspan: 9 },
          el("b", { text: task || "ner" }), " / ", el("b", { text: o.lang || "?" }), el("span", { class: "muted", text: " · " + (o.kind || "") })),
        // rollback exists for classifiers only (the server reads task "" as the route task)
        el("td", null, o.kind === "ner" ? el("span", { class: "muted small", text: "no rollback" }) : el("button", {
          type: "button", class: "write", title: `roll back ${task} / ${o.lang}`, disabled: !writeOK, text: "roll back",
          on: { click: () => modelAction("/api/v1/models/rollback", { task, lang: o.lang }) },
        }))));
      }
      const body = { version: o.version };
      if (o.kind !== "ner" && o.task) body.task = o.task;
      tb.appendChild(el("tr", { class: live.has(o.version) ? "live" : "" },
        el("td", { text: o.task || (o.kind === "ner" ? "(ner)" : "–") }), el("td", { text: o.lang || "" }), el("td", { text: o.kind || "" }),
        el("td", { text: o.seq ?? "" }), el("td", null, el("code", { text: o.version || "" }), live.has(o.version) ? el("span", { class: "chip", text: "in service" }) : null),
        el("td", null, el("code", { class: "muted", text: o.parent || "" })), el("td", { text: fmtTime(o.created) }),
        el("td", { class: "metrics", text: typeof o.metrics === "string" ? o.metrics : o.metrics ? JSON.stringify(o.metrics) : "" }),
        el("td", { text: o.bytes ?? "" }),
        el("td", null, el("button", {
          type: "button", class: "write", disabled: !writeOK, text: "promote", title: "promote " + (o.version || ""),
          on: { click: () => modelAction("/api/v1/models/promote", body) },
        }))));
    }
    if (!objs.length) tb.appendChild(el("tr", null, el("td", { colspan: 10, class: "muted", text: "no model objects in the bucket" })));
    fillInService($("models-in-service").tBodies[0], d.in_service);
  }
  $("models-refresh").addEventListener("click", loadModels);

  // ---------- state ----------
  function fillTaskSelects() {
    const tasks = Object.keys((S && S.tasks) || {}).sort();
    const sig = tasks.join("\u0000");
    if (sig === tasksSig) return;
    tasksSig = sig;
    const ft = $("f-task"), keep = ft.value;
    ft.replaceChildren(el("option", { value: "", text: "all" }), ...tasks.map((t) => el("option", { value: t, text: t })));
    ft.value = tasks.includes(keep) ? keep : "";
    fillLabelFilter();
    const rt = $("review-task");
    rt.replaceChildren(...tasks.map((t) => el("option", { value: t, text: t + taskKind(S.tasks[t]) })));
    if (!tasks.includes(V.task)) V.task = tasks.includes(S.route) ? S.route : tasks[0] || "";
    rt.value = V.task;
    if (activeTab === "review" && !V.busy) loadNext();
  }
  function onState(d) {
    if (!d || typeof d !== "object") return;
    S = d;
    setText("instance", d.instance || "");
    setText("scope-note", (d.scope ? d.scope + ": " : "") + (d.scope_note || ""));
    const w = d.write !== false;
    if (w !== writeOK) { writeOK = w; if (activeTab === "models") loadModels(); }
    applyWrite();
    fillTaskSelects();
    renderLive();
    renderWaiting();
    resultsStatus();
  }

  // ---------- SSE ----------
  let es = null;
  const parse = (s) => { try { return JSON.parse(s); } catch (_) { return null; } };
  function connect() {
    es = new EventSource("/api/v1/events");
    es.addEventListener("open", () => { setConn("ok"); fillResults(false); fillDead(); });
    es.addEventListener("error", () => {
      setConn("bad");
      if (es.readyState === EventSource.CLOSED) { es.close(); setTimeout(connect, 3000); } // the browser gave up: retry ourselves
    });
    es.addEventListener("state", (e) => onState(parse(e.data)));
    es.addEventListener("results", (e) => { const a = parse(e.data); if (Array.isArray(a)) onResults(a); });
    es.addEventListener("dead", (e) => { const a = parse(e.data); if (Array.isArray(a)) onDead(a); });
  }

  // ---------- start ----------
  const start = location.hash.slice(1);
  showTab(TABS.includes(start) ? start : "live", false);
  window.scrollTo(0, 0);
  resultsStatus();
  deadStatus();
  api("GET", "/api/v1/state").then((r) => { if (r.ok) onState(r.data); });
  connect();
})();
