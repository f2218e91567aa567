// chartcheck pages: sign-in, intake, work queue, and the reviewer view. Plain modules, no build step.
// Everything is built with DOM calls (never innerHTML with data), and every control is a real button, link or input.

const main = document.getElementById("main");
const live = document.getElementById("live");
const state = { me: null };

const STATUS = {
  met: { icon: "✓", label: "Met" },
  not_met: { icon: "✗", label: "Not met" },
  insufficient: { icon: "?", label: "Insufficient" },
  not_applicable: { icon: "–", label: "Not applicable" },
};
const OUTCOME = {
  meets_criteria: "Meets criteria",
  does_not_meet_criteria: "Does not meet criteria",
  insufficient_documentation: "Insufficient documentation",
};
const CASE_STATUS = { queued: "⏳ Queued", processing: "⚙ Processing", done: "✓ Done", failed: "✗ Failed" };
const QUALIFIER_WORDS = {
  negated: (cue) => `negated by “${cue}”`,
  family: (cue) => `family history: “${cue}”`,
  historical: (cue) => `historical: “${cue}”`,
  hypothetical: (cue) => `hypothetical: “${cue}”`,
  uncertain: (cue) => `uncertain: “${cue}”`,
};
const DUE_HOURS = { standard: 7 * 24, expedited: 72 };

// ---- small helpers ------------------------------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// replaceChildren, skipping the null / false of optional parts (replaceChildren would print them as text)
function fill(el, ...nodes) {
  el.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function announce(text) {
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 30);
}

function can(permission) {
  return state.me && state.me.permissions.includes(permission);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = {};
  const options = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && state.me && state.me.csrf_token) headers["X-CSRF-Token"] = state.me.csrf_token;
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await fetch(path, options);
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { detail: text }; }
  if (response.status === 401 && path !== "/api/v1/auth/login") { state.me = null; go("#/login"); }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

