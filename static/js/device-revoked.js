// A phone revoked by its office (issue 19): the server answered "revoked" (410, Clear-Site-Data). Whatever the
// browser did with that header, this page deletes the phone's copy itself — the outbox (IndexedDB), the pages
// kept for no signal (Cache Storage) and the service worker — and then tells the server the copy is gone.
(function () {
  "use strict";
  var node = document.querySelector("[data-device-revoked]");
  if (!node) { return; }

  function wipe() {
    var steps = [];
    if (window.indexedDB) {
      steps.push(new Promise(function (resolve) {
        var request = window.indexedDB.deleteDatabase("census-offline");
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      }));
    }
    if (window.caches) {
      steps.push(window.caches.keys().then(function (names) {
        return Promise.all(names.map(function (name) { return window.caches.delete(name); }));
      }));
    }
    if (navigator.serviceWorker) {
      steps.push(navigator.serviceWorker.getRegistrations().then(function (registrations) {
        return Promise.all(registrations.map(function (registration) { return registration.unregister(); }));
      }));
    }
    return Promise.all(steps);
  }

  wipe().then(function () {
    return window.fetch(node.getAttribute("data-wiped-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": node.getAttribute("data-csrf"), "Accept": "application/json" }
    });
  }).then(function () {
    node.querySelector("[data-wipe-status]").hidden = true;
    node.querySelector("[data-wipe-done]").hidden = false;
    document.documentElement.setAttribute("data-device-wiped", "");
  }).catch(function () { /* told again at the next contact */ });
})();
