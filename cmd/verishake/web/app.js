// The verishake explorer's page: plain DOM, no library, every request to
// the binary's own /api/. The page keeps only where it is: a path of step
// indices (exploring) or a trace name and step (a counterexample); the
// server takes the steps again on every request.
"use strict";

const ui = { mode: "explore", path: [], cex: null, step: 0, total: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
}

async function api(url, opts) {
  const res = await fetch(url, opts);
  const body = await res.json().catch(() => ({ error: res.status + " " + res.statusText }));
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

function showError(err) {
  const p = $("error");
  if (err) {
    p.textContent = String(err.message || err);
    p.hidden = false;
  } else {
    p.hidden = true;
    p.textContent = "";
  }
}

// mark gives a row the class of the change its key underwent.
function mark(row, key, changes) {
  row.setAttribute("data-key", key);
  const c = changes.get(key);
  if (c) row.classList.add(c);
}

function fillTable(id, rows) {
  const tb = $(id).querySelector("tbody");
  tb.replaceChildren(...rows);
}

function cells(...vals) {
  return vals.map((v) => el("td", { class: "mono" }, v === undefined || v === null ? "" : String(v)));
}

function render(st) {
  const changes = new Map(st.changes.map((c) => [c.key, c.what]));
  $("now").textContent = "t = " + st.now;
  fillTable("clients", st.clients.map((c) => {
    const tr = el("tr", {}, ...cells(c.regid, c.state, c.hs || "", c.tc, c.ts, c.tries, c.deadline, c.last_seq || ""));
    mark(tr, c.key, changes);
    return tr;
  }));
  fillTable("slots", st.slots.length ? st.slots.map((s) => {
    const tr = el("tr", {}, ...cells(s.regid, s.state, s.pending, s.current, s.last_seq || "", s.deadline));
    mark(tr, s.key, changes);
    return tr;
  }) : [el("tr", {}, el("td", { colSpan: 6, class: "muted" }, "no session kept"))]);
  $("flood").textContent = st.flood || "";
  fillTable("inflight", st.in_flight.length ? st.in_flight.map((m) => {
    const tr = el("tr", {}, ...cells(m.slot, m.text));
    mark(tr, m.key, changes);
    return tr;
  }) : [el("tr", {}, el("td", { colSpan: 2, class: "muted" }, "nothing in flight"))]);
  const k = $("knowledge");
  if (!st.adversary) {
    k.replaceChildren(el("p", { class: "muted" }, "no adversary in this model"));
  } else {
    const a = st.adversary;
    const toks = el("ul", { id: "tokens" }, ...a.tokens.map((t) => {
      const li = el("li", { class: "mono" }, t);
      mark(li, "token:" + t, changes);
      return li;
    }));
    const caps = el("ul", { id: "captured" }, ...a.captured.map((m) => {
      const li = el("li", { class: "mono" }, m);
      mark(li, "captured:" + m, changes);
      return li;
    }));
    k.replaceChildren(
      el("p", {}, "capabilities: " + a.caps + "; injections spent " + a.spent + (a.budget ? " of " + a.budget : "")),
      el("p", { class: "muted" }, a.note || ""),
      el("h3", {}, "tokens it knows"), toks,
      el("h3", {}, "messages it captured"), a.captured.length ? caps : el("p", { class: "muted" }, "none"));
  }
  fillTable("claims", st.claims.length ? st.claims.map((c, i) => {
    const tr = el("tr", {}, ...cells(c.step, c.text));
    mark(tr, "claim:" + i, changes);
    return tr;
  }) : [el("tr", {}, el("td", { colSpan: 2, class: "muted" }, "no claim yet"))]);
  fillTable("props", st.properties.map((p) => {
    const tr = el("tr", { "data-prop": p.id }, el("td", {}, p.id), el("td", { class: p.verdict }, p.verdict),
      el("td", {}, p.step ? String(p.step) : ""), el("td", {}, p.reason || ""));
    mark(tr, "prop:" + p.id, changes);
    return tr;
  }));
  const taken = st.coverage.filter((r) => r.count > 0).length;
  $("coverage-sum").textContent = "(" + taken + " of " + st.coverage.length + ")";
  fillTable("coverage", st.coverage.map((r) => {
    const tr = el("tr", { class: r.count ? "" : "never" }, ...cells(r.machine, r.from, r.event, r.to, r.count || ""));
    mark(tr, r.key, changes);
    return tr;
  }));
  $("changes").replaceChildren(...(st.changes.length ? st.changes.map((c) => el("li", { class: c.what }, c.what + ": " + c.text))
    : [el("li", { class: "muted" }, st.steps ? "nothing the page shows" : "the initial world")]));
  $("taken").replaceChildren(...st.taken.map((t) => {
    const li = el("li", { "data-n": t.n }, t.label);
    if (ui.mode === "cex" && t.n === ui.step) li.classList.add("current");
    if (ui.mode === "cex") li.onclick = () => openCex(ui.cex, t.n);
    return li;
  }));
  $("diagram").innerHTML = st.diagram;
  const cur = $("diagram").querySelector(".seq-row.current");
  if (cur) cur.scrollIntoView({ block: "nearest" });
}

async function loadState() {
  try {
    const st = await api("/api/state?path=" + ui.path.join(","));
    showError(null);
    render(st);
    $("depth").textContent = "(" + st.enabled.length + ", after " + ui.path.length + " transitions)";
    $("enabled").replaceChildren(...st.enabled.map((s) => el("li", {},
      el("button", { class: "step", type: "button", "data-index": s.index, "data-kind": s.kind, title: s.kind,
        onclick: () => { ui.path.push(s.index); go(); } }, s.label))));
    if (!st.enabled.length) $("enabled").append(el("li", { class: "muted" }, "no step enabled: the run is over"));
    $("back").disabled = ui.path.length === 0;
  } catch (err) {
    showError(err);
  }
}

async function openCex(name, step) {
  try {
    const q = step === undefined || step === null ? "" : "?step=" + step;
    const v = await api("/api/cex/" + name.split("/").map(encodeURIComponent).join("/") + q);
    showError(null);
    ui.mode = "cex"; ui.cex = name; ui.step = v.step; ui.total = v.total;
    setHash();
    $("mode").textContent = "counterexample";
    $("mode").classList.add("cex");
    $("explore-controls").hidden = true;
    $("cex-nav").hidden = false;
    $("cex-title").textContent = v.name + ": " + v.source + " trace of " + v.profile + (v.variant ? " + " + v.variant : "") +
      (v.target ? ", written for " + v.target : "") + ", " + v.total + " steps, stopped: " + v.stopped;
    $("cex-step").textContent = "step " + v.step + " of " + v.total;
    $("cex-verdicts").replaceChildren(...v.violations.map((x) =>
      el("li", { class: "violated" }, x.property + " violated at step " + x.step + ": " + x.reason)));
    $("cex-prev").disabled = v.step === 0;
    $("cex-first").disabled = v.step === 0;
    $("cex-next").disabled = v.step === v.total;
    $("cex-last").disabled = v.step === v.total;
    $("mermaid-box").hidden = !v.mermaid;
    $("mermaid").textContent = v.mermaid || "";
    render(v.state);
  } catch (err) {
    showError(err);
  }
}

function closeCex() {
  ui.mode = "explore"; ui.cex = null;
  $("mode").textContent = "explore";
  $("mode").classList.remove("cex");
  $("explore-controls").hidden = false;
  $("cex-nav").hidden = true;
  $("mermaid-box").hidden = true;
  go();
}

function setHash() {
  const h = ui.mode === "cex" ? "#cex=" + encodeURIComponent(ui.cex) + "&step=" + ui.step : "#path=" + ui.path.join(",");
  if (location.hash !== h) history.replaceState(null, "", h);
}

function go() {
  setHash();
  loadState();
}

async function loadList() {
  try {
    const list = await api("/api/cex");
    const sel = $("cex-list");
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "" }, list.length ? "choose a trace…" : "no trace in the directory"),
      ...list.map((c) => el("option", { value: c.name }, c.name)));
    sel.value = keep;
  } catch (err) {
    showError(err);
  }
}

