// The collection page's management (its owner, an admin, or the browser holding an
// anonymous collection's management token, which the upload page keeps in localStorage
// as "pastefile:collection-token:<id>"): Edit (title, description, visibility, expiry,
// download limit, password) through PATCH with If-Match, taking a file out, and Delete,
// all through the collections API with the session's CSRF token.
(function () {
  "use strict";
  var page = document.querySelector(".collection[data-collection]");
  if (!page) return;
  var api = page.dataset.api;
  var key = "pastefile:collection-token:" + page.dataset.collection;
  var status = document.getElementById("collection-status");
  var form = document.getElementById("collection-edit");
  var editButton = page.querySelector('[data-action="edit"]');
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function token() {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  if (token()) {
    page.querySelectorAll("[data-anonymous]").forEach(function (button) { button.hidden = false; });
  }

  function headers(extra) {
    var all = extra || {};
    all.Accept = "application/json";
    if (csrfMeta) all["X-CSRF-Token"] = csrfMeta.content; // a session needs it on every change
    if (token()) all["X-Token"] = token();
    return all;
  }

  function call(method, url, extra, body) {
    var init = { method: method, headers: headers(extra), credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.ok ? response : failed(response);
    });
  }

  function failed(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      status.textContent = page.dataset.failed + " " + (body.detail || body.title || response.status);
      status.classList.add("bad");
      return Promise.reject(response.status);
    });
  }

  function ignore() { /* the status line says what went wrong */ }

  // The form as a PATCH body: null removes an expiry, a limit or the password.
  function changesOf(fields) {
    var changes = {
      title: fields.title.value,
      description: fields.description.value,
      visibility: fields.visibility.value,
    };
    if (fields.expires_in.value === "never") changes.expires_in = null;
    else if (fields.expires_in.value !== "keep") changes.expires_in = Number(fields.expires_in.value);
    var limit = fields.max_downloads.value.trim();
    changes.max_downloads = limit === "" ? null : Number(limit);
    if (fields.remove_password && fields.remove_password.checked) changes.password = null;
    else if (fields.password.value !== "") changes.password = fields.password.value;
    return changes;
  }

  function save(event) {
    event.preventDefault();
    var changes = changesOf(form.elements);
    call("GET", api)
      .then(function (response) {
        return call("PATCH", api, { "If-Match": response.headers.get("ETag") }, changes);
      })
      .then(function () { location.reload(); })
      .catch(ignore);
  }

  function toggleEdit(open) {
    form.hidden = !open;
    editButton.setAttribute("aria-expanded", String(open));
    if (open) form.elements.title.focus();
  }

  function deleteCollection() {
    if (!window.confirm(page.dataset.confirm)) return;
    call("DELETE", api)
      .then(function () {
        try { localStorage.removeItem(key); } catch (e) { /* storage off */ }
        page.querySelectorAll(".collection-actions, #collection-edit, #collection-files, #download-all")
          .forEach(function (part) { part.remove(); });
        status.classList.remove("bad");
        status.textContent = page.dataset.deleted;
      })
      .catch(ignore);
  }

  function takeOut(button) {
    if (!window.confirm(page.dataset.confirmRemove)) return;
    call("DELETE", api + "/files", {}, { files: [button.dataset.id] })
      .then(function () { location.reload(); }) // the count and the zip's size change too
      .catch(ignore);
  }

  page.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.dataset.action;
    if (action === "edit") toggleEdit(form.hidden);
    else if (action === "cancel-edit") toggleEdit(false);
    else if (action === "delete") deleteCollection();
    else if (action === "remove-file") takeOut(button);
  });
  form.addEventListener("submit", save);
})();
