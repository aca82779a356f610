// The job console: live over the WebSocket, polling every few seconds without it.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const jobs = new Map();
  let socket = null;
  let pollTimer = null;
  const state = () => document.getElementById("job-state");
  const filters = () => document.getElementById("job-filters");
  // The page's words, translated by the server (jobs.html).
  const say = () => document.getElementById("job-messages").dataset;

  function token() { return sessionStorage.getItem("pastefile-token") || ""; }

  function headers() {
    const csrf = document.querySelector('meta[name="csrf-token"]');
    const h = { "Accept": "application/json", "X-CSRF-Token": csrf ? csrf.content : "" };
    if (token()) h["Authorization"] = "Bearer " + token();
    return h;
  }

  function query() {
    const form = new FormData(filters());
    const params = new URLSearchParams();
    for (const name of ["status", "kind"]) if (form.get(name)) params.set(name, form.get(name));
    return params;
  }

  async function load() {
    const response = await fetch("/api/v1/jobs?" + query(), { headers: headers(), credentials: "same-origin" });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ detail: response.statusText }));
      state().textContent = problem.detail || say().failedLoad;
      return;
    }
    jobs.clear();
    for (const job of await response.json()) jobs.set(job.id, job);
    render();
  }

  function cell(text) { const td = document.createElement("td"); td.textContent = text ?? ""; return td; }

  function actions(job) {
    const td = document.createElement("td");
    const verb = ["queued", "running"].includes(job.status) ? "cancel" : (["failed", "cancelled"].includes(job.status) ? "retry" : null);
    if (!verb) return td;
    const button = document.createElement("button");
    button.textContent = say()[verb];
    button.addEventListener("click", () => act(job.id, verb));
    td.appendChild(button);
    return td;
  }

  function row(job) {
    const tr = document.createElement("tr");
    tr.className = "job-" + job.status;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = job.progress; bar.title = job.message;
    const progress = document.createElement("td"); progress.appendChild(bar);
    progress.append(" " + (job.message || ""));
    tr.append(cell(job.id), cell(job.kind), cell(job.status), progress, cell(job.file),
      cell(job.attempts + "/" + job.max_attempts), cell(job.error), actions(job));
    return tr;
  }

  function render() {
    const body = document.querySelector("#job-table tbody");
    const wanted = query();
    const shown = [...jobs.values()]
      .filter(j => (!wanted.get("status") || j.status === wanted.get("status")) && (!wanted.get("kind") || j.kind === wanted.get("kind")))
      .sort((a, b) => b.id - a.id);
    body.replaceChildren(...shown.map(row));
    state().textContent = say().count.replace("{n}", shown.length) + " · " + (socket && socket.readyState === 1 ? say().live : say().polling);
  }

  async function act(id, verb) {
    const response = await fetch(`/api/v1/jobs/${id}/${verb}`, { method: "POST", headers: headers(), credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) { state().textContent = body.detail || say().failedAction; return; }
    jobs.set(body.id, body);
    render();
  }

  function poll() {
    if (pollTimer) return;
    pollTimer = setInterval(load, POLL_MS);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const suffix = token() ? "?access_token=" + encodeURIComponent(token()) : "";
    try { socket = new WebSocket(`${scheme}//${location.host}/api/v1/events${suffix}`); } catch (e) { poll(); return; }
    socket.onopen = () => { clearInterval(pollTimer); pollTimer = null; render(); };
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type !== "job") return;
      const known = jobs.get(event.job.id) || {};
      jobs.set(event.job.id, { ...event.job, file: event.job.file || known.file });
      render();
    };
    socket.onclose = () => { socket = null; poll(); render(); setTimeout(connect, 10000); };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = filters();
    // A signed-in visitor has no token field: the session authenticates the API.
    if (form.token) form.token.value = token();
    else sessionStorage.removeItem("pastefile-token");
    form.addEventListener("change", () => {
      if (form.token) sessionStorage.setItem("pastefile-token", form.token.value.trim());
      load();
    });
    load().then(connect);
  });
})();
