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
  // htmx requests that need confirmation use hx-confirm, which htmx handles itself.
  // Auto-submit filter forms when a select changes: <form data-autosubmit>.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.form && el.form.hasAttribute("data-autosubmit") && el.tagName === "SELECT") {
      el.form.requestSubmit();
    }
  });
})();
