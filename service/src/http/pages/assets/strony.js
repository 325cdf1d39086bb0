// Improvements only: every page works without this file.
// The GOV.UK error pattern: the summary of errors takes the focus when the page opens, and
// each of its links moves the focus to its field (a fragment link alone only scrolls).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("bledy");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
});