function ago(iso) {
  const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} d ago`;
}

function due(c) {
  const hours = c.expedited ? DUE_HOURS.expedited : DUE_HOURS.standard;
  return new Date(new Date(c.created_at).getTime() + hours * 3600 * 1000);
}

function timeLeft(c) {
  if (c.final_outcome) return "Decided";
  const ms = due(c).getTime() - Date.now();
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86400000);
  const hours = Math.floor((abs % 86400000) / 3600000);
  const span = days ? `${days} d ${hours} h` : `${hours} h ${Math.floor((abs % 3600000) / 60000)} min`;
  return ms >= 0 ? `${span} left` : `Overdue by ${span}`;
}

function statusChip(status) {
  const s = STATUS[status];
  return h("span", { class: `chip status-${status}` }, h("span", { "aria-hidden": "true" }, s.icon + " "), s.label);
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

let poller = null;
function stopPolling() { if (poller) { clearTimeout(poller); poller = null; } }

function show(...nodes) {
  stopPolling();
  fill(main, ...nodes);
}

// ---- frame ---------------------------------------------------------------------------------------------------------
function renderNav() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  fill(nav, );
  fill(who, );
  if (!state.me) return;
  const links = [];
  if (can("case:create")) links.push(["#/intake", "Intake"]);
  links.push(["#/queue", "Work queue"]);
  for (const [href, label] of links) {
    const current = location.hash.startsWith(href) ? "page" : null;
    nav.append(h("a", { href, "aria-current": current }, label));
  }
  who.append(`${state.me.name} (${state.me.role}) `,
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"));
}

async function signOut() {
  try { await api("POST", "/api/v1/auth/logout"); } catch { /* already signed out */ }
  state.me = null;
  go("#/login");
}

async function route() {
  const hash = location.hash || "#/";
  if (!state.me && hash !== "#/login") {
    try { state.me = await api("GET", "/api/v1/auth/me"); } catch { state.me = null; }
    if (!state.me) return go("#/login");
  }
  renderNav();
  const [, page, id] = hash.split("/");
  if (page === "login") return loginPage();
  if (page === "intake" && can("case:create")) return intakePage();
  if (page === "case" && id) return casePage(id);
  if (page === "queue") return queuePage();
  return go(can("case:create") && !can("case:read") ? "#/intake" : "#/queue");
}

// ---- sign-in -------------------------------------------------------------------------------------------------------
function loginPage() {
  const error = h("p", { id: "login-error", class: "error", role: "alert" });
  const form = h("form", { class: "card narrow", "aria-labelledby": "login-title", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    try {
      state.me = await api("POST", "/api/v1/auth/login", { username: data.get("username"), password: data.get("password") });
      go(can("case:create") && !can("case:read") ? "#/intake" : "#/queue");
    } catch (e) {
      error.textContent = e.message;
    }
  } },
    h("h1", { id: "login-title" }, "Sign in"),
    h("label", { for: "username" }, "User name"),
    h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  show(form);
  renderNav();
  form.querySelector("#username").focus();
}

// ---- intake --------------------------------------------------------------------------------------------------------
function intakePage() {
  const files = [];  // {file, row, progress, note, staged, error, pending}
  const list = h("ul", { id: "file-list", class: "files", "aria-label": "Files for this case" });
  const submit = h("button", { type: "submit", class: "primary", disabled: true }, "Submit case");
  const formError = h("p", { class: "error", role: "alert" });
  const caseBox = h("section", { id: "case-status", "aria-live": "polite" });

  function refresh() {
    const good = files.filter((f) => f.staged);
    submit.disabled = !good.length || files.some((f) => f.pending);
  }

  function addFile(file) {
    const progress = h("progress", { max: 100, value: 0, "aria-label": `Upload of ${file.name}` });
    const note = h("span", { class: "note" }, "Uploading…");
    const entry = { file, progress, note, pending: true, staged: null, error: null };
    const remove = h("button", { type: "button", class: "link", onclick: () => {
      files.splice(files.indexOf(entry), 1);
      row.remove();
      refresh();
    } }, "Remove", h("span", { class: "visually-hidden" }, ` ${file.name}`));
    const row = h("li", { class: "file" }, h("span", { class: "name" }, file.name),
      h("span", { class: "size" }, `${Math.max(1, Math.round(file.size / 1024))} KB`), progress, note, remove);
    entry.row = row;
    files.push(entry);
    list.append(row);
    refresh();
    const body = new FormData();
    body.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/uploads");
    xhr.setRequestHeader("X-CSRF-Token", state.me.csrf_token);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total; };
    xhr.onload = () => {
      entry.pending = false;
      progress.value = 100;
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch { answer = null; }
      if (xhr.status === 201) {
        entry.staged = answer;
        row.classList.add("ok");
        note.textContent = `✓ Ready: ${answer.pages} page${answer.pages === 1 ? "" : "s"}`;
      } else {
        const problem = answer && answer.errors ? answer.errors[0].message : (answer && answer.detail) || `HTTP ${xhr.status}`;
        entry.error = problem;
        row.classList.add("bad");
        note.textContent = `✗ Cannot be read: ${problem}`;
        announce(`${file.name} cannot be read: ${problem}`);
      }
      refresh();
    };
    xhr.onerror = () => {
      entry.pending = false;
      entry.error = "the upload was interrupted";
      row.classList.add("bad");
      note.textContent = "✗ The upload was interrupted; remove it and try again";
      refresh();
    };
    xhr.send(body);
  }

  const picker = h("input", { id: "files", type: "file", multiple: true, accept: ".pdf,.txt,application/pdf",
    onchange: () => { [...picker.files].forEach(addFile); picker.value = ""; } });
  const drop = h("div", { class: "drop", id: "drop",
    ondragover: (event) => { event.preventDefault(); drop.classList.add("over"); },
    ondragleave: () => drop.classList.remove("over"),
    ondrop: (event) => { event.preventDefault(); drop.classList.remove("over"); [...event.dataTransfer.files].forEach(addFile); } },
    h("p", {}, "Drop PDFs here, or "), h("label", { for: "files", class: "button" }, "Choose files…"), picker);

  const form = h("form", { class: "card", "aria-labelledby": "intake-title", onsubmit: async (event) => {
    event.preventDefault();
    formError.textContent = "";
    const data = new FormData(form);
    const body = new FormData();
    body.append("request_type", data.get("request_type"));
    body.append("nonformulary_exception", data.get("nonformulary_exception") ? "true" : "false");
    body.append("expedited", data.get("expedited") ? "true" : "false");
    if (data.get("external_reference")) body.append("external_reference", data.get("external_reference"));
    body.append("uploads", JSON.stringify(files.filter((f) => f.staged).map((f) => ({ sha256: f.staged.sha256, filename: f.staged.filename }))));
    submit.disabled = true;
    try {
      const created = await api("POST", "/api/v1/cases", body);
      announce(created.created ? "Case submitted" : "This case was already submitted");
      followCase(created.id, caseBox);
    } catch (e) {
      formError.textContent = e.message;
    } finally {
      refresh();
    }
  } },
    h("h1", { id: "intake-title" }, "New prior-authorization case"),
    h("fieldset", {}, h("legend", {}, "Request type"),
      h("label", {}, h("input", { type: "radio", name: "request_type", value: "initial", checked: true }), " Initial"),
      h("label", {}, h("input", { type: "radio", name: "request_type", value: "reauthorization" }), " Re-authorization")),
    h("label", {}, h("input", { type: "checkbox", name: "nonformulary_exception", value: "1" }), " Non-formulary exception review"),
    h("label", {}, h("input", { type: "checkbox", name: "expedited", value: "1" }), " Expedited (due in 72 hours)"),
    h("label", { for: "external_reference" }, "External reference (optional)"),
    h("input", { id: "external_reference", name: "external_reference", maxlength: 200 }),
    h("h2", {}, "Chart notes"), drop, list, formError, submit);
  show(form, caseBox);
}

function followCase(caseId, box, onDone = null) {
  const tick = async () => {
    let c;
    try { c = await api("GET", `/api/v1/cases/${caseId}`); } catch (e) { fill(box, h("p", { class: "error" }, e.message)); return; }
    const p = c.progress;
    const rows = c.documents.map((d) => h("li", { class: d.status === "failed" || d.status === "rejected" ? "bad" : "" },
      `${d.filename}: ${d.status}`, d.error ? ` — ${d.error}` : ""));
    fill(box, 
      h("h2", {}, `Case ${c.external_reference || c.id.slice(0, 8)}`),
      h("p", { class: "case-state" }, CASE_STATUS[c.status]),
      h("progress", { max: Math.max(p.pages_total, 1), value: p.pages_done, "aria-label": "Pages processed" }),
      h("p", { class: "pages" }, `${p.pages_done} of ${p.pages_total} pages processed`),
      h("ul", {}, rows),
      c.error ? h("p", { class: "error" }, c.error) : null,
      c.status === "done" && can("case:read") ? h("a", { href: `#/case/${c.id}` }, "Open the review") : null);
    if (c.status === "queued" || c.status === "processing") poller = setTimeout(tick, 700);
    else {
      announce(`Case ${c.status}`);
      if (c.status === "done" && onDone) onDone();
    }
  };
  stopPolling();
  tick();
}

