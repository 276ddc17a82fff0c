/* Sillage: completion list of birth places on the identity forms. Typing in the birth place's
   code or name asks /api/v1/lieux-naissance/ (URL on this script's tag) and offers a list;
   choosing a line fills both the INSEE code and the name. Works on forms loaded later (the
   dossier's panels): listeners are on the document. The server checks the code on save. */
(function () {
  var script = document.currentScript, url = script && script.getAttribute("data-url");
  if (!url) return;
  var SUFFIXES = ["lieu_naissance_code", "lieu_naissance_libelle"], timer = null, offered = {};

  function kind(input) {
    var name = input.name || "";
    for (var i = 0; i < SUFFIXES.length; i++) {
      if (name === SUFFIXES[i] || name.slice(-SUFFIXES[i].length - 1) === "-" + SUFFIXES[i]) return SUFFIXES[i];
    }
    return null;
  }

  function sibling(input, suffix) {
    var own = kind(input), name = input.name.slice(0, input.name.length - own.length) + suffix;
    return input.form ? input.form.querySelector('[name="' + name + '"]') : null;
  }

  function listFor(input) {
    var id = input.id + "-lieux";
    var list = document.getElementById(id);
    if (!list) {
      list = document.createElement("datalist");
      list.id = id;
      input.parentNode.appendChild(list);
      input.setAttribute("list", id);
      input.setAttribute("autocomplete", "off");
    }
    return list;
  }

  function line(place) {
    var where = place.departement ? place.type_libelle + ", " + place.departement : place.type_libelle;
    return place.code + " — " + place.libelle + " (" + where + ")";
  }

  function choose(input) {
    var place = offered[input.value];
    if (!place) return false;
    var code = kind(input) === SUFFIXES[0] ? input : sibling(input, SUFFIXES[0]);
    var label = kind(input) === SUFFIXES[1] ? input : sibling(input, SUFFIXES[1]);
    if (code) code.value = place.code;
    if (label) label.value = place.libelle;
    return true;
  }

  function suggest(input) {
    var q = input.value.trim();
    if (q.length < 2) return;
    fetch(url + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {result: []}; })
      .then(function (data) {
        var list = listFor(input);
        list.textContent = "";
        (data.result || []).forEach(function (place) {
          var option = document.createElement("option");
          option.value = line(place);
          offered[option.value] = place;
          list.appendChild(option);
        });
      })
      .catch(function () { /* no list: the field stays a plain text field */ });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input || input.tagName !== "INPUT" || !kind(input) || choose(input)) return;
    clearTimeout(timer);
    timer = setTimeout(function () { suggest(input); }, 200);
  });
})();
