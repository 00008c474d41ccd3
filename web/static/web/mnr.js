// MNR page behaviour (no inline script: the Content-Security-Policy forbids it).
// Focus the form error summary when the page shows one (RGAA 11.10).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
