// The collection page's lightbox: images open in a <dialog> (Escape closes it,
// the arrow keys and buttons move between images, focus returns to the tile).
(function () {
  "use strict";
  var dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return; // the tiles' links still work
  var image = document.getElementById("lightbox-image");
  var caption = document.getElementById("lightbox-caption");
  var openers = Array.prototype.slice.call(document.querySelectorAll(".lightbox-open"));
  var current = -1;
  var returnTo = null;

  function show(index) {
    current = (index + openers.length) % openers.length;
    var opener = openers[current];
    image.src = opener.getAttribute("data-full");
    image.alt = opener.getAttribute("data-name");
    caption.textContent = opener.getAttribute("data-name");
  }

  openers.forEach(function (opener, index) {
    opener.addEventListener("click", function () {
      returnTo = opener;
      show(index);
      dialog.showModal();
      document.getElementById("lightbox-close").focus();
    });
  });
  document.getElementById("lightbox-prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("lightbox-next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("lightbox-close").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    // The browser's own Escape may be held back (close-watcher rules): close here.
    if (event.key === "Escape") { dialog.close(); event.preventDefault(); }
  });
  dialog.addEventListener("close", function () {
    image.removeAttribute("src");
    if (returnTo) returnTo.focus();
  });
})();
