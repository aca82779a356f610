// My files: a selection that survives paging (kept in sessionStorage), select-all with the
// sticky bulk bar's count, the edit drawer (Escape closes it), and the processing status of
// the listed files: live from the `file` events of /api/v1/events (the session authenticates
// the WebSocket), polling /me/files/status every 3 s when the socket cannot connect.
(function () {
  "use strict";
  var KEY = "pastefile:selected";
  var bulk = document.getElementById("bulk");

  function stored() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(ids) { sessionStorage.setItem(KEY, JSON.stringify(ids)); }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"][form="bulk"]')); }

  function render() {
    var ids = stored(), count = document.getElementById("selected-count");
    var limit = Number(bulk.dataset.limit) || 100;
    count.textContent = ids.length ? count.dataset.some.replace("{n}", ids.length) : count.dataset.none;
    document.getElementById("bulk-delete").disabled = !ids.length || ids.length > limit;
    document.getElementById("clear-selection").hidden = !ids.length;
    bulk.classList.toggle("active", ids.length > 0);
    var all = boxes();
    var picked = all.filter(function (b) { return b.checked; }).length;
    var selectAll = document.getElementById("select-all");
    selectAll.checked = all.length > 0 && picked === all.length;
    selectAll.indeterminate = picked > 0 && picked < all.length;
    all.forEach(function (b) { b.closest(".file").classList.toggle("picked", b.checked); });
  }

  function pick(box) {
    var ids = stored().filter(function (id) { return id !== box.value; });
    if (box.checked) ids.push(box.value);
    store(ids);
  }

  if (bulk) {
    var ids = stored();
    boxes().forEach(function (b) { b.checked = ids.indexOf(b.value) >= 0; });
    document.addEventListener("change", function (event) {
      if (event.target.id === "select-all") {
        boxes().forEach(function (b) { b.checked = event.target.checked; pick(b); });
      } else if (event.target.name === "ids" && event.target.form === bulk) {
        pick(event.target);
      } else return;
      render();
    });
    document.getElementById("clear-selection").addEventListener("click", function () {
      store([]);
      boxes().forEach(function (b) { b.checked = false; });
      render();
    });
    bulk.addEventListener("submit", function () {
      // Files picked on other pages travel as hidden fields; this page's boxes send themselves.
      var here = boxes().map(function (b) { return b.value; });
      stored().forEach(function (id) {
        if (here.indexOf(id) >= 0) return;
        var field = document.createElement("input");
        field.type = "hidden"; field.name = "ids"; field.value = id;
        bulk.appendChild(field);
      });
      store([]);
    });
    render();
  }

  // --- the edit drawer ----------------------------------------------------------------
  var drawer = document.getElementById("drawer");
  if (drawer) {
    drawer.querySelector("input:not([type=hidden]), select").focus();
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") location.href = document.getElementById("drawer-close").href;
    });
  }

  // --- processing status --------------------------------------------------------------
  var polling = false;

  function show(id, state) {
    var row = document.querySelector('.file[data-id="' + CSS.escape(id) + '"]');
    if (!row || !state) return;
    row.dataset.status = state;
    row.querySelector(".job-status").textContent = state;
  }

  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll(".file[data-status]"), function (row) {
      return row.dataset.status !== "ready";
    });
  }

  function poll() {
    var rows = pending();
    if (!rows.length) { polling = false; return; }
    polling = true;
    var query = rows.map(function (row) { return "id=" + encodeURIComponent(row.dataset.id); }).join("&");
    fetch("/me/files/status?" + query, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (states) {
        Object.keys(states).forEach(function (id) { show(id, states[id]); });
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }

  function fallback() { if (!polling) poll(); }

  function listen() {
    if (!pending().length || !window.WebSocket) { fallback(); return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + location.host + "/api/v1/events"); } catch (e) { fallback(); return; }
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "file" && event.file) show(event.file.id, event.file.status);
    };
    socket.onerror = fallback;
    socket.onclose = fallback;
  }
  listen();
})();

// Collections as folders: drag a file tile onto one to add the file to it
// (POST /api/v1/collections/<id>/files; the session and its CSRF token authenticate).
(function () {
  "use strict";
  var folders = document.querySelectorAll(".folder[data-id]");
  if (!folders.length) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("folder-status");
  document.querySelectorAll(".file[draggable]").forEach(function (tile) {
    tile.addEventListener("dragstart", function (e) {
      e.dataTransfer.setData("application/x-pastefile-id", tile.dataset.id);
      e.dataTransfer.effectAllowed = "copy";
    });
  });
  Array.prototype.forEach.call(folders, function (folder) {
    folder.addEventListener("dragover", function (e) {
      if (Array.prototype.indexOf.call(e.dataTransfer.types, "application/x-pastefile-id") < 0) return;
      e.preventDefault();
      folder.classList.add("drop-target");
    });
    folder.addEventListener("dragleave", function () { folder.classList.remove("drop-target"); });
    folder.addEventListener("drop", function (e) {
      e.preventDefault();
      folder.classList.remove("drop-target");
      var id = e.dataTransfer.getData("application/x-pastefile-id");
      if (!id) return;
      fetch("/api/v1/collections/" + encodeURIComponent(folder.dataset.id) + "/files", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ files: [id] })
      }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (body) {
          var count = folder.querySelector(".folder-count");
          if (count) count.textContent = count.textContent.replace(/\d+/, String(body.files.length));
          status.textContent = folder.dataset.added;
        })
        .catch(function () { status.textContent = folder.dataset.failed; });
    });
  });
})();
