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
    post(form.getAttribute("action"), new FormData(form));
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
