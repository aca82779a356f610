// Copy buttons on file cards (the preview page and the upload page's results).
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.setSelectionRange(0, area.value.length);
    document.execCommand("copy");
    area.remove();
    return Promise.resolve();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) return;
    var card = button.closest(".card");
    var status = card ? card.querySelector(".copied") : document.querySelector(".copied");
    copyText(button.dataset.copy).then(function () {
      button.classList.add("done");
      if (status) status.textContent = (document.documentElement.lang.indexOf("zh") === 0 ? "已复制：" : "Copied: ") + button.dataset.copy;
    });
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("snippet")) {
      event.target.setSelectionRange(0, event.target.value.length);
    }
  });
})();