// ---- work queue ----------------------------------------------------------------------------------------------------
function queuePage() {
  const status = h("select", { id: "filter-status", onchange: () => load() },
    h("option", { value: "" }, "Any status"), ...Object.entries(CASE_STATUS).map(([v, l]) => h("option", { value: v }, l)));
  const outcome = can("case:read") ? h("select", { id: "filter-outcome", onchange: () => load() },
    h("option", { value: "" }, "Any outcome"), ...Object.entries(OUTCOME).map(([v, l]) => h("option", { value: v }, l))) : null;
  const sort = h("select", { id: "sort", onchange: () => load() },
    h("option", { value: "due" }, "Due first"), h("option", { value: "-created" }, "Newest first"),
    h("option", { value: "created" }, "Oldest first"));
  const body = h("tbody");
  const count = h("p", { class: "count", "aria-live": "polite" });
  const table = h("table", { class: "queue" }, h("caption", { class: "visually-hidden" }, "Cases"),
    h("thead", {}, h("tr", {}, ...["Case", "Received", "Time left", "Priority", "Status", "Suggested outcome", "Safety flags"]
      .map((t) => h("th", { scope: "col" }, t)))), body);

  async function load() {
    const params = new URLSearchParams({ limit: "200", sort: sort.value === "due" ? "created" : sort.value });
    if (status.value) params.set("status", status.value);
    if (outcome && outcome.value) params.set("outcome", outcome.value);
    let list;
    try { list = await api("GET", `/api/v1/cases?${params}`); } catch (e) { count.textContent = e.message; return; }
    let items = list.items;
    if (sort.value === "due") items = [...items].sort((a, b) => due(a) - due(b));
    fill(body, ...items.map(queueRow));
    count.textContent = `${list.total} case${list.total === 1 ? "" : "s"}`;
    poller = setTimeout(load, 5000);
  }

  function queueRow(c) {
    const label = c.external_reference || c.id.slice(0, 8);
    const overdue = !c.final_outcome && due(c) < new Date();
    const flags = (c.safety_flags || []).map((f) => h("span", { class: "badge flag" }, h("span", { "aria-hidden": "true" }, "⚠ "), f.replaceAll("_", " ")));
    const priority = can("case:create")
      ? h("button", { type: "button", class: "link", "aria-pressed": c.expedited ? "true" : "false", onclick: async () => {
          await api("POST", `/api/v1/cases/${c.id}/expedite`, { expedited: !c.expedited });
          stopPolling(); load();
        } }, c.expedited ? "Expedited" : "Standard")
      : (c.expedited ? "Expedited" : "Standard");
    const open = can("case:read") ? h("a", { href: `#/case/${c.id}` }, label) : label;
    return h("tr", { class: overdue ? "overdue" : "" },
      h("th", { scope: "row" }, open),
      h("td", {}, h("time", { datetime: c.created_at }, ago(c.created_at))),
      h("td", {}, overdue ? h("strong", {}, "⚑ ", timeLeft(c)) : timeLeft(c)),
      h("td", {}, priority),
      h("td", {}, CASE_STATUS[c.status], c.status === "processing" ? ` (${c.progress.pages_done}/${c.progress.pages_total} pages)` : ""),
      h("td", {}, c.final_outcome ? `Final: ${OUTCOME[c.final_outcome]}` : (c.suggested_outcome ? OUTCOME[c.suggested_outcome] : "—")),
      h("td", {}, flags.length ? flags : "—"));
  }

  show(h("h1", {}, "Work queue"),
    h("div", { class: "filters" }, h("label", { for: "filter-status" }, "Status "), status,
      outcome ? [h("label", { for: "filter-outcome" }, " Outcome "), outcome] : null,
      h("label", { for: "sort" }, " Sort "), sort),
    count, table);
  load();
}

