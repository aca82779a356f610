// A file request's page (/u/<code>): send the chosen file with the session's CSRF token,
// show progress, then the receipt (name, size, sha256; never a link). Without
// JavaScript the form posts and the server answers with the page and its receipt.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) return;
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

  form.addEventListener("submit", function (event) {
    var input = form.elements.file;
    if (!input.files.length) return;
    event.preventDefault();
    var data = new FormData();
    data.append("file", input.files[0], input.files[0].name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf.content);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) status.textContent = Math.round((100 * e.loaded) / e.total) + " %";
    };
    xhr.onload = function () {
      if (xhr.status === 201) {
        status.textContent = "";
        addReceipt(JSON.parse(xhr.responseText));
        form.reset();
      } else {
        status.textContent = form.dataset.failed + ": " + problemText(xhr);
      }
    };
    xhr.onerror = function () { status.textContent = form.dataset.network; };
    status.textContent = "0 %";
    xhr.send(data);
  });
})();
