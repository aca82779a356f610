// Every page: the size format (pastefile.size); a form with data-keep-fragment keeps the
// page's #fragment; a form or button with data-confirm asks before it is sent (deleting, disabling,
// revoking...), and a flash message can be dismissed. Runs in the capture phase, so a
// refused confirmation stops the submit before any other script sees it.
(function () {
  "use strict";
  var IEC = ["KiB", "MiB", "GiB", "TiB", "PiB"];

  // The UI's one size format, step for step services/humanize.py's format_size:
  // powers of 1024 with IEC units, one decimal rounded half up in whole numbers.
  function size(bytes) {
    bytes = Math.round(bytes);
    if (bytes < 1024) return bytes === 1 ? "1 byte" : bytes + " bytes";
    var tenths = 0, unit = IEC[0], divisor = 1;
    for (var i = 0; i < IEC.length; i++) {
      divisor *= 1024;
      unit = IEC[i];
      tenths = Math.floor((bytes * 10 + divisor / 2) / divisor);
      if (tenths < 10240) break;
    }
    var whole = Math.floor(tenths / 10), tenth = tenths % 10;
    return (tenth ? whole + "." + tenth : String(whole)) + " " + unit;
  }
  window.pastefile = { size: size };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // data-keep-fragment (the password prompt): the page's #fragment, an encrypted file's
    // key, goes on to where the form leads; the browser never sends it to the server,
    // and keeps it across the 303 that follows.
    if (form.hasAttribute("data-keep-fragment") && location.hash) {
      form.action = form.action.split("#")[0] + location.hash;
    }
  }, true);
  document.addEventListener("click", function (event) {
    var close = event.target.closest(".flash-close");
    if (close) close.closest(".flash").remove();
  });
})();
