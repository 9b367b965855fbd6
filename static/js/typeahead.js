// Type-ahead filters on the case list: a WAI-ARIA combobox (editable, list autocomplete)
// per facet. Each finds values by name through /cases/suggest/ under the page's filters
// and adds the chosen one to the URL, as the facet links below it do without JavaScript.
(function () {
  "use strict";
  var DEBOUNCE_MS = 120;

  // The page's filter parameters (data-filter-params), without paging or view choices.
  function filterParams(names) {
    var page = new URLSearchParams(window.location.search);
    var params = new URLSearchParams();
    names.forEach(function (name) {
      page.getAll(name).forEach(function (value) {
        if (value.trim()) { params.append(name, value); }
      });
    });
    return params;
  }

  function setUp(box) {
    var field = box.getAttribute("data-field");
    var suggestUrl = box.getAttribute("data-suggest-url");
    var names = (box.getAttribute("data-filter-params") || "").split(" ").filter(Boolean);
    var input = box.querySelector("[role=combobox]");
    var listbox = box.querySelector("[role=listbox]");
    var status = box.querySelector("[data-typeahead-status]");
    var options = [];
    var active = -1;
    var timer = null;
    var latest = 0;

    function isOpen() { return !listbox.hidden; }

    function close() {
      setActive(-1);
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function setActive(index) {
      if (active >= 0 && options[active]) { options[active].el.setAttribute("aria-selected", "false"); }
      active = index;
      if (index < 0) { input.removeAttribute("aria-activedescendant"); return; }
      var el = options[index].el;
      el.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", el.id);
      el.scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      // The same URL the value's facet link has: the page's parameters plus this value.
      var params = new URLSearchParams(window.location.search);
      params.delete("cursor");
      params.delete("more");
      params.append(field, options[index].value);
      close();
      window.location.assign(window.location.pathname + "?" + params.toString());
    }

    function render(results) {
      listbox.textContent = "";
      options = [];
      active = -1;
      results.forEach(function (result, index) {
        var option = document.createElement("li");
        option.id = input.id + "-option-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-value", result.value);
        var label = document.createElement("span");
        label.textContent = result.label;
        var count = document.createElement("span");
        count.className = "count";
        var more = result.adds !== null && result.adds !== undefined;
        count.textContent = more ? "+" + result.adds.toLocaleString("en") : result.count.toLocaleString("en");
        var unit = document.createElement("span");
        unit.className = "visually-hidden";
        unit.textContent = more ? " more cases" : " cases";
        count.appendChild(unit);
        option.appendChild(label);
        option.appendChild(count);
        // mousedown, not click: the input keeps focus and the list stays open until chosen.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        listbox.appendChild(option);
        options.push({ el: option, value: result.value });
      });
      // The page's language gives the wording ("{count} values found.", "No value found.").
      status.textContent = results.length
        ? (status.getAttribute("data-found") || "{count} values found.").replace("{count}", results.length)
        : status.getAttribute("data-none") || "No value found.";
      listbox.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
    }

    function suggest() {
      var params = filterParams(names);
      params.set("field", field);
      params.set("prefix", input.value.trim());
      var request = ++latest;
      fetch(suggestUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (request === latest) { render(body.results); } })
        .catch(function () { if (request === latest) { render([]); } });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      var count = options.length;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!isOpen()) { suggest(); return; }
        setActive(active + 1 < count ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (isOpen() && count) { setActive(active > 0 ? active - 1 : count - 1); }
      } else if (event.key === "Enter") {
        if (isOpen() && active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        event.preventDefault();
        if (isOpen()) { close(); } else { input.value = ""; }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", close);
    box.hidden = false;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-typeahead]"), setUp);
})();
