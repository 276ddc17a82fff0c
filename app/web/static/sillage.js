/* Sillage: load a dossier panel's edit form when the user opens it. Without JavaScript, the
   <noscript> link opens the same form server-side. */
document.addEventListener("toggle", function (event) {
  var details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.open) return;
  var url = details.getAttribute("data-form-url");
  if (!url || details.getAttribute("data-loaded")) return;
  details.setAttribute("data-loaded", "1");
  var holder = details.querySelector(".form-holder");
  fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    })
    .then(function (html) {
      holder.innerHTML = html;
      holder.dispatchEvent(new CustomEvent("sillage:loaded", {bubbles: true}));
      var first = holder.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    })
    .catch(function () {
      details.removeAttribute("data-loaded");
      var message = document.createElement("p");
      message.className = "text-danger";
      message.textContent = details.getAttribute("data-error");
      holder.replaceChildren(message);
    });
}, true);

/* Quick lock of a shared workstation. The page is hidden at once under an opaque panel and the
   server session is locked (every other request answers the unlock page); the same user unlocks
   here with their password and finds the page as they left it, typing included. Without
   JavaScript the form posts and the server shows its own unlock page. */
(function () {
  var form = document.getElementById("lock-form");
  if (!form) return;
  var token = form.querySelector('input[name="csrf_token"]').value;
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: body,
                       headers: {"Accept": "application/json", "X-CSRFToken": token}});
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var veil = document.createElement("div");
    veil.id = "lock-veil";
    veil.setAttribute("role", "dialog");
    veil.setAttribute("aria-modal", "true");
    veil.innerHTML = document.getElementById("lock-template").innerHTML;
    document.body.appendChild(veil);
    document.body.classList.add("locked");
    var input = veil.querySelector("input[type=password]");
    input.focus();
    var lockData = new FormData(form);
    // Drafts first: once the session is locked the server takes nothing but the unlock.
    (window.sillageDrafts ? window.sillageDrafts.saveAll() : Promise.resolve())
      .then(function () { return post(form.getAttribute("action"), lockData); });
    veil.querySelector("form").addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData();
      data.append("password", input.value);
      data.append("csrf_token", token);
      post(veil.querySelector("form").getAttribute("action"), data)
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (body.locked === false) {
            veil.remove();
            document.body.classList.remove("locked");
          } else {
            veil.querySelector(".lock-error").textContent = body.message || "";
            input.value = "";
            input.focus();
          }
        });
    });
  });
})();

/* Drafts: what is typed in a form marked data-draft is saved on the server for its author
   (1.5 s after the last keystroke, when the page is hidden or left, and before the workstation
   is locked). Back on the page, even on another workstation, the user is offered to resume it.
   Saving the form (answered by a redirect) deletes the draft on the server side. */
