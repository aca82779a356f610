// Every page: a form or button with data-confirm asks before it is sent (deleting, disabling,
// revoking...), and a flash message can be dismissed. Runs in the capture phase, so a
// refused confirmation stops the submit before any other script sees it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    var close = event.target.closest(".flash-close");
    if (close) close.closest(".flash").remove();
  });
})();
