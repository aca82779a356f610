// The upload page: drag-and-drop, the file picker, clipboard paste; one progress row per
// file with speed, time left and a cancel button; then one compact result row per file
// (the server's _result_row.html) and "Copy all links". An anonymous upload's management
// token becomes a delete link, shown once and kept in localStorage (card.js reads it).
// Only a single-file upload moves the address bar, so Back keeps a batch.
// Files over the threshold go through tus (/api/v1/uploads) when the server offers it.
// Several files chosen at once with "One link for all" ticked go into a new collection
// (POST /api/v1/collections first, then each upload names it): one link, one zip.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var queue = document.getElementById("queue");
  var results = document.getElementById("results");
  var resultList = document.getElementById("result-list");
  var copyAll = document.getElementById("copy-all");
  var batch = 0;
  var status = document.getElementById("upload-status");
  var msg = document.getElementById("messages").dataset;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var CHUNK = 4 * 1024 * 1024;
  var oneLink = document.getElementById("one-link");
  var into = null;  // the collection this batch goes into: {id, token, url}

  input.required = false;

  var human = window.pastefile.size;  // static/ui.js: the one size format of every page

  function duration(seconds) {
    if (!isFinite(seconds)) return "…";
    if (seconds < 60) return Math.ceil(seconds) + " s";
    return Math.floor(seconds / 60) + " min " + Math.ceil(seconds % 60) + " s";
  }

  function option(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }

  // A readable sentence from an RFC 9457 problem+json body: for the problems a user can
  // meet, our own words alone (the server's detail is written for developers); for the
  // rest, its title and detail.
  function problemText(xhr) {
    var body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    var known = { too_large: msg.tooLarge, unsupported_type: msg.type, quota_exceeded: msg.quota };
    if (xhr.status === 429) return msg.rate;
    if (xhr.status === 413 || known[body.code]) return known[body.code] || msg.tooLarge;
    var text = body.title || msg.failed + " (" + xhr.status + ")";
    return body.detail ? text + ": " + body.detail : text;
  }

  function makeRow(file) {
    var li = document.createElement("li");
    li.className = "item";
    var name = document.createElement("span");
    name.className = "item-name";
    name.textContent = file.name + " · " + human(file.size);
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var info = document.createElement("span");
    info.className = "item-info";
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.className = "cancel"; cancel.textContent = msg.cancel;
    cancel.setAttribute("aria-label", msg.cancel + " " + file.name);
    li.append(name, bar, info, cancel);
    queue.appendChild(li);
    makeRow.count = (makeRow.count || 0) + 1;
    return { li: li, bar: bar, info: info, cancel: cancel, started: Date.now(), order: makeRow.count };
  }

  function progress(row, sent, total) {
    var elapsed = (Date.now() - row.started) / 1000 || 0.001;
    var speed = sent / elapsed;
    row.bar.value = total ? (sent / total) * 100 : 0;
    row.info.textContent = Math.floor(row.bar.value) + "% · " + human(speed) + "/s · " +
      msg.left.replace("{t}", duration((total - sent) / speed));  // word order per language
  }

  function fail(row, text) {
    row.bar.value = 0;  // nothing was stored: the bar starts over, and turns red (CSS)
    row.li.classList.add("failed");
    row.info.textContent = text;
    row.info.setAttribute("role", "alert");
    row.cancel.remove();
  }

  function finish(row, id, file, token) {
    row.bar.value = 100;
    row.li.classList.add("done");
    row.info.textContent = msg.done;
    row.cancel.remove();
    status.textContent = msg.done + ": " + file.name;
    if (token) remember(id, token);
    var headers = {};
    if (option("password")) headers["X-File-Password"] = option("password");
    fetch("/p/" + encodeURIComponent(id) + "/row", { headers: headers, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { showResult(row, id, file, html, token); })
      .catch(function () { row.info.textContent = msg.done + " · /p/" + id; });
  }

  function remember(id, token) {
    try { localStorage.setItem("pastefile:token:" + id, token); } catch (e) { /* storage off */ }
  }

  function showResult(row, id, file, html, token) {
    var holder = document.createElement("ul");
    holder.innerHTML = html;
    var result = holder.firstElementChild;
    if (token) result.appendChild(deleteLink(result, file, token));
    row.li.remove();
    // In the order the files were given, whichever finished first.
    result.dataset.order = row.order;
    var after = Array.prototype.find.call(resultList.children, function (li) {
      return Number(li.dataset.order) > row.order;
    });
    resultList.insertBefore(result, after || null);
    results.hidden = false;
    // Bring the list up as it grows: on a phone it would start below the fold.
    results.scrollIntoView({ block: "start" });
    copyAll.dataset.copy = Array.prototype.map.call(resultList.children, function (li) {
      return li.dataset.short;
    }).join("\n");
    if (batch === 1) history.pushState({ id: id }, "", "/p/" + id);
  }

  // The token never reaches the server in a URL: it travels in the fragment.
  function deleteLink(result, file, token) {
    var link = result.dataset.page + "#manage=" + encodeURIComponent(token);
    var box = document.createElement("div");
    box.className = "result-manage";
    var label = document.createElement("label");
    var text = document.createElement("span");
    text.textContent = msg.deleteLink;
    var field = document.createElement("input");
    field.readOnly = true; field.className = "snippet delete-link"; field.value = link;
    label.append(text, field);
    var copy = document.createElement("button");
    copy.type = "button"; copy.className = "copy"; copy.textContent = msg.copy;
    copy.dataset.copy = link; copy.dataset.copied = msg.copied;
    copy.setAttribute("aria-label", msg.copyDelete.replace("{name}", file.name));
    box.append(label, copy);
    return box;
  }

  function multipart(file, row) {
    var data = new FormData();
    data.append("csrf_token", csrf);
    ["w", "h", "expires_in", "visibility", "password"].forEach(function (name) {
      if (option(name)) data.append(name, option(name));
    });
    var target = row.into;
    if (target) data.append("collection", target.id);
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    if (target && target.token) xhr.setRequestHeader("X-Token", target.token);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress(row, e.loaded, e.total); };
    xhr.onload = function () {
      if (xhr.status === 200 || xhr.status === 201) {
        var body = JSON.parse(xhr.responseText);
        finish(row, body.id, file, body.token || (target && target.token));
      }
      else fail(row, problemText(xhr));
    };
    xhr.onerror = function () { fail(row, msg.network); };
    row.cancel.onclick = function () { xhr.abort(); fail(row, msg.cancelled); };
    xhr.send(data);
  }

  // --- tus 1.0: create, then PATCH chunks; each chunk reports progress ----------------
  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }

  function tusRequest(method, url, headers, body, onprogress, token) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      headers["Tus-Resumable"] = "1.0.0";
      if (token) headers["X-Token"] = token;
      headers["X-CSRF-Token"] = csrf;
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onprogress) xhr.upload.onprogress = onprogress;
      xhr.onload = function () { (xhr.status < 300 ? resolve : reject)(xhr); };
      xhr.onerror = function () { reject(null); };
      tusRequest.current = xhr;
      xhr.send(body);
    });
  }

  function tusMetadata(file, target) {
    var pairs = ["filename " + b64(file.name)];
    if (target) pairs.push("collection " + b64(target.id));
    ["expires_in", "visibility", "password"].forEach(function (name) {
      if (option(name)) pairs.push(name + " " + b64(option(name)));
    });
    return pairs.join(",");
  }

  function tus(file, row) {
    var cancelled = false, url;
    var target = row.into, token = target && target.token;
    row.cancel.onclick = function () {
      cancelled = true;
      if (tusRequest.current) tusRequest.current.abort();
      if (url) tusRequest("DELETE", url, {}, null).catch(function () {});
      fail(row, msg.cancelled);
    };
    function send(offset) {
      if (cancelled) return null;
      var chunk = file.slice(offset, offset + CHUNK);
      var headers = { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" };
      return tusRequest("PATCH", url, headers, chunk, function (e) { progress(row, offset + e.loaded, file.size); }, token)
        .then(function (xhr) {
          var next = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
          if (next < file.size) return send(next);
          return finish(row, xhr.getResponseHeader("X-File-Id"), file, xhr.getResponseHeader("X-Token") || token);
        });
    }
    var create = { "Upload-Length": String(file.size), "Upload-Metadata": tusMetadata(file, target) };
    tusRequest("POST", form.dataset.tus, create, null, null, token)
      .then(function (xhr) { url = xhr.getResponseHeader("Location"); return send(0); })
      .catch(function (xhr) { if (!cancelled) fail(row, xhr ? problemText(xhr) : msg.network); });
  }

  var tusOffered = null;
  function offersTus() {
    if (tusOffered === null) {
      tusOffered = fetch(form.dataset.tus, { method: "OPTIONS" })
        .then(function (r) { return Boolean(r.headers.get("Tus-Version")); })
        .catch(function () { return false; });
    }
    return tusOffered;
  }

  function upload(file, target) {
    var row = makeRow(file);
    row.into = target;
    var big = file.size > Number(form.dataset.tusThreshold) && !option("w") && !option("h");
    if (Number(form.dataset.max) && file.size > Number(form.dataset.max)) {
      fail(row, msg.tooLarge);
      return;
    }
    if (!big) { multipart(file, row); return; }
    offersTus().then(function (yes) { if (yes) tus(file, row); else multipart(file, row); });
  }

  function uploadAll(files) {
    batch += files.length;
    var list = Array.prototype.slice.call(files);
    var wanted = oneLink && oneLink.checked;
    // Later files of this visit join the batch's collection; a lone file stays alone.
    if (!wanted || into || list.length < 2) {
      list.forEach(function (file) { upload(file, wanted ? into : null); });
      return;
    }
    newCollection(list.length).then(function (target) {
      list.forEach(function (file) { upload(file, target); });
    });
  }

  // A new collection with the batch's options; on failure the files get their own links.
  function newCollection(count) {
    var body = { title: msg.collectionTitle.replace("{n}", count) };
    if (option("expires_in")) body.expires_in = Number(option("expires_in"));
    if (option("visibility")) body.visibility = option("visibility");
    if (option("password")) body.password = option("password");
    return fetch("/api/v1/collections", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (made) {
        into = { id: made.id, token: made.token, url: made.links.short };
        showCollection(made);
        return into;
      })
      .catch(function () { status.textContent = msg.collectionFailed; return null; });
  }

  function showCollection(made) {
    var box = document.getElementById("collection-result");
    var link = document.getElementById("collection-link");
    link.href = made.links.page;
    link.textContent = made.links.short;
    document.getElementById("copy-collection").dataset.copy = made.links.short;
    // Kept apart from the files' tokens (card.js reads those by file id).
    if (made.token) {
      try { localStorage.setItem("pastefile:collection-token:" + made.id, made.token); } catch (e) { /* storage off */ }
    }
    box.hidden = false;
    results.hidden = false;
  }

  input.addEventListener("change", function () { uploadAll(input.files); input.value = ""; });
  form.addEventListener("submit", function (e) { e.preventDefault(); input.click(); });
  // With this script, files upload as soon as they are chosen: the form's Upload button
  // (for browsers without script) would only repeat "Choose files", the one primary action.
  document.getElementById("upload-button").hidden = true;
  ["dragenter", "dragover"].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    drop.addEventListener(type, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) uploadAll(e.dataTransfer.files);
  });
  document.addEventListener("paste", function (e) {
    var items = (e.clipboardData && e.clipboardData.files) || [];
    if (items.length) { e.preventDefault(); uploadAll(items); }
  });
  window.addEventListener("popstate", function () { location.reload(); });
})();
