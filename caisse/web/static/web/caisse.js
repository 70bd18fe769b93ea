// Caisse: the only script. Moves focus to a form's error summary so that screen readers hear it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus]");
  if (summary) { summary.focus(); }
});
