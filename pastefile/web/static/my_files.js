// My files: confirm bulk deletes, and poll the processing status of files whose jobs run.
(function () {
  "use strict";
  var bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (e) {
      if (!document.querySelector('input[name="ids"]:checked')) e.preventDefault();
    });
  }
  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-status]"), function (li) {
      return li.dataset.status !== "ready";
    });
  }
  function poll() {
    var rows = pending();
    if (!rows.length) return;
    var query = rows.map(function (li) { return "id=" + encodeURIComponent(li.dataset.id); }).join("&");
    fetch("/me/files/status?" + query, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (states) {
        rows.forEach(function (li) {
          var state = states[li.dataset.id];
          if (!state) return;
          li.dataset.status = state;
          li.querySelector(".job-status").textContent = state;
        });
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  poll();
})();