// ---- reviewer view -------------------------------------------------------------------------------------------------
async function casePage(caseId) {
  let c;
  try { c = await api("GET", `/api/v1/cases/${caseId}`); } catch (e) { return show(h("p", { class: "error" }, e.message)); }
  if (c.status !== "done" || !c.determination) {
    const box = h("section");
    show(h("h1", {}, "Case not ready yet"), box);
    followCase(caseId, box, can("case:read") ? () => casePage(caseId) : null);
    return;
  }
  new Review(c).render();
}

class Review {
  constructor(c) {
    this.c = c;
    this.d = c.determination;
    this.docIds = Object.fromEntries(c.documents.map((doc) => [doc.filename, doc.id]));
    this.pageInfo = Object.fromEntries(this.d.documents.map((doc) => [doc.name, doc.pages]));
    this.evidence = [];  // every cited span, with where it belongs
    this.d.criteria.forEach((cr) => cr.evidence.forEach((ev, i) => this.evidence.push({ id: `ev-${cr.id}-${i}`, owner: cr.id, ev })));
    this.d.safety_flags.forEach((fl) => fl.evidence.forEach((ev, i) => this.evidence.push({ id: `ev-flag-${fl.id}-${i}`, owner: fl.label, ev })));
    const first = this.d.documents.find((doc) => doc.pages.some((p) => p.source !== "plain")) || this.d.documents[0];
    this.view = { doc: first ? first.name : null, page: 1, width: 800 };
    this.selected = null;
  }

