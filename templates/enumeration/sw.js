{% load static %}// The enumerator's pages with no signal (issue 19): a service worker made of Workbox's modules (vendored from the
// npm registry under static/vendor/workbox, no CDN). Served from the site's root (enumeration.views.offline.
// service_worker) so that its scope covers /enumeration/.
//
// * The enumerator's pages — my small areas, a small area's listing, a household's form, the outbox — go to the
//   network first and fall back to the copy kept when they were last opened online (at most a day old: they hold
//   personal data). A login page or an error is never kept in their place.
// * The site's own scripts and styles (hashed names) come from the cache first.
// * A page opened online asks for the pages it links to (its small areas, its households' forms) to be kept too,
//   so that the day's work opens with no signal after one visit (the "warm" message from static/js/offline.js).
// * Logging out (or a revoked device) deletes every copy ("clear").
importScripts("{% static 'vendor/workbox/workbox-sw.js' %}");

var MODULES = {
  "workbox-core": "{% static 'vendor/workbox/workbox-core.prod.js' %}",
  "workbox-routing": "{% static 'vendor/workbox/workbox-routing.prod.js' %}",
  "workbox-strategies": "{% static 'vendor/workbox/workbox-strategies.prod.js' %}",
  "workbox-expiration": "{% static 'vendor/workbox/workbox-expiration.prod.js' %}",
  "workbox-cacheable-response": "{% static 'vendor/workbox/workbox-cacheable-response.prod.js' %}"
};
workbox.setConfig({ debug: false, modulePathCb: function (name) { return MODULES[name]; } });

var PAGES = "census-pages-v1";
var STATIC = "census-static-v1";
var PAGE_MAX_AGE = {{ page_max_age }};
var PAGE_PATTERNS = [
  /^\/enumeration\/my-areas\/$/,
  /^\/enumeration\/areas\/\d+\/$/,
  /^\/enumeration\/households\/\d+\/form\/$/,
  /^\/enumeration\/outbox\/$/
];
var OUTBOX = "{% url 'enumeration:outbox' %}";
var LOGIN = "{% url 'login' %}";

function enumeratorPage(url) {
  return url.origin === self.location.origin && PAGE_PATTERNS.some(function (pattern) { return pattern.test(url.pathname); });
}

// Keep a page only when it is the page itself: not the login page a redirect led to, not an error.
var onlyThePage = {
  cacheWillUpdate: function (args) {
    var response = args.response;
    return response && response.status === 200 && !response.redirected ? response : null;
  }
};

var pages = new workbox.strategies.NetworkFirst({
  cacheName: PAGES,
  networkTimeoutSeconds: 6,
  // The pages vary by cookie and language; the copies are this user's, in their language (logging out deletes
  // them), and a copy kept by "warm" was asked for without the navigation's headers.
  matchOptions: { ignoreVary: true },
  plugins: [
    onlyThePage,
    new workbox.expiration.ExpirationPlugin({ maxEntries: 500, maxAgeSeconds: PAGE_MAX_AGE, purgeOnQuotaError: true })
  ]
});

workbox.routing.registerRoute(function (context) {
  return context.request.method === "GET" && context.request.mode === "navigate" && enumeratorPage(context.url);
}, pages);

workbox.routing.registerRoute(function (context) {
  return context.request.method === "GET" && context.url.origin === self.location.origin &&
    context.url.pathname.indexOf("{{ static_url }}") === 0;
}, new workbox.strategies.CacheFirst({
  cacheName: STATIC,
  plugins: [
    new workbox.cacheableResponse.CacheableResponsePlugin({ statuses: [200] }),
    new workbox.expiration.ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 30 * 24 * 60 * 60 })
  ]
}));

// Any other page with no signal: the outbox, if it was kept (it lists what waits and links to the forms).
workbox.routing.setCatchHandler(function (context) {
  if (context.request.mode === "navigate") {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(OUTBOX, { ignoreVary: true });
    }).then(function (kept) {
      return kept || Response.error();
    });
  }
  return Response.error();
});

// Keep one page: asked for again (up to WARM_TRIES times, a little later each time) when the fetch fails or the
// server answers with an error — a loaded server or one bar of signal must not leave a page silently unkept.
// A login page (the session ended) is not retried. Resolves to true when the page is kept.
var WARM_TRIES = 3;
function keep(cache, url, tries) {
  return fetch(url.href, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    if (onlyThePage.cacheWillUpdate({ response: response })) {
      return cache.put(url.href, response).then(function () { return true; });
    }
    return response.redirected || response.status < 500 ? false : null;
  }, function () { return null; }).then(function (kept) {
    if (kept !== null || tries <= 1) { return Boolean(kept); }
    return new Promise(function (resolve) { setTimeout(resolve, 500 * (WARM_TRIES - tries + 1)); }).then(function () {
      return keep(cache, url, tries - 1);
    });
  });
}

// The pages asked for, one after the other; the answer says which were kept and which were not.
function warm(urls) {
  var report = { kept: [], failed: [] };
  return caches.open(PAGES).then(function (cache) {
    return urls.reduce(function (chain, path) {
      var url = new URL(path, self.location.origin);
      if (!enumeratorPage(url)) { return chain; }
      return chain.then(function () {
        return keep(cache, url, WARM_TRIES).then(function (kept) {
          (kept ? report.kept : report.failed).push(url.pathname);
        });
      });
    }, Promise.resolve());
  }).then(function () { return report; });
}

self.addEventListener("message", function (event) {
  var message = event.data || {};
  var done;
  if (message.type === "warm" && Array.isArray(message.urls)) {
    done = warm(message.urls.slice(0, 300));
  } else if (message.type === "clear") {
    done = caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) { return caches.delete(name); }));
    });
  }
  if (done) {
    event.waitUntil(done.then(function (report) {
      if (event.ports && event.ports[0]) { event.ports[0].postMessage(Object.assign({ done: true }, report || {})); }
    }));
  }
});

// The scripts and styles of the enumerator's pages, kept when the worker is installed (a page kept by "warm" was
// never rendered, so its scripts were not asked for yet).
var ASSETS = [
  "{% static 'css/app.css' %}",
  "{% static 'js/app.js' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'js/offline.js' %}",
  "{% static 'js/outbox.js' %}",
  "{% static 'js/skip-logic.js' %}",
  "{% static 'js/enumeration-form.js' %}",
  "{% static 'js/area-listing.js' %}",
  "{% static 'vendor/signature_pad/signature_pad.umd.min.js' %}",
  "{% static 'favicon.svg' %}"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.addAll(ASSETS); }).then(function () {
    return self.skipWaiting();
  }));
});
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
