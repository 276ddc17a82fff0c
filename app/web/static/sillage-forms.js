/* Sillage: show and hide conditional fields, and show computed values, as the user fills an
   evaluation. The server's compute endpoint evaluates the definition; the server checks again
   on save. */
(function () {
  var form = document.getElementById("evaluation");
  if (!form || !form.getAttribute("data-compute-url")) return;
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
          output.textContent = value === undefined || value === null ? "—" : String(value);
        });
      });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
})();
