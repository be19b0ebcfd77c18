// Self-enumeration (自主填报): the respondent's answers are kept on the phone too, so that what was typed is not
// lost to a dropped connection or a closed messaging-app browser. The server's copy (saved with every "Save")
// comes first: a field the page shows empty is filled from the phone's copy and marked, and a value the server
// holds is dropped from the phone's copy. All copies go once the form is declared. The slip page's print button
// lives here too.
(function () {
  "use strict";
  var PREFIX = "census-self:";
  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  var storage = store();

  var done = document.querySelector("[data-clear-phone]");
  if (done && storage) {
    for (var i = storage.length - 1; i >= 0; i--) {
      var key = storage.key(i);
      if (key && key.indexOf(PREFIX) === 0) { storage.removeItem(key); }
    }
  }

  var form = document.querySelector("form[data-keep-on-phone]");
  if (form && storage) {
    var key = PREFIX + window.location.pathname;
    var saved = {};
    try { saved = JSON.parse(storage.getItem(key) || "{}") || {}; } catch (e) { saved = {}; }
    var left = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || !saved[el.name]) { return; }
      if (!el.value) {
        el.value = saved[el.name];
        el.classList.add("respondent-restored");
        left[el.name] = saved[el.name];
      }
    });
    try {
      if (Object.keys(left).length) { storage.setItem(key, JSON.stringify(left)); } else { storage.removeItem(key); }
    } catch (e) { /* nothing kept */ }
    form.addEventListener("input", function () {
      var values = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.type !== "hidden" && el.type !== "submit" && el.value) { values[el.name] = el.value; }
      });
      try { storage.setItem(key, JSON.stringify(values)); } catch (e) { /* full or private mode: the server keeps it */ }
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) { window.print(); }
  });
  document.addEventListener("submit", function (event) {
    var f = event.target;
    var message = f && f.getAttribute && f.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
