// Site-wide behaviour, kept out of the HTML so that the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  // Destructive actions ask first: <form data-confirm="…"> or <button data-confirm="…">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
  // A message is closed by its button (<button data-dismiss> inside the message).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-dismiss]");
    if (button && button.parentElement) {
      button.parentElement.remove();
    }
  });
  // A table wider than the screen scrolls sideways inside its frame (.table-wrap): a keyboard must reach it too,
  // so a frame that scrolls is focusable and named after its table's heading.
  function focusableScrollers(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth && !wrap.hasAttribute("tabindex")) {
        var heading = wrap.closest("section, .card, main");
        heading = heading && heading.querySelector("h1, h2, h3");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
      }
    });
  }
  focusableScrollers(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    focusableScrollers(event.target);
  });
  // htmx requests that need confirmation use hx-confirm, which htmx handles itself.
  // Auto-submit filter forms when a select changes: <form data-autosubmit>.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.form && el.form.hasAttribute("data-autosubmit") && el.tagName === "SELECT") {
      el.form.requestSubmit();
    }
  });
})();
