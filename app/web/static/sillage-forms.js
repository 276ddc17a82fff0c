/* Sillage: show and hide conditional fields, and show computed values, as the user fills an
   evaluation or a dossier section (on its page, or in place on the dossier page once its form is
   loaded: sillage.js then sends "sillage:loaded"). The server's compute endpoint evaluates the
   definition; the server checks again on save. */
(function () {
function bind(form) {
  if (!form.getAttribute("data-compute-url") || form.getAttribute("data-bound")) return;
  form.setAttribute("data-bound", "1");
  var timer = null;

  function answers() {
    var result = {};
    form.querySelectorAll("[data-type]").forEach(function (wrapper) {
      var code = wrapper.getAttribute("data-field"), type = wrapper.getAttribute("data-type");
      var name = "a-" + code;
      if (type === "multiple_choice") {
        var values = Array.from(form.querySelectorAll('input[name="' + name + '"]:checked')).map(function (i) { return i.value; });
        if (values.length) result[code] = values;
      } else if (type === "matrix") {
        var rows = {};
        form.querySelectorAll('input[name^="' + name + '-"]:checked').forEach(function (i) {
          rows[i.name.slice(name.length + 1)] = i.value;
        });
        if (Object.keys(rows).length) result[code] = rows;
      } else if (type === "group") {
        var lines = {};
        form.querySelectorAll('[name^="' + name + '-"]').forEach(function (input) {
          var rest = input.name.slice(name.length + 1), cut = rest.indexOf("-");
          if (cut < 0 || !/^[0-9]+$/.test(rest.slice(0, cut)) || input.value.trim() === "") return;
          var line = lines[rest.slice(0, cut)] = lines[rest.slice(0, cut)] || {};
          var value = input.value.trim();
          line[rest.slice(cut + 1)] = value === "oui" ? true : value === "non" ? false : value;
        });
        var rows = Object.keys(lines).sort(function (a, b) { return a - b; }).map(function (k) { return lines[k]; });
        if (rows.length) result[code] = rows;
      } else if (type === "nomenclature") {
        var select = form.querySelector('select[name="' + name + '"]');
        var codes = select ? Array.from(select.selectedOptions).map(function (o) { return o.value; }) : [];
        if (codes.length) result[code] = codes;
      } else if (type === "yes_no") {
        var checked = form.querySelector('input[name="' + name + '"]:checked');
        if (checked) result[code] = checked.value === "oui";
      } else if (type === "ordinal" || type === "single_choice") {
        var choice = form.querySelector('input[name="' + name + '"]:checked');
        if (choice) result[code] = choice.value;
      } else {
        var input = form.querySelector('[name="' + name + '"]');
        if (input && input.value.trim() !== "") {
          result[code] = (type === "integer" || type === "decimal") ? Number(input.value) : input.value.trim();
        }
      }
    });
    return result;
  }

  function refresh() {
    fetch(form.getAttribute("data-compute-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Requested-With": "fetch",
                "X-CSRFToken": (form.querySelector('input[name="csrf_token"]') || {}).value || ""},
      body: JSON.stringify({answers: answers(), version: Number(form.getAttribute("data-version"))})
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        var hidden = new Set(body.hidden || []);
        form.querySelectorAll("[data-field]").forEach(function (element) {
          element.hidden = hidden.has(element.getAttribute("data-field"));
        });
        form.querySelectorAll("output[data-computed]").forEach(function (output) {
          var value = body.computed[output.getAttribute("data-computed")];
          output.textContent = value === undefined || value === null || value === "" ? "—"
            : value === true ? form.getAttribute("data-yes") : value === false ? form.getAttribute("data-no") : String(value);
        });
        // A computed field's message follows its value (a refused validation's message must not
        // stay under a result that is now computed).
        form.querySelectorAll('[data-field][data-type="computed"]').forEach(function (element) {
          var message = (body.errors || {})[element.getAttribute("data-field")];
          var shown = element.querySelector(".field-error");
          if (message) {
            if (!shown) {
              shown = document.createElement("p");
              shown.className = "help-block field-error";
              shown.setAttribute("role", "alert");
              element.appendChild(shown);
            }
            shown.textContent = Array.isArray(message) ? message.join(", ") : String(message);
          } else if (shown) {
            shown.remove();
          }
          element.classList.toggle("has-error", Boolean(message));
        });
      });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
}
document.querySelectorAll("form[data-compute-url]").forEach(bind);
document.addEventListener("sillage:loaded", function (event) {
  event.target.querySelectorAll("form[data-compute-url]").forEach(bind);
});
})();

/* Nomenclature fields: typing in the filter hides the codes that do not match (code or words of
   the label, accents ignored); selected codes always stay visible. */
(function () {
  function fold(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  document.querySelectorAll("input.nomenclature-filter").forEach(function (filter) {
    var select = document.getElementById(filter.getAttribute("data-filters"));
    if (!select) return;
    filter.addEventListener("input", function () {
      var words = fold(filter.value).split(/\s+/).filter(Boolean);
      select.querySelectorAll("optgroup").forEach(function (group) {
        var shown = 0;
        group.querySelectorAll("option").forEach(function (option) {
          var text = fold(option.textContent + " " + group.label);
          option.hidden = !option.selected && !words.every(function (w) { return text.indexOf(w) >= 0; });
          if (!option.hidden) shown += 1;
        });
        group.hidden = shown === 0;
      });
    });
  });
})();

/* Repeatable groups: "Ajouter une ligne" copies the group's blank line, "Retirer" removes one. */
document.addEventListener("click", function (event) {
  var add = event.target.closest(".repeat-add"), remove = event.target.closest(".repeat-remove");
  if (add) {
    var wrapper = add.parentElement, table = wrapper.querySelector("table.repeat-group");
    var next = Number(table.getAttribute("data-next") || "0");
    var html = wrapper.querySelector("template.repeat-template").innerHTML.split("__i__").join(String(next));
    table.querySelector("tbody").insertAdjacentHTML("beforeend", html);
    table.setAttribute("data-next", String(next + 1));
    var first = table.querySelector("tbody tr:last-child input, tbody tr:last-child select");
    if (first) first.focus();
  } else if (remove) {
    var form = remove.closest("form");
    remove.closest("tr").remove();
    if (form) form.dispatchEvent(new Event("input", {bubbles: true}));
  }
});