  render() {
    const flags = this.d.safety_flags.length ? h("section", { class: "flags", role: "alert", "aria-label": "Safety flags" },
      ...this.d.safety_flags.map((fl) => h("p", { class: "flag" }, h("strong", {}, "⚠ Safety flag: ", fl.label, ". "), fl.reason,
        ...fl.evidence.slice(0, 2).map((ev, i) => [" ", this.evidenceButton(`ev-flag-${fl.id}-${i}`, ev, true)])))) : null;
    this.checklist = h("section", { class: "checklist", "aria-labelledby": "criteria-title" });
    this.viewer = h("section", { class: "viewer", "aria-label": "Document pages" });
    show(h("div", { class: "review" },
      h("h1", {}, `Review: ${this.c.external_reference || this.c.id.slice(0, 8)}`),
      flags,
      h("div", { class: "columns" }, this.checklist, this.viewer)));
    this.renderChecklist();
    this.renderViewer();
  }

  decisionOf(criterionId) {
    return (this.c.review ? this.c.review.decisions : []).find((x) => x.criterion_id === criterionId) || null;
  }

  renderChecklist() {
    const d = this.d;
    const months = d.approval_months ? `, ${d.approval_months} months` : "";
    const items = d.criteria.map((cr) => this.criterionItem(cr));
    fill(this.checklist, 
      h("h2", { id: "criteria-title" }, "Criteria"),
      h("p", { class: "suggested" }, "Suggested outcome: ", h("strong", {}, OUTCOME[d.suggested_outcome] + months),
        ` · ${d.request.request_type}${d.request.nonformulary_exception ? ", non-formulary exception" : ""}`),
      h("ol", { class: "criteria" }, items),
      this.finalizeForm(),
      h("p", {}, h("a", { href: `/api/v1/cases/${this.c.id}/export.pdf`, id: "export", download: true }, "Export the review as PDF")));
  }

  criterionItem(cr) {
    const decision = this.decisionOf(cr.id);
    const finalized = Boolean(this.c.review && this.c.review.finalized_at);
    const evidence = cr.evidence.length
      ? h("ul", { class: "evidence" }, cr.evidence.map((ev, i) => h("li", {}, this.evidenceButton(`ev-${cr.id}-${i}`, ev))))
      : h("p", { class: "muted" }, "No evidence cited.");
    const error = h("p", { class: "error", role: "alert" });
    const decided = decision
      ? h("p", { class: "decided" }, h("span", { "aria-hidden": "true" }, "✔ "),
          `${decision.action === "accept" ? "Accepted" : "Overridden to"} `, statusChip(decision.status),
          ` by ${decision.decided_by}`, decision.reason ? ` — “${decision.reason}”` : "")
      : h("p", { class: "undecided" }, "Not decided yet");
    const statusSelect = h("select", { name: "status", "aria-label": `New status for ${cr.id}` },
      ...Object.entries(STATUS).map(([v, s]) => h("option", { value: v, selected: v !== cr.status && v === "insufficient" ? true : null }, s.label)));
    const reason = h("textarea", { name: "reason", rows: 2, required: true, "aria-label": `Reason for overriding ${cr.id}` });
    const override = h("details", { class: "override" }, h("summary", {}, "Override…"),
      h("form", { onsubmit: async (event) => {
        event.preventDefault();
        if (!reason.value.trim()) { error.textContent = "An override needs a reason."; reason.focus(); return; }
        await this.decide(cr.id, { action: "override", status: statusSelect.value, reason: reason.value }, error);
      } }, h("label", {}, "Status ", statusSelect), h("label", {}, "Reason ", reason),
        h("button", { type: "submit" }, "Save override")));
    const controls = finalized ? null : h("div", { class: "controls" },
      h("button", { type: "button", onclick: () => this.decide(cr.id, { action: "accept" }, error) },
        h("span", { "aria-hidden": "true" }, "✓ "), "Accept ", h("span", { class: "visually-hidden" }, cr.id)),
      can("case:decide") ? override : null);
    return h("li", { class: "criterion", id: `criterion-${cr.id}` },
      h("h3", {}, cr.question, " ", statusChip(cr.status), cr.conflict ? h("span", { class: "badge" }, "conflicting evidence") : null),
      h("p", { class: "criterion-id" }, cr.id),
      h("p", { class: "reason" }, cr.reason),
      evidence, decided, can("case:decide") ? controls : null, error);
  }

