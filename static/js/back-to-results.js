// Offers a way back to the list of cases the reader came from, query and all. The case
// page is cached for every reader alike, so the link is made here, from the referrer.
(function () {
  "use strict";
  var box = document.querySelector(".back-to-results");
  if (!box || !document.referrer) return;
  var link = box.querySelector("a");
  var from;
  try {
    from = new URL(document.referrer);
  } catch (error) {
    return;
  }
  if (from.origin !== window.location.origin) return;
  if (from.pathname !== link.getAttribute("data-list-path")) return;
  link.href = from.pathname + from.search;
  box.hidden = false;
})();
