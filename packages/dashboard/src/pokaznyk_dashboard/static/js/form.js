// Pokaznyk web form helpers. Everything works without this file; it only adds comfort.
(function () {
  "use strict";

  // "No consumption": fill the meter's fields with its last values (or clear them again).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-same-for]")) return;
    var inputs = document.querySelectorAll('input[data-meter="' + box.dataset.sameFor + '"]');
    inputs.forEach(function (input) {
      input.value = box.checked ? input.dataset.last : "";
      input.readOnly = box.checked;
      input.removeAttribute("aria-invalid");
      var error = document.getElementById("err-" + input.id);
      if (error) error.textContent = "";
    });
  });

  // After an instant check, mark the field invalid (or valid) for screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.id || target.id.indexOf("err-") !== 0) return;
    var input = document.getElementById(target.id.slice(4));
    if (!input) return;
    if (target.textContent.trim()) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });

  // A second click on a sending button does nothing (the server stores once anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { delete form.dataset.sent; }, 5000);
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("[data-print]")) window.print();
  });
})();
