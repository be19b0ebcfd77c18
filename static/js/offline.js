// The enumerator's work kept on the phone (issue 19): every answer goes into IndexedDB before anything else, and an
// outbox sends the records to the server in order when there is a signal. A record stays on the phone until the
// server has acknowledged the version it holds (the record's ``rev``); a change typed while it was on its way
// keeps it for the next round. The server stays the judge: what comes back — accepted, refused with the rules
// that failed, changed on the server meanwhile, or "log in again" — is kept on the record and shown.
//
// A request answered with anything but the server's JSON (a redirect to the login page, a captive portal's page)
// is never taken for success: a 401 or the login page asks the enumerator to log in again in place (the dialog
// below), without leaving the page and with everything still on the phone.
(function () {
  "use strict";
  var configNode = document.getElementById("offline-config");
  if (!configNode || !window.indexedDB) {
    return;
  }
  var C = JSON.parse(configNode.textContent);
  var T = C.text;
  var DB_NAME = "census-offline";
  var STORE = "outbox";
  var DAY = 24 * 60 * 60 * 1000;
  var bar = document.querySelector("[data-offline-bar]");
  var dialog = document.querySelector("[data-login-dialog]");
  var dbPromise = null;
  var acked = {}; // key → the last version the server acknowledged in this page (versions only grow)
  var flushing = null;
  var again = false;
  var blocked = false; // the login ended: nothing is sent until the enumerator logs in again
  var lastState = null;

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function csrfToken() {
    // The cookie first: logging in again (below) rotates the token, and the copy in the page is then stale.
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var headers = document.body.getAttribute("hx-headers");
    try {
      return (headers && JSON.parse(headers)["X-CSRFToken"]) || "";
    } catch (e) {
      return "";
    }
  }

  // --- IndexedDB --------------------------------------------------------------------------------------------

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = window.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        };
        request.onsuccess = function () {
          var db = request.result;
          // Another page deletes the database (a revoked phone, logging out): let it.
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  // One read-write transaction: ``change(current)`` returns the record to keep, or null to delete it.
  function update(key, change) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, "readwrite");
        var store = transaction.objectStore(STORE);
        var result = null;
        var read = store.get(key);
        read.onsuccess = function () {
          result = change(read.result || null);
          if (result) {
            store.put(result);
          } else if (read.result) {
            store.delete(key);
          }
        };
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function get(key) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var read = db.transaction(STORE, "readonly").objectStore(STORE).get(key);
        read.onsuccess = function () { resolve(read.result || null); };
        read.onerror = function () { reject(read.error); };
      });
    });
  }

  function everything() {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var read = db.transaction(STORE, "readonly").objectStore(STORE).getAll();
        read.onsuccess = function () { resolve(read.result || []); };
        read.onerror = function () { reject(read.error); };
      });
    });
  }

  // This enumerator's records, oldest first: the order they are sent in.
  function all() {
    return everything().then(function (records) {
      return records.filter(function (record) { return record.user === C.user; })
        .sort(function (a, b) { return a.created - b.created || (a.key < b.key ? -1 : 1); });
    });
  }

  function remove(key) {
    return update(key, function () { return null; });
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // The key of one version of a record: a retry of it is the same request (replayed by the server), a change is
  // a new one.
  function requestKey(record) {
    return record.idempotencyKey + "-" + record.rev + "-" + (record.version || 0);
  }

  // Store the page's copy of a record: a new ``rev`` every time, so an acknowledgement of an older one keeps it.
  function save(record) {
    var now = Date.now();
    return update(record.key, function (current) {
      var versions = [record.version || 0, acked[record.key] || 0, current ? current.version || 0 : 0];
      return Object.assign({}, current || {}, record, {
        user: C.user,
        version: Math.max.apply(null, versions),
        rev: (current ? current.rev || 0 : 0) + 1,
        created: current ? current.created : now,
        idempotencyKey: current && current.idempotencyKey ? current.idempotencyKey : newKey(),
        savedAt: now,
        status: "local",
        message: "",
        errors: []
      });
    }).then(function (saved) {
      announce("local", saved, null);
      return saved;
    });
  }

  // Personal data stays on the phone for at most CENSUS_OFFLINE_DAYS, sent or not; another user's copy is not
  // this user's to see or send (it is kept for them until its days are over).
  function purge() {
    var limit = Date.now() - C.maxDays * DAY;
    return everything().then(function (records) {
      var old = records.filter(function (record) { return (record.savedAt || 0) < limit; });
      return Promise.all(old.map(function (record) { return remove(record.key); }));
    });
  }

  // --- talking to the server ---------------------------------------------------------------------------------

  function isLoginPage(url) {
    try {
      return new URL(url, window.location.href).pathname === C.loginUrl;
    } catch (e) {
      return false;
    }
  }

  // POST JSON and say what the answer means: ok, login, conflict, refused or offline (not sent, try later).
  function send(url, body, headers) {
    var all = Object.assign({
      "Content-Type": "application/json",
      "Accept": "application/json",
      "X-CSRFToken": csrfToken()
    }, headers || {});
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: all,
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var json = type.indexOf("application/json") !== -1;
      var parsed = json ? response.json().catch(function () { return {}; }) : Promise.resolve({});
      return parsed.then(function (content) {
        var result = { status: response.status, body: content };
        if (response.status === 410 && content && content.code === "device_revoked") {
          result.kind = "revoked";
        } else if (response.status === 401 || (response.redirected && isLoginPage(response.url))) {
          result.kind = "login";
        } else if (!json || response.redirected || response.status >= 500) {
          // Not the server's answer (a portal's page, a proxy's error): nothing was saved.
          result.kind = "offline";
        } else if (response.status === 409) {
          result.kind = "conflict";
        } else if (response.status >= 400) {
          result.kind = "refused";
        } else {
          result.kind = content && content.ok === false ? "refused" : "ok";
        }
        return result;
      });
    }, function () {
      return { kind: "offline", status: 0, body: {} };
    });
  }

  function mark(key, status, body) {
    return update(key, function (current) {
      if (!current) { return null; }
      current.status = status;
      current.message = (body && (body.message || body.detail)) || "";
      current.errors = (body && (body.errors || body.issues)) || [];
      current.sentRev = current.rev;
      return current;
    });
  }

  // The enumerator's password for signing what was confirmed at the door: asked once when such a record is
  // sent, kept in this page's memory only (never stored), forgotten when the page goes.
  var signPassword = null;
  var passwordRound = 0;
  var passwordPromise = null;
  var passwordDialog = document.querySelector("[data-password-dialog]");

  function askPassword(message) {
    if (signPassword) { return Promise.resolve(signPassword); }
    if (passwordPromise) { return passwordPromise; }
    if (!passwordDialog) { return Promise.resolve(null); }
    passwordPromise = new Promise(function (resolve) {
      var form = passwordDialog.querySelector("[data-password-form]");
      var input = form.querySelector("[name=password]");
      var error = passwordDialog.querySelector("[data-password-error]");
      error.textContent = message || "";
      error.hidden = !message;
      input.value = "";
      if (!passwordDialog.open) { passwordDialog.showModal(); }
      input.focus();
      var submit = function (event) {
        event.preventDefault();
        if (!input.value) { return; }
        form.removeEventListener("submit", submit);
        signPassword = input.value;
        passwordRound += 1;
        input.value = "";
        passwordDialog.close();
        passwordPromise = null;
        resolve(signPassword);
      };
      form.addEventListener("submit", submit);
    });
    return passwordPromise;
  }
  window.addEventListener("pagehide", function () { signPassword = null; });

  // After the form: the respondent's confirmation, then the registrar's signature, each a request of its own under
  // its own key (a retry after a lost answer is replayed by the server, never a second confirmation or signature).
  function sendSigning(record, version) {
    var base = requestKey(record) + "-";
    return send(record.confirmUrl, record.signing.respondent, { "Idempotency-Key": base + "confirm" }).then(function (confirmed) {
      if (confirmed.kind !== "ok") { return confirmed; }
      var attempt = function (message) {
        return askPassword(message).then(function (password) {
          if (!password) { return { kind: "offline", status: 0, body: {} }; }
          var body = { password: password, version: version };
          return send(record.signUrl, body, { "Idempotency-Key": base + "sign-" + passwordRound }).then(function (signed) {
            if (signed.kind === "refused" && signed.body && signed.body.code === "bad_password") {
              signPassword = null;
              return attempt(signed.body.detail || T.badPassword);
            }
            return signed;
          });
        });
      };
      return attempt("");
    });
  }

  function sendOne(record) {
    var sentRev = record.rev;
    var body = Object.assign({}, record.body);
    var headers = {};
    if (record.kind === "form") {
      body.version = record.version;
    }
    if (record.idempotencyKey) {
      headers["Idempotency-Key"] = requestKey(record);
    }
    announce("sending", record, null);
    return send(record.url, body, headers).then(function (result) {
      if (result.kind === "ok" && record.signing) {
        return sendSigning(record, result.body.version).then(function (signed) {
          if (signed.kind === "ok") { signed.body = Object.assign({ issues: [] }, signed.body); }
          return signed;
        });
      }
      return result;
    }).then(function (result) {
      if (result.kind === "ok") {
        if (result.body && typeof result.body.version === "number") {
          acked[record.key] = Math.max(acked[record.key] || 0, result.body.version);
        }
        return update(record.key, function (current) {
          if (!current || current.rev === sentRev) { return null; }
          // Changed while on its way: the newer copy goes next round, on top of the version just made.
          current.version = Math.max(current.version || 0, acked[record.key] || 0);
          return current;
        }).then(function (left) {
          announce("sent", left || record, result.body);
          return "next";
        });
      }
      if (result.kind === "revoked") {
        return revoked().then(function () { return "stop"; });
      }
      if (result.kind === "offline" || result.kind === "login") {
        return mark(record.key, result.kind === "login" ? "login" : "waiting", result.body).then(function (kept) {
          announce(result.kind === "login" ? "login" : "waiting", kept || record, result.body);
          return "stop";
        });
      }
      return mark(record.key, result.kind, result.body).then(function (kept) {
        announce(result.kind, kept || record, result.body);
        return "next";
      });
    });
  }

  // Send what waits, oldest first, SEND_LANES households at a time; stop taking more at the first "no signal" or
  // "log in again".
  var SEND_LANES = 4;
  function flush() {
    if (blocked) {
      return Promise.resolve(false);
    }
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = all().then(function (records) {
      var queue = records.filter(function (record) {
        // Refused and conflicting records wait for the enumerator (a new rev sends them again).
        return !((record.status === "refused" || record.status === "conflict") && record.sentRev === record.rev);
      });
      // A few households at a time (each household's own requests — its form, the respondent's confirmation,
      // the signature — stay in order, one after the other): the server answers several enumerators at once,
      // and a long outbox after a day without signal is sent in a fraction of the time.
      var next = 0;
      var stopped = false;
      var lane = function () {
        if (stopped || next >= queue.length) { return Promise.resolve(); }
        var record = queue[next];
        next += 1;
        return sendOne(record).then(function (result) {
          if (result === "stop") { stopped = true; }
          return lane();
        });
      };
      var lanes = [];
      for (var i = 0; i < Math.min(SEND_LANES, queue.length); i += 1) { lanes.push(lane()); }
      return Promise.all(lanes).then(function () { return !stopped; });
    }).then(function (done) {
      flushing = null;
      // Asked again meanwhile (a change typed, the signal or the login back while the last lanes finished).
      if (again && !blocked) {
        again = false;
        return flush();
      }
      again = false;
      return done;
    }, function (error) {
      flushing = null;
      throw error;
    });
    return flushing;
  }

  // --- what the page shows -------------------------------------------------------------------------------

  function announce(type, record, body) {
    if (type === "login") {
      blocked = true;
      relogin();
    }
    lastState = type;
    document.dispatchEvent(new CustomEvent("census:outbox", { detail: { type: type, record: record, body: body } }));
    refresh();
  }

  var STATE_TEXT = { local: "local", sending: "sending", sent: "sent", waiting: "waiting", refused: "refused",
    conflict: "conflict", login: "login" };

  // At most a few times a second: an outbox of hundreds of records announces every request, and each count reads
  // the whole store.
  var refreshing = null;
  function refresh() {
    if (!refreshing) {
      refreshing = new Promise(function (resolve) {
        window.setTimeout(function () {
          refreshing = null;
          count().then(resolve, function () { resolve(0); });
        }, 200);
      });
    }
    return refreshing;
  }

  // The lines that say why the server refused a record: its message, then each rule that failed.
  function problemLines(record) {
    var lines = record.message ? [record.message] : [];
    (record.errors || []).forEach(function (error) {
      var where = error.label || error.location || error.item || "";
      var text = error.messages ? error.messages.join(" ") : error.message || "";
      if (text) { lines.push((where ? where + "：" : "") + text); }
    });
    return lines;
  }

  // "My work" (my small areas, a small area's listing): a household whose send the server refused says so on its
  // card, with the rules that failed — not only on the outbox page.
  function markCards() {
    var cards = document.querySelectorAll("[data-household-card]");
    if (!cards.length) { return Promise.resolve(0); }
    return all().then(function (records) {
      var refused = {};
      records.forEach(function (record) {
        if (record.household && record.status === "refused") { refused[String(record.household)] = record; }
      });
      var marked = 0;
      Array.prototype.forEach.call(cards, function (card) {
        var record = refused[card.getAttribute("data-household-card")];
        var box = card.querySelector("[data-refused-box]");
        if (!record) {
          if (box) { box.parentNode.removeChild(box); }
          return;
        }
        if (!box) {
          box = document.createElement("div");
          box.className = "error-box small";
          box.setAttribute("data-refused-box", "");
          card.appendChild(box);
        }
        box.textContent = "";
        var title = document.createElement("p");
        var open = document.createElement("a");
        open.href = record.pageUrl || C.outboxUrl;
        open.textContent = T.refusedCard;
        title.appendChild(open);
        box.appendChild(title);
        var list = document.createElement("ul");
        problemLines(record).forEach(function (line) {
          var item = document.createElement("li");
          item.textContent = line;
          list.appendChild(item);
        });
        box.appendChild(list);
        marked += 1;
      });
      return marked;
    });
  }

  function count() {
    markCards().catch(function () { return 0; });
    if (!bar) { return Promise.resolve(0); }
    return all().then(function (records) {
      var count = records.length;
      var state = lastState;
      if (!navigator.onLine && count) { state = "waiting"; }
      if (blocked) { state = "login"; }
      var stateNode = bar.querySelector("[data-offline-state]");
      var countNode = bar.querySelector("[data-offline-count]");
      stateNode.textContent = state ? T[STATE_TEXT[state]] : (count ? T.local : T.allSent);
      bar.setAttribute("data-state", state || (count ? "local" : "sent"));
      bar.setAttribute("data-unsent", String(count));
      countNode.textContent = format(T.unsent, { n: count });
      countNode.hidden = count === 0;
      bar.classList.toggle("offline", !navigator.onLine);
      return count;
    });
  }

  // --- logging in again in place -------------------------------------------------------------------------

  var loginPromise = null;

  function relogin() {
    if (loginPromise) { return loginPromise; }
    if (!dialog) { return Promise.resolve(false); }
    loginPromise = new Promise(function (resolve) {
      var form = dialog.querySelector("[data-login-form]");
      var error = dialog.querySelector("[data-login-error]");
      var password = form.querySelector("[name=password]");
      error.hidden = true;
      password.value = "";
      if (!dialog.open) { dialog.showModal(); }
      password.focus();
      var submit = function (event) {
        event.preventDefault();
        // The login page first: it sets the CSRF cookie the login needs (a restarted browser may have none).
        window.fetch(C.loginUrl, { credentials: "same-origin" }).then(function () {
          var data = new URLSearchParams();
          data.set("username", form.querySelector("[name=username]").value);
          data.set("password", password.value);
          data.set("csrfmiddlewaretoken", csrfToken());
          return window.fetch(C.loginUrl, {
            method: "POST",
            credentials: "same-origin",
            redirect: "manual",
            headers: { "X-CSRFToken": csrfToken() },
            body: data
          });
        }).then(function (response) {
          // A successful login answers with a redirect; the login page again (200) means it was refused.
          if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
            form.removeEventListener("submit", submit);
            password.value = "";
            dialog.close();
            var token = csrfToken();
            if (token) { document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token })); }
            blocked = false;
            loginPromise = null;
            lastState = null;
            resolve(true);
            document.dispatchEvent(new CustomEvent("census:login"));
            flush();
          } else {
            error.textContent = T.badPassword;
            error.hidden = false;
            password.focus();
          }
        }, function () {
          error.textContent = T.loginFailed;
          error.hidden = false;
        });
      };
      form.addEventListener("submit", submit);
    });
    return loginPromise;
  }

  // --- a revoked phone (item 7) ---------------------------------------------------------------------------

  // The office revoked this phone (it was lost): delete everything it keeps — the outbox, the kept pages, the
  // service worker — and open the page again, which the server answers with the "revoked" page (that page
  // reports the copy deleted). Nothing more is sent.
  var revoking = null;
  function revoked() {
    if (revoking) { return revoking; }
    blocked = true;
    var steps = [open().then(function (db) { db.close(); dbPromise = null; }, function () { return null; }).then(function () {
      return new Promise(function (resolve) {
        var request = window.indexedDB.deleteDatabase(DB_NAME);
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      });
    })];
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
    revoking = Promise.all(steps).catch(function () { return null; }).then(function () {
      document.documentElement.setAttribute("data-device-revoked", "");
      window.location.reload();
    });
    return revoking;
  }

  // This phone keeps the enumerator's work: the server gives it a key of its own (a cookie), by which the office
  // can revoke it; a revoked phone is answered so at once.
  function registerDevice() {
    if (!C.deviceUrl || !navigator.onLine) { return Promise.resolve(null); }
    return send(C.deviceUrl, {}).then(function (result) {
      if (result.kind === "revoked") { return revoked(); }
      return result;
    });
  }
  document.addEventListener("census:login", function () { registerDevice(); });

  window.CensusOffline = {
    config: C,
    format: format,
    csrfToken: csrfToken,
    requestKey: requestKey,
    save: save,
    get: get,
    all: all,
    remove: remove,
    update: update,
    send: send,
    flush: flush,
    refresh: refresh,
    relogin: relogin,
    problemLines: problemLines,
    markCards: markCards,
    registerDevice: registerDevice
  };

  // --- the service worker: the enumerator's pages with no signal ------------------------------------------

  var PAGE_LINKS = [/^\/enumeration\/areas\/\d+\/$/, /^\/enumeration\/households\/\d+\/form\/$/,
    /^\/enumeration\/my-areas\/$/, /^\/enumeration\/outbox\/$/];

  // The pages this one links to that the enumerator may open with no signal, and this page itself.
  function pagesToKeep() {
    var seen = {};
    var urls = [window.location.pathname];
    Array.prototype.forEach.call(document.querySelectorAll("a[href]"), function (link) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      if (url.origin === window.location.origin && PAGE_LINKS.some(function (p) { return p.test(url.pathname); })) {
        urls.push(url.pathname);
      }
    });
    return urls.filter(function (url) { return seen[url] ? false : (seen[url] = true); });
  }

  function tellWorker(message) {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(false); }
    return navigator.serviceWorker.ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) { resolve(event.data || true); };
        registration.active.postMessage(message, [channel.port2]);
      });
    });
  }

  // Ask the worker to keep this page and the pages it links to. What it could not keep (no answer from a loaded
  // server even after its retries) is asked for again a little later, while the page is open and online; the page
  // says how many pages are not kept yet (``data-offline-unkept``).
  function keepPages(urls, round) {
    return tellWorker({ type: "warm", urls: urls }).then(function (report) {
      var failed = (report && report.failed) || [];
      document.documentElement.setAttribute("data-offline-unkept", String(failed.length));
      if (failed.length && round < 3) {
        window.setTimeout(function () {
          if (navigator.onLine) { keepPages(failed, round + 1); }
        }, 10000 * round);
      }
      return report;
    });
  }

  function parsed() {
    if (document.readyState !== "loading") { return Promise.resolve(); }
    return new Promise(function (resolve) { document.addEventListener("DOMContentLoaded", resolve, { once: true }); });
  }

  function startWorker() {
    if (!("serviceWorker" in navigator) || !C.serviceWorkerUrl) { return; }
    navigator.serviceWorker.register(C.serviceWorkerUrl, { scope: "/" }).then(parsed).then(function () {
      if (!navigator.onLine) { return true; }
      // The links are read once the whole page is parsed: a worker already registered answers before that.
      return keepPages(pagesToKeep(), 1);
    }).then(function () {
      // What the browser tests wait for: this page and the pages it links to open with no signal now.
      document.documentElement.setAttribute("data-offline-ready", "");
    }).catch(function () { /* no service worker: the pages need a signal, the answers are still kept */ });
  }

  window.CensusOffline.tellWorker = tellWorker;
  startWorker();

  window.addEventListener("online", function () { refresh(); flush(); });
  window.addEventListener("offline", function () { refresh(); });
  // A signal can come back without an "online" event (one bar, a captive portal gone): try again now and then.
  window.setInterval(function () {
    all().then(function (records) { if (records.length && !blocked) { flush(); } });
  }, 15000);
  registerDevice().then(function () {
    if (revoking) { return null; }
    return purge().then(refresh).then(function () { return flush(); });
  }).catch(function () { refresh(); });
})();
