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
  // Logging out deletes what this phone holds (the server answers with Clear-Site-Data): first a warning when
  // some of it was never sent (the outbox of static/js/offline.js, in IndexedDB).
  function unsentOnThisPhone() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(0); return; }
      var request = window.indexedDB.open("census-offline", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("outbox", { keyPath: "key" }); };
      request.onerror = function () { resolve(0); };
      request.onsuccess = function () {
        try {
          var count = request.result.transaction("outbox", "readonly").objectStore("outbox").count();
          count.onsuccess = function () { request.result.close(); resolve(count.result); };
          count.onerror = function () { resolve(0); };
        } catch (e) { resolve(0); }
      };
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-logout") || form.hasAttribute("data-checked")) { return; }
    event.preventDefault();
    unsentOnThisPhone().then(function (count) {
      if (count && !window.confirm(form.getAttribute("data-unsent-warning").replace("{n}", count))) { return; }
      form.setAttribute("data-checked", "");
      form.submit();
    });
  });
})();
