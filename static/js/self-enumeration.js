// Self-enumeration (自主填报): the respondent's answers are kept on the phone too, so that what was typed is not
// lost to a dropped connection or a closed messaging-app browser. The server's copy (saved with every "Save")
// comes first: a field the page shows empty is filled from the phone's copy and marked, and a value the server
// holds is dropped from the phone's copy. All copies go once the form is declared. The form's skip logic (shared
// with the enumerator's form) and the slip page's print button live here too.
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

  // The paper form's skip logic, the enumerator's own (static/js/skip-logic.js): an item that does not apply given
  // the answers so far is hidden, and disabled so that the post leaves it out — an answer given before another
  // answer made the item not apply is not sent (the server reads it as not answered, as the enumerator's form
  // sends it). Applied after the phone's copy has filled the page.
  var Skip = window.CensusSkip;
  var skipForm = document.querySelector("form[data-skip]");
  var skipNode = document.getElementById("respondent-skip-data");
  if (Skip && skipForm && skipNode) {
    var skip = JSON.parse(skipNode.textContent);
    var context = { allDead: false, longForm: false, thresholds: skip.thresholds };
    // Until H1 is answered, the household is taken for a family household (nearly every household filling in its
    // own form is one): D2, the relationship to the head, stays on the page, as the page's hint asks for it.
    var household = Object.assign({}, skip.household);
    if (household.h1_kind === null || household.h1_kind === undefined) { household.h1_kind = 1; }
    var askedOf = skipForm.getAttribute("data-skip") === "household"
      ? function (answers) { return Skip.householdAsked(answers, context); }
      : function (answers) { return Skip.personAsked(answers, household, context); };
    var applySkip = function () {
      Skip.show(skipForm, Skip.effective(Skip.values(skipForm), askedOf).asked, true);
    };
    skipForm.addEventListener("input", applySkip);
    skipForm.addEventListener("change", applySkip);
    applySkip();
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
