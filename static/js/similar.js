// The case page's similar cases, loaded after the page shows: ranking them is the slow part
// of a first view. Without JavaScript the section's link leads to the same list.
(function () {
  "use strict";
  var section = document.querySelector("section[data-similar]");
  if (!section || !window.fetch || !window.DOMParser) return;
  fetch(section.getAttribute("data-similar"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    })
    .then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var list = page.getElementById("similar-list");
      if (!list) return;
      var links = section.querySelector(".more");
      section.insertBefore(document.importNode(list, true), links);
      section.classList.add("loaded");
    })
    .catch(function () { /* the link to the list stays */ });
})();
