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
