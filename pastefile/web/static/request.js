// A file request's page (/u/<code>): send the chosen file with the session's CSRF token,
// show progress, then the receipt (name, size, sha256; never a link). Files over the tus
// threshold go through tus (/api/v1/uploads, "request <code>" in Upload-Metadata) in 4 MiB
// chunks. Without JavaScript the form posts and the server answers with the page and its receipt.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) return;
  var CHUNK = 4 * 1024 * 1024;
  var status = document.getElementById("request-status");
  var list = document.getElementById("receipt-list");
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function addReceipt(receipt) {
    var item = document.createElement("li");
    var name = document.createElement("strong");
    name.className = "receipt-name";
    name.textContent = receipt.filename;
    var hint = document.createElement("span");
    hint.className = "hint";
    var sha = document.createElement("code");
    sha.className = "receipt-sha";
    sha.textContent = receipt.sha256;
    hint.append("SHA-256 ", sha);
    item.append(name, " · " + window.pastefile.size(receipt.size), document.createElement("br"), hint);
    list.appendChild(item);
    list.closest("section").hidden = false;
  }

  function problemText(xhr) {
    try { return JSON.parse(xhr.responseText).detail || form.dataset.failed; }
    catch (e) { return form.dataset.failed; }
  }

  function progress(done, total) {
    status.textContent = Math.round((100 * done) / Math.max(total, 1)) + " %";
  }

  function send(method, url, headers, body, onprogress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf.content);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onprogress) xhr.upload.onprogress = onprogress;
      xhr.onload = function () { (xhr.status < 300 ? resolve : reject)(xhr); };
      xhr.onerror = function () { reject(null); };
      xhr.send(body);
    });
  }

  function multipart(file) {
    var data = new FormData();
    data.append("file", file, file.name);
    return send("POST", form.action, {}, data, function (e) {
      if (e.lengthComputable) progress(e.loaded, e.total);
    }).then(function (xhr) { return JSON.parse(xhr.responseText); });
  }

  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }

  function viaTus(file) {
    var tus = { "Tus-Resumable": "1.0.0" };
    var create = Object.assign({
      "Upload-Length": String(file.size),
      "Upload-Metadata": "filename " + b64(file.name) + ",request " + b64(form.dataset.code),
    }, tus);
    return send("POST", form.dataset.tus, create, null).then(function (made) {
      var url = made.getResponseHeader("Location");
      function chunk(offset) {
        var headers = Object.assign({
          "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream",
        }, tus);
        return send("PATCH", url, headers, file.slice(offset, offset + CHUNK), function (e) {
          progress(offset + e.loaded, file.size);
        }).then(function (xhr) {
          var at = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
          if (at < file.size) return chunk(at);
          return { filename: file.name, size: file.size, sha256: xhr.getResponseHeader("X-Receipt-Sha256") };
        });
      }
      return chunk(0);
    });
  }

  form.addEventListener("submit", function (event) {
    var input = form.elements.file;
    if (!input.files.length) return;
    event.preventDefault();
    var file = input.files[0];
    var big = form.dataset.tus && file.size > Number(form.dataset.tusThreshold);
    status.textContent = "0 %";
    (big ? viaTus(file) : multipart(file))
      .then(function (receipt) {
        status.textContent = "";
        addReceipt(receipt);
        form.reset();
      })
      .catch(function (xhr) {
        status.textContent = xhr ? form.dataset.failed + ": " + problemText(xhr) : form.dataset.network;
      });
  });
})();