  evidenceButton(id, ev, compact = false) {
    const quals = (ev.qualifiers.cues || []).map((cue) => (QUALIFIER_WORDS[cue.qualifier] || ((t) => `${cue.qualifier}: “${t}”`))(cue.text));
    const active = ["negated", "family", "historical", "hypothetical", "uncertain"].filter((q) => ev.qualifiers[q]);
    for (const q of active) if (!quals.some((w) => w.startsWith(q === "family" ? "family" : q))) quals.push(q);
    const stance = ev.stance === "supports" ? "✓ supports" : "✗ contradicts";
    const text = ev.text.replace(/\s+/g, " ").trim();
    return h("button", { type: "button", class: `evidence-item ${ev.stance}`, id, "aria-pressed": "false",
      onclick: () => this.select(id, "list") },
      h("span", { class: "stance" }, stance, ev.requirement ? ` (${ev.requirement})` : ""),
      h("span", { class: "quote" }, compact && text.length > 90 ? `“${text.slice(0, 89)}…”` : `“${text}”`),
      h("span", { class: "where" }, `${ev.document} · page ${ev.page}${ev.section ? ` · ${ev.section}` : ""}`),
      quals.length ? h("span", { class: "quals" }, quals.join("; ")) : null);
  }

  async decide(criterionId, body, errorEl) {
    errorEl.textContent = "";
    try {
      this.c.review = await api("POST", `/api/v1/cases/${this.c.id}/criteria/${criterionId}/decision`, body);
      announce(`${criterionId}: decision saved`);
      this.renderChecklist();
      const next = document.querySelector(`#criterion-${criterionId} .decided`);
      if (next) next.scrollIntoView({ block: "nearest" });
    } catch (e) {
      errorEl.textContent = e.message;
    }
  }

