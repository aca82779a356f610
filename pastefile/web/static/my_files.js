// My files: confirm bulk deletes, and follow the processing status of the listed files:
// live from the `file` events of /api/v1/events (the session authenticates the WebSocket),
// polling /me/files/status every 3 s when the socket cannot connect or closes.
(function () {
  "use strict";
  var bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (e) {
      if (!document.querySelector('input[name="ids"]:checked')) e.preventDefault();
    });
  }
  var polling = false;

  function show(id, state) {
    var li = document.querySelector('li[data-id="' + CSS.escape(id) + '"]');
    if (!li || !state) return;
    li.dataset.status = state;
    li.querySelector(".job-status").textContent = state;
  }

  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll("li[data-status]"), function (li) {
      return li.dataset.status !== "ready";
    });
  }

  function poll() {
    var rows = pending();
    if (!rows.length) { polling = false; return; }
    polling = true;
    var query = rows.map(function (li) { return "id=" + encodeURIComponent(li.dataset.id); }).join("&");
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
