// The listing (户主姓名底册) of a small area: find a household by its number or its head's name, or show only
// those in a state, without leaving the page — on the phone itself, so it works offline too. It reads what the
// page shows (a masked name stays masked); the state comes from each entry's badge (class "state-<state>").
(function () {
  "use strict";
  var tools = document.querySelector("[data-register-filters]");
  if (!tools) {
    return;
  }
  var query = tools.querySelector("[data-register-q]");
  var state = tools.querySelector("[data-register-state]");
  var count = tools.querySelector("[data-register-count]");
  var entries = Array.prototype.slice.call(document.querySelectorAll(".household-register > .register-entry"));
  // Signed, and every state after it: no longer the enumerator's to do.
  var DONE = ["signed", "approved", "accepted", "locked"];
  var template = count.getAttribute("data-template") || "";

  function stateOf(entry) {
    var badge = entry.querySelector(".register-head [class*='state-']");
    var match = badge && badge.className.match(/state-([a-z_]+)/);
    return match ? match[1] : "";
  }

  // The entry a link leads to (#h29 after signing household 29) is shown whatever the filters say.
  var target = window.location.hash.length > 1 ? document.getElementById(window.location.hash.slice(1)) : null;

  function apply() {
    var text = query.value.trim().toLowerCase();
    var wanted = state.value;
    var shown = 0;
    entries.forEach(function (entry) {
      var number = (entry.querySelector(".hno") || {}).textContent || "";
      var name = ((entry.querySelector(".register-head .grow") || {}).textContent || "").toLowerCase();
      var entryState = stateOf(entry);
      var matchesText = !text || number.indexOf(text) === 0 || String(parseInt(number, 10)) === text ||
        name.indexOf(text) !== -1;
      var matchesState = !wanted || (wanted === "todo" ? DONE.indexOf(entryState) === -1 : entryState === wanted);
      entry.hidden = !(matchesText && matchesState) && entry !== target;
      if (!entry.hidden) {
        shown += 1;
      }
    });
    count.textContent = template.replace("{shown}", shown).replace("{total}", entries.length);
  }

  tools.hidden = false;
  query.addEventListener("input", apply);
  state.addEventListener("change", apply);
  apply();
  // A link to the buildings (after adding one) opens their section.
  if (window.location.hash === "#buildings") {
    var buildings = document.getElementById("buildings");
    if (buildings) {
      buildings.open = true;
    }
  }
})();