  finalizeForm() {
    const review = this.c.review || {};
    if (review.finalized_at) {
      const months = review.final_approval_months ? `, ${review.final_approval_months} months` : "";
      return h("section", { class: "final card", "aria-label": "Final decision" },
        h("h2", {}, "Final decision"),
        h("p", {}, h("strong", {}, OUTCOME[review.final_outcome] + months), ` by ${review.finalized_by}`),
        review.final_reason ? h("p", {}, `Reason: ${review.final_reason}`) : null);
    }
    if (!can("case:decide")) return null;
    const undecided = this.d.criteria.filter((cr) => !this.decisionOf(cr.id)).map((cr) => cr.id);
    const outcome = h("select", { id: "final-outcome", name: "outcome" },
      ...Object.entries(OUTCOME).map(([v, l]) => h("option", { value: v, selected: v === this.d.suggested_outcome ? true : null }, l)));
    const months = h("input", { id: "final-months", name: "approval_months", type: "number", min: 1, max: 24,
      value: this.d.approval_months || 12 });
    const reason = h("textarea", { id: "final-reason", name: "reason", rows: 2 });
    const error = h("p", { class: "error", role: "alert" });
    return h("form", { class: "final card", "aria-labelledby": "final-title", onsubmit: async (event) => {
      event.preventDefault();
      const body = { outcome: outcome.value, reason: reason.value || null,
        approval_months: outcome.value === "meets_criteria" ? Number(months.value) : null };
      try {
        this.c.review = await api("POST", `/api/v1/cases/${this.c.id}/finalize`, body);
        announce("Case finalized");
        this.renderChecklist();
      } catch (e) {
        error.textContent = e.message;
      }
    } },
      h("h2", { id: "final-title" }, "Finalize"),
      undecided.length ? h("p", { class: "muted" }, `Still to decide: ${undecided.join(", ")}`) : null,
      h("label", { for: "final-outcome" }, "Outcome"), outcome,
      h("label", { for: "final-months" }, "Approval length (months, for an approval)"), months,
      h("label", { for: "final-reason" }, "Reason (needed when it differs from the suggestion)"), reason,
      error, h("button", { type: "submit", class: "primary", disabled: undecided.length ? true : null }, "Finalize case"));
  }

  // -- pages --
  pagesOf(name) { return this.pageInfo[name] || []; }

  renderViewer() {
    const { doc, page, width } = this.view;
    const pages = this.pagesOf(doc);
    const info = pages[page - 1];
    const docSelect = h("select", { id: "doc-select", "aria-label": "Document", onchange: () => { this.view = { ...this.view, doc: docSelect.value, page: 1 }; this.renderViewer(); } },
      ...this.d.documents.map((d) => h("option", { value: d.name, selected: d.name === doc ? true : null }, `${d.name} (${d.pages.length} p.)`)));
    const nav = h("div", { class: "pager" }, docSelect,
      h("button", { type: "button", disabled: page <= 1 ? true : null, onclick: () => this.goTo(doc, page - 1) }, "‹ Previous page"),
      h("span", { id: "page-label" }, `Page ${page} of ${pages.length}`),
      h("button", { type: "button", disabled: page >= pages.length ? true : null, onclick: () => this.goTo(doc, page + 1) }, "Next page ›"),
      h("button", { type: "button", "aria-label": "Zoom out", onclick: () => this.zoom(-1) }, "−"),
      h("span", { id: "zoom-label" }, `${Math.round((width / 800) * 100)}%`),
      h("button", { type: "button", "aria-label": "Zoom in", onclick: () => this.zoom(1) }, "+"));
    const thumbs = h("div", { class: "thumbs", role: "list", "aria-label": "Pages" },
      pages.map((p) => h("div", { role: "listitem" }, h("button", { type: "button", class: "thumb", "aria-current": p.number === page ? "page" : null,
        onclick: () => this.goTo(doc, p.number) },
        p.source === "plain" ? `Page ${p.number}` : h("img", { src: this.imageUrl(doc, p.number, 160), alt: `Page ${p.number}`, loading: "lazy" }),
        h("span", {}, `${p.number}`, this.evidenceOn(doc, p.number).length ? " •" : "")))));
    let sheet;
    if (!info) sheet = h("p", {}, "No pages.");
    else if (info.source === "plain") sheet = h("p", { class: "muted" }, "This document is a text file: it has no page image. Its evidence is quoted on the left.");
    else {
      const img = h("img", { src: this.imageUrl(doc, page, width), alt: `${doc}, page ${page}`, class: "page-image" });
      const marks = this.spansOn(doc, page).flatMap((span) => span.boxes.map((b, i) =>
        h("button", { type: "button", class: `hl ${span.stance}${span.ids.includes(this.selected) ? " selected" : ""}`,
          dataset: { ev: span.ids.join(" ") }, "aria-label": span.label, tabindex: i === 0 ? "0" : "-1",
          style: { left: `${(100 * b.x0) / info.width}%`, top: `${(100 * b.top) / info.height}%`,
            width: `${(100 * (b.x1 - b.x0)) / info.width}%`, height: `${(100 * (b.bottom - b.top)) / info.height}%` },
          onclick: () => this.select(this.nextIn(span.ids), "page") },
          i === 0 ? h("span", { class: "hl-tag", "aria-hidden": "true" }, span.stance === "supports" ? "✓" : "✗") : null)));
      sheet = h("div", { class: "sheet", id: "sheet", style: { width: `${width}px`, aspectRatio: `${info.width} / ${info.height}` } }, img, marks);
    }
    fill(this.viewer, nav, h("div", { class: "page-area" }, thumbs, h("div", { class: "page-scroll" }, sheet)),
      h("p", { class: "legend" }, h("span", { class: "key supports" }, "✓ supports"), " ", h("span", { class: "key contradicts" }, "✗ contradicts")));
  }

