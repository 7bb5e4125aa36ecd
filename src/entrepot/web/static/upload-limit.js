// A file input's size limit, checked before the form is sent: a file larger than the application's
// body limit would otherwise be refused by it with a bare 413 before the page could say why. The server
// still checks (web/catalog_import.py); this only says the same thing sooner, in the same place.
// A form opts in with data-max-bytes and data-too-large (the message), both written by the server.
(function () {
  "use strict";

  function showError(form, input, message) {
    var field = input.closest(".field");
    var old = field.querySelector("[data-upload-error]");
    if (old) { old.remove(); }
    var error = document.createElement("p");
    error.className = "error";
    error.id = input.id + "-error-size";
    error.setAttribute("data-upload-error", "");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "Error: ";
    error.appendChild(hidden);
    error.appendChild(document.createTextNode(message));
    field.insertBefore(error, input);
    field.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(error.id) < 0) { described.push(error.id); }
    input.setAttribute("aria-describedby", described.join(" "));
    input.focus();
  }

  document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var limit = Number(form.getAttribute("data-max-bytes"));
      var inputs = form.querySelectorAll("input[type=file]");
      for (var i = 0; i < inputs.length; i++) {
        var file = inputs[i].files && inputs[i].files[0];
        if (file && file.size > limit) {
          event.preventDefault();
          showError(form, inputs[i], form.getAttribute("data-too-large"));
          return;
        }
      }
    });
  });
})();
