/* Référentiels console: links that open a dropdown or add a filter do not navigate (they were
   "javascript:void(0)" and onclick="return false" in Flask-Admin's templates, refused by the CSP). */
document.addEventListener("click", function (event) {
  var link = event.target.closest('a[href="#"]');
  if (link && (link.classList.contains("filter") || link.hasAttribute("data-toggle"))) {
    event.preventDefault();
  }
});