(function () {
  var strings = document.getElementById("draft-strings");
  var lock = document.getElementById("lock-form");
  if (!strings || !lock) return;  // signed-in pages only
  var token = lock.querySelector('input[name="csrf_token"]').value;
  var page = location.pathname;
  var endpoint = "/brouillons/";
  var timers = {};
  var SKIP = {csrf_token: 1, _draft: 1};
  function skipped(name) { return SKIP[name] || /-csrf_token$/.test(name); }  // a form's prefixed token

  function call(method, body, keepalive) {
    return fetch(endpoint, {method: method, credentials: "same-origin", keepalive: !!keepalive,
                            body: JSON.stringify(body),
                            headers: {"Content-Type": "application/json", "Accept": "application/json",
                                      "X-CSRFToken": token}});
  }
  function pairs(form) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skipped(el.name) || el.disabled || el.type === "password" || el.type === "file") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { out.push([el.name, o.value]); });
      } else if (el.tagName !== "BUTTON" && el.type !== "submit") {
        out.push([el.name, el.value]);
      }
    });
    return out;
  }
  function label(form) {
    var summary = form.closest("details") && form.closest("details").querySelector("summary");
    var heading = document.querySelector("h1");
    return [summary && summary.textContent.trim(), heading && heading.textContent.trim()]
      .filter(Boolean).join(" — ").slice(0, 200);
  }
  function save(form, keepalive) {
    var key = form.getAttribute("data-draft");
    clearTimeout(timers[key]);
    if (form.getAttribute("data-dirty") !== "1") return Promise.resolve();
    form.removeAttribute("data-dirty");
    return call("PUT", {page: page, form: key, label: label(form), data: pairs(form)}, keepalive)
      .then(function (response) { if (!response.ok) throw new Error(response.status); })
      .catch(function () { form.setAttribute("data-dirty", "1"); });
  }
  function saveAll(keepalive) {
    return Promise.all(Array.prototype.map.call(document.querySelectorAll("form[data-draft]"),
                                                function (f) { return save(f, keepalive); }));
  }
  function touched(event) {
    var form = event.target && event.target.form;
    if (!form || !form.hasAttribute("data-draft") || skipped(event.target.name)) return;
    form.setAttribute("data-dirty", "1");
    var key = form.getAttribute("data-draft");
    clearTimeout(timers[key]);
    timers[key] = setTimeout(function () { save(form); }, 1500);
  }
  document.addEventListener("input", touched, true);
  document.addEventListener("change", touched, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-draft")) return;
    clearTimeout(timers[form.getAttribute("data-draft")]);
    form.removeAttribute("data-dirty");
    var marker = form.querySelector('input[name="_draft"]');
    if (!marker) {
      marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = "_draft";
      form.appendChild(marker);
    }
    marker.value = page + " " + form.getAttribute("data-draft");
  }, true);
  window.addEventListener("pagehide", function () { saveAll(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveAll(true);
  });
  window.sillageDrafts = {saveAll: saveAll};

  function fill(form, data) {
    var values = {};
    data.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skipped(el.name) || el.type === "password" || el.type === "file") return;
      var mine = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = mine.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = mine.indexOf(o.value) >= 0; });
      } else if (el.name in values && el.tagName !== "BUTTON" && el.type !== "submit") {
        el.value = mine.length ? mine.shift() : "";
      } else {
        return;
      }
      el.dispatchEvent(new Event("change", {bubbles: true}));
    });
    form.setAttribute("data-dirty", "1");
  }
  function restore(draft) {
    var selector = function (attr) { return "[" + attr + '="' + CSS.escape(draft.form) + '"]'; };
    var form = document.querySelector("form" + selector("data-draft"));
    if (form) { fill(form, draft.data); form.scrollIntoView(); return; }
    var panel = document.querySelector("details" + selector("data-draft-panel"));
    if (!panel) return;
    panel.open = true;  // sillage.js loads the panel's form
    var tries = 0;
    (function wait() {
      var loaded = panel.querySelector("form[data-draft]");
      if (loaded) { fill(loaded, draft.data); panel.scrollIntoView(); }
      else if (tries++ < 100) setTimeout(wait, 100);
    })();
  }
  function offer(draft, holder) {
    var box = document.createElement("div");
    box.className = "alert alert-warning draft-offer";
    box.setAttribute("role", "status");
    box.setAttribute("data-draft-offer", draft.form);
    var when = new Date(draft.updated_at).toLocaleString(document.documentElement.lang || "fr");
    var text = document.createElement("span");
    text.textContent = strings.getAttribute("data-offer").replace("{date}", when).replace("{label}", draft.label || draft.form) + " ";
    var resume = document.createElement("button");
    resume.type = "button";
    resume.className = "btn btn-primary btn-xs draft-restore";
    resume.textContent = strings.getAttribute("data-restore");
    var drop = document.createElement("button");
    drop.type = "button";
    drop.className = "btn btn-link btn-xs draft-discard";
    drop.textContent = strings.getAttribute("data-discard");
    resume.addEventListener("click", function () { box.remove(); restore(draft); });
    drop.addEventListener("click", function () { box.remove(); call("DELETE", {page: page, form: draft.form}); });
    box.append(text, resume, " ", drop);
    holder.prepend(box);
  }
  if (!document.querySelector("form[data-draft], details[data-draft-panel]")) return;
  fetch(endpoint + "?page=" + encodeURIComponent(page),
        {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) { return response.ok ? response.json() : {drafts: []}; })
    .then(function (body) {
      var holder = document.querySelector(".container > .row") || document.body;
      (body.drafts || []).slice().reverse().forEach(function (draft) { offer(draft, holder); });
    })
    .catch(function () {});
})();