  // One highlight per cited span: the same sentence cited for several criteria is one mark that names them all;
  // clicking it again moves to the next of them.
  spansOn(doc, page) {
    const spans = new Map();
    for (const { id, owner, ev } of this.evidenceOn(doc, page)) {
      const key = `${ev.start}:${ev.end}`;
      if (!spans.has(key)) spans.set(key, { ids: [], owners: [], stances: new Set(), text: ev.text, boxes: ev.boxes.filter((b) => b.page === page) });
      const span = spans.get(key);
      span.ids.push(id);
      span.owners.push(owner);
      span.stances.add(ev.stance);
    }
    return [...spans.values()].map((span) => {
      const stance = span.stances.has("contradicts") ? "contradicts" : "supports";
      const words = [...span.stances].map((st) => (st === "supports" ? "Supports" : "Contradicts")).join(" and ");
      const label = `${words} ${[...new Set(span.owners)].join(", ")}: ${span.text.replace(/\s+/g, " ").slice(0, 80)}`;
      return { ...span, stance, label };
    });
  }

  nextIn(ids) {
    const at = ids.indexOf(this.selected);
    return at < 0 ? ids[0] : ids[(at + 1) % ids.length];
  }

  evidenceOn(doc, page) {
    return this.evidence.filter(({ ev }) => ev.document === doc && ev.boxes.some((b) => b.page === page));
  }

  imageUrl(doc, page, width) {
    return `/api/v1/cases/${this.c.id}/documents/${this.docIds[doc]}/pages/${page}/image?width=${width}`;
  }

  goTo(doc, page) {
    this.view = { ...this.view, doc, page };
    this.renderViewer();
    announce(`${doc}, page ${page}`);
  }

  zoom(step) {
    const widths = [800, 1200, 1600];
    const at = widths.indexOf(this.view.width);
    this.view.width = widths[Math.min(widths.length - 1, Math.max(0, at + step))];
    this.renderViewer();
  }

  select(id, from) {
    const item = this.evidence.find((e) => e.id === id);
    if (!item) return;
    this.selected = id;
    document.querySelectorAll(".evidence-item[aria-pressed='true']").forEach((b) => b.setAttribute("aria-pressed", "false"));
    const button = document.getElementById(id);
    if (button) button.setAttribute("aria-pressed", "true");
    const page = item.ev.page;
    if (this.view.doc !== item.ev.document || this.view.page !== page) {
      this.view = { ...this.view, doc: item.ev.document, page };
    }
    this.renderViewer();
    if (from === "list") {
      const mark = this.viewer.querySelector(`.hl[data-ev~="${id}"]`);
      if (mark) mark.scrollIntoView({ block: "center", inline: "nearest" });
      announce(`Evidence on ${item.ev.document}, page ${page}, highlighted`);
    } else if (button) {
      button.scrollIntoView({ block: "center" });
      button.focus();
      announce(`Selected evidence for ${item.owner}`);
    }
  }
}

window.addEventListener("hashchange", route);
route();
