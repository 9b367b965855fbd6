// Case form: lists similar existing cases, those of the case as saved once the form shows
// (the list the section's link leads to, answered as a fragment: the match is the slow part
// of the form) and those of the title and summary as they are typed; and previews the
// disproof as the public page will render it. Without JS the section's link leads to the
// list, and the server asks for confirmation on the first save of a case like another.
"use strict";
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function renderSimilar(box, results) {
    box.textContent = "";
    box.classList.toggle("empty", results.length === 0);
    if (!results.length) return;
    var intro = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "Possible duplicates:";
    intro.appendChild(strong);
    intro.appendChild(document.createTextNode(" these existing cases look similar."));
    box.appendChild(intro);
    var list = document.createElement("ul");
    results.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.admin_url;
      link.target = "_blank";
      link.textContent = "#" + item.id + " " + item.title;
      li.appendChild(link);
      var note = document.createElement("small");
      note.textContent = " (" + item.status + (item.date ? ", " + item.date : "") +
        "; similar " + item.matched_on + ", " + item.similarity.toFixed(2) + ")";
      li.appendChild(note);
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  // The saved case's look-alikes, unless the editor has typed first.
  function loadDuplicates(box, typed) {
    if (!box.dataset.duplicates || !window.fetch || !window.DOMParser) return;
    fetch(box.dataset.duplicates, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        if (typed()) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var list = page.getElementById("similar-list");
        if (!list) return;
        box.textContent = "";
        var found = list.querySelector("li") !== null;
        if (found) box.appendChild(document.importNode(list, true));
        box.classList.toggle("empty", !found);
        box.classList.add("loaded");
      })
      .catch(function () { /* the link to the list stays */ });
  }

  ready(function () {
    var box = document.getElementById("similar-cases");
    var title = document.getElementById("id_title");
    var summary = document.getElementById("id_summary");
    var lastQuery = "";
    // A read-only form (view permission) has no title box but the list all the same.
    if (box) loadDuplicates(box, function () { return lastQuery !== ""; });
    if (box && title) {
      var timer = null;
      var check = function () {
        var params = new URLSearchParams({
          title: title.value,
          summary: summary ? summary.value.slice(0, 2000) : "",
          exclude: box.dataset.exclude || "",
        });
        var query = params.toString();
        if (query === lastQuery) return;
        lastQuery = query;
        fetch(box.dataset.url + "?" + query, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { renderSimilar(box, data.results); })
          .catch(function () {});
      };
      var later = function () {
        clearTimeout(timer);
        timer = setTimeout(check, 400);
      };
      title.addEventListener("input", later);
      if (summary) summary.addEventListener("input", later);
    }

    var button = document.getElementById("disproof-preview-button");
    var preview = document.getElementById("disproof-preview");
    var disproof = document.getElementById("id_disproof");
    if (button && preview && disproof) {
      button.addEventListener("click", function () {
        var body = new URLSearchParams({ text: disproof.value });
        fetch(button.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
          body: body,
        })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            // The server returns HTML already sanitised with nh3, as on the public page.
            preview.innerHTML = data.html || "(empty)";
          });
      });
    }
  });
})();
