// Copy buttons (the file card and the upload page's results): the button itself says
// "Copied" for two seconds. The card's actions: click-to-zoom on a photo, and Edit and
// Delete through the files API (the session's CSRF token, or the management token an
// anonymous upload left in this browser's localStorage or in a "#manage=" link). Edit
// changes the name, visibility, expiry, download limit and password.
(function () {
  "use strict";
  var FEEDBACK_MS = 2000;

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    return Promise.resolve();
  }

  function copied(button) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = button.dataset.copied || "✓";
    button.classList.add("done");
    var status = document.querySelector(".copied");
    if (status) status.textContent = button.textContent;
    clearTimeout(button.copiedTimer);
    button.copiedTimer = setTimeout(function () {
      button.textContent = button.dataset.label;
      button.classList.remove("done");
    }, FEEDBACK_MS);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button || !button.dataset.copy) return;
    copyText(button.dataset.copy).then(function () { copied(button); });
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("snippet")) {
      event.target.setSelectionRange(0, event.target.value.length);
    }
  });

  // --- zoom ---------------------------------------------------------------------------
  function closeZoom(box, opener) {
    box.remove();
    document.body.classList.remove("zoomed");
    opener.focus();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("a.zoom");
    if (!opener || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    var box = document.createElement("div");
    box.className = "lightbox";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", opener.getAttribute("aria-label") || "");
    box.tabIndex = -1;
    var image = document.createElement("img");
    image.src = opener.dataset.full;
    image.alt = opener.querySelector("img").alt;
    box.appendChild(image);
    box.addEventListener("click", function () { closeZoom(box, opener); });
    box.addEventListener("keydown", function (e) { if (e.key === "Escape") closeZoom(box, opener); });
    document.body.appendChild(box);
    document.body.classList.add("zoomed");
    box.focus();
  });

  // --- managing the file ----------------------------------------------------------------
  var card = document.querySelector(".card[data-card]");
  if (!card) return;
  var id = card.dataset.card;
  var key = "pastefile:token:" + id;
  var actions = card.querySelector(".actions");
  var cardStatus = card.querySelector(".card-status");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function stored() {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  // A delete link (/p/<id>#manage=<token>): keep the token here, take it off the address bar.
  var anonymous = actions.querySelectorAll("[data-anonymous]");
  function takeLink() {
    var fromLink = /^#manage=([^&]+)$/.exec(location.hash);
    if (fromLink) {
      try { localStorage.setItem(key, decodeURIComponent(fromLink[1])); } catch (e) { /* off */ }
      history.replaceState(history.state, "", location.pathname + location.search);
    }
    if (stored()) anonymous.forEach(function (button) { button.hidden = false; });
  }
  takeLink();
  window.addEventListener("hashchange", takeLink);

  function headers(extra) {
    var all = extra || {};
    // A signed-in viewer's session needs its CSRF token even when a stored token decides.
    if (csrfMeta) all["X-CSRF-Token"] = csrfMeta.content;
    if (stored()) all["X-Token"] = stored();
    return all;
  }

  function problem(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      var detail = body.detail || body.title || String(response.status);
      cardStatus.textContent = actions.dataset.failed + " " + detail;
      cardStatus.classList.add("bad");
      return Promise.reject(response.status);
    });
  }

  function remove() {
    if (!window.confirm(actions.dataset.confirm)) return;
    fetch(card.dataset.api, { method: "DELETE", headers: headers(), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) return problem(response);
        try { localStorage.removeItem(key); } catch (e) { /* off */ }
        card.querySelectorAll(".actions, .edit-form, .card-body").forEach(function (part) {
          part.remove();
        });
        cardStatus.classList.remove("bad");
        cardStatus.textContent = actions.dataset.deleted;
        return null;
      })
      .catch(function () { /* shown by problem() */ });
  }

  var form = card.querySelector(".edit-form");
  var editButton = actions.querySelector('[data-action="edit"]');

  function toggleEdit(open) {
    form.hidden = !open;
    editButton.setAttribute("aria-expanded", String(open));
    if (open) form.elements.filename.focus();
  }

  // The form as a PATCH body: only what it changes; null removes an expiry, limit or password.
  function changesOf(fields) {
    var changes = { filename: fields.filename.value, visibility: fields.visibility.value };
    var expiry = fields.expires_in.value;
    if (expiry === "never") changes.expires_in = null;
    else if (expiry !== "keep") changes.expires_in = Number(expiry);
    var limit = fields.max_downloads.value.trim();
    changes.max_downloads = limit === "" ? null : Number(limit);
    if (fields.remove_password && fields.remove_password.checked) changes.password = null;
    else if (fields.password.value !== "") changes.password = fields.password.value;
    return changes;
  }

  function save(event) {
    event.preventDefault();
    var changes = changesOf(form.elements);
    fetch(card.dataset.api, { headers: headers(), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.headers.get("ETag") : problem(response); })
      .then(function (etag) {
        return fetch(card.dataset.api, {
          method: "PATCH",
          credentials: "same-origin",
          headers: headers({ "If-Match": etag, "Content-Type": "application/json" }),
          body: JSON.stringify(changes),
        });
      })
      .then(function (response) { if (response.ok) location.reload(); else problem(response); })
      .catch(function () { /* shown by problem() */ });
  }

  actions.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "delete") remove();
    if (button.dataset.action === "edit") toggleEdit(form.hidden);
  });
  if (form) {
    form.addEventListener("submit", save);
    form.querySelector('[data-action="cancel-edit"]').addEventListener("click", function () {
      toggleEdit(false);
    });
  }
})();