async function upload(file) {
  try {
    const up = await api("/api/cex", { method: "POST", body: await file.text() });
    await loadList();
    $("cex-list").value = up.name;
    openCex(up.name, 0);
  } catch (err) {
    showError(err);
  }
}

async function spaceCoverage() {
  const out = $("coverage-space-out");
  out.replaceChildren(el("p", { class: "muted" }, "walking the whole state space…"));
  $("coverage-space").disabled = true;
  try {
    const c = await api("/api/coverage");
    const never = c.rows.never_taken.map((r) => el("li", { class: "mono" }, r.machine + " " + r.from + " --" + r.event + "--> " + r.to));
    const kids = [
      el("p", {}, "The whole space: " + c.states + " states; " + c.rows.taken + " of " + c.rows.total + " rows taken."),
      el("p", {}, never.length ? "Rows no transition takes:" : "Every row is taken."),
      el("ul", { id: "never-taken" }, ...never),
    ];
    if (c.step_kinds_never_taken.length) kids.push(el("p", {}, "Step kinds never taken: " + c.step_kinds_never_taken.join(", ")));
    if (c.random) {
      kids.push(el("p", { id: "random-walks" }, c.random.walks + " random walks reach " + c.random.states + " of the " + c.states +
        " states (" + c.random.percent.toFixed(1) + "%) and take " + c.random.rows.taken + " of the " + c.random.rows.total + " rows."));
    }
    out.replaceChildren(...kids);
  } catch (err) {
    out.replaceChildren();
    showError(err);
  } finally {
    $("coverage-space").disabled = false;
  }
}

async function init() {
  $("coverage-space").onclick = spaceCoverage;
  $("back").onclick = () => { ui.path.pop(); go(); };
  $("reset").onclick = () => { ui.path = []; go(); };
  $("cex-open").onclick = () => { const n = $("cex-list").value; if (n) openCex(n, 0); };
  $("cex-first").onclick = () => openCex(ui.cex, 0);
  $("cex-prev").onclick = () => openCex(ui.cex, Math.max(0, ui.step - 1));
  $("cex-next").onclick = () => openCex(ui.cex, Math.min(ui.total, ui.step + 1));
  $("cex-last").onclick = () => openCex(ui.cex, ui.total);
  $("cex-close").onclick = closeCex;
  $("cex-upload").onchange = (e) => { if (e.target.files.length) upload(e.target.files[0]); };
  document.addEventListener("keydown", (e) => {
    if (ui.mode !== "cex" || e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight" && ui.step < ui.total) openCex(ui.cex, ui.step + 1);
    if (e.key === "ArrowLeft" && ui.step > 0) openCex(ui.cex, ui.step - 1);
  });
  try {
    const m = await api("/api/model");
    const b = m.bounds;
    $("model").textContent = m.label + ": " + b.clients + " client(s) × " + b.sessions + " session(s), losses " + b.losses +
      ", dups " + b.dups + ", injects " + b.injects + ", retries ≤ " + b.retries + ", commands " + b.commands + ", adversary " + m.adversary;
  } catch (err) {
    showError(err);
  }
  await loadList();
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("cex")) {
    openCex(h.get("cex"), Number(h.get("step") || 0));
    return;
  }
  ui.path = (h.get("path") || "").split(",").filter((s) => s !== "").map(Number);
  go();
}

init();
