/* The field pages' service worker (served at /field-sw.js, scope /field): pages and assets
   kept for when the network is gone. Pages: network first, the last copy when offline or
   when the network has not answered in 4 s.
   Assets (/static/): from the cache, fetched once. POSTs always go to the network; what
   cannot be sent waits in the page's IndexedDB queue (static/field.js), not here. */
"use strict";

var CACHE = "gridmap-field-v2";
var ROOT = new URL(self.registration.scope).pathname.replace(/field$/, "");
var ASSETS = ["static/app.css", "static/nav.js", "static/field.css", "static/field.js", "static/favicon.svg",
              "static/vendor/leaflet/leaflet.css", "static/vendor/leaflet/leaflet.js",
              "static/vendor/fontawesome/css/all.min.css",
              "static/vendor/fontawesome/webfonts/fa-solid-900.woff2",
              "field", "field/issues", "field/report"].map(function (path) { return ROOT + path; });

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

/* How long a page waits for the network before its kept copy is shown: on a weak signal a
   request can hang for half a minute before it fails. (The network's answer, when it comes,
   still refreshes the copy.) */
var NETWORK_WAIT_MS = 4000;

function keptCopy(request) {
  return caches.match(request).then(function (hit) {
    return hit || caches.match(request, {ignoreSearch: true});
  });
}

function networkFirst(request) {
  var offline = function () {
    return keptCopy(request).then(function (hit) {
      return hit || new Response("offline", {status: 503, headers: {"Content-Type": "text/plain"}});
    });
  };
  if (self.navigator && self.navigator.onLine === false) { return offline(); }  // no signal: no wait
  var network = fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
  network.catch(function () { return null; });  // a late failure after the copy was shown: nothing to do
  var slow = new Promise(function (resolve) { setTimeout(resolve, NETWORK_WAIT_MS); })
    .then(function () { return keptCopy(request).then(function (hit) { return hit || network; }); });
  return Promise.race([network, slow]).catch(offline);
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf(ROOT + "static/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.indexOf(ROOT + "field") === 0 || url.pathname === ROOT + "map/grids.geojson") {
    event.respondWith(networkFirst(request));
  }
});
