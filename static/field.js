/* The tablet's field pages: the map of my households, the visit form, the report form.
   Every text from the server goes in with textContent; nothing is built from HTML strings. */
(function () {
  "use strict";

  function texts() {
    var out = {};
    document.querySelectorAll("template.field-texts").forEach(function (holder) {
      holder.content.querySelectorAll("[data-key]").forEach(function (el) {
        out[el.getAttribute("data-key")] = el.textContent;
      });
    });
    return out;
  }
  var T = texts();
  function say(key, number) {
    var value = number === undefined ? "" : String(number);
    return (T[key] || key).replace("{m}", value).replace("{n}", value);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function answered(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      if (!response.ok) {
        var error = new Error(data.message || say("failed"));
        error.data = data; error.status = response.status;
        throw error;
      }
      return data;
    });
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(answered);
  }

  /* A photo goes as multipart `photo`, after the visit or issue it shows (by client_uuid). */
  function postPhoto(url, blob) {
    var body = new FormData();
    body.append("photo", blob, blob.name || "photo");
    return fetch(url, {method: "POST", credentials: "same-origin", body: body,
                       headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}}).then(answered);
  }

  function chosenPhoto(input) {
    return input && input.files && input.files.length ? input.files[0] : null;
  }

  /* Send the photo now; without network keep it in the queue behind its visit or issue. A
     refusal (not a photo, too large) is said where `errorEl` is; the visit stays recorded. */
  function sendPhoto(url, photo, label, errorEl) {
    if (!photo) { return Promise.resolve(); }
    return postPhoto(url, photo).catch(function (failure) {
      if (!failure.status || failure.status === 503) { return queuePhoto(url, photo, label); }
      errorEl.textContent = failure.message; errorEl.hidden = false;
      return null;
    });
  }

  function showPhotoName(input) {
    if (!input) { return; }
    input.addEventListener("change", function () {
      var photo = chosenPhoto(input), name = document.getElementById(input.id + "-name");
      if (name) { name.textContent = photo ? photo.name : ""; }
    });
  }

  /* Where the tablet is: one fix on load (and again on demand), accuracy shown. */
  function locate(statusEl, onFix) {
    var state = {position: null};
    if (!navigator.geolocation) { statusEl.textContent = say("denied"); return state; }
    statusEl.textContent = say("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      state.position = pos.coords;
      statusEl.textContent = say("located", Math.round(pos.coords.accuracy));
      if (onFix) { onFix(pos.coords); }
    }, function () {
      statusEl.textContent = say("denied");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    return state;
  }

  function whereFields(state) {
    if (!state.position) { return {}; }
    return {lon: state.position.longitude, lat: state.position.latitude,
            accuracy_m: Math.round(state.position.accuracy)};
  }

  /* --- my households: the map ---------------------------------------------------------- */
  function homeMap() {
    var holder = document.getElementById("field-map"), dataEl = document.getElementById("field-data");
    if (!holder || !dataEl || !window.L) { return; }
    var data = JSON.parse(dataEl.textContent);
    var map = L.map(holder, {zoomControl: true});
    var bounds = L.latLngBounds([]);
    data.households.forEach(function (h) {
      if (!h.lonlat) { return; }
      var latlng = [h.lonlat[1], h.lonlat[0]];
      var marker = L.circleMarker(latlng, {radius: 9, weight: 2, color: "#ffffff", fillOpacity: 1,
                                           fillColor: h.due ? "#b3261e" : "#1e6b34"}).addTo(map);
      var link = document.createElement("a");
      link.href = h.url; link.textContent = h.head + " " + h.code;
      marker.bindPopup(link);
      bounds.extend(latlng);
    });
    fetch(data.grids, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (grids) {
      var layer = L.geoJSON(grids, {style: {color: "#1a56db", weight: 2, fillOpacity: 0.05}}).addTo(map);
      layer.bringToBack();
      if (!bounds.isValid() && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
    }).catch(function () { /* the outline is a frame; the households are the content */ });
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [20, 20]}); } else { map.setView([25.55, 102.40], 11); }
    var me = null, button = document.getElementById("locate-me"), status = document.getElementById("locate-status");
    if (button) {
      button.addEventListener("click", function () {
        locate(status, function (coords) {
          var latlng = [coords.latitude, coords.longitude];
          if (me) { map.removeLayer(me); }
          me = L.circle(latlng, {radius: Math.max(coords.accuracy, 5), color: "#1a56db", weight: 2}).addTo(map);
          map.setView(latlng, Math.max(map.getZoom(), 15));
        });
      });
    }
  }

  /* --- log a visit ----------------------------------------------------------------------- */
  function visitForm() {
    var form = document.getElementById("visit-form");
    if (!form) { return; }
    var where = locate(document.getElementById("geo-status"));
    var clientUuid = newUuid();  // one per visit: a resend never records it twice
    var photoInput = document.getElementById("visit-photo");
    showPhotoName(photoInput);
    function items(group) { return form.querySelectorAll('.toggle-item[data-group="' + group + '"]'); }
    function refreshAll(group) {
      var all = Array.prototype.every.call(items(group), function (b) { return b.getAttribute("aria-pressed") === "true"; });
      form.querySelector('.toggle-all[data-group="' + group + '"]').setAttribute("aria-pressed", all ? "true" : "false");
    }
    form.addEventListener("click", function (event) {
      var button = event.target.closest(".toggle");
      if (!button) { return; }
      var group = button.getAttribute("data-group"), on = button.getAttribute("aria-pressed") !== "true";
      if (button.classList.contains("toggle-all")) {
        items(group).forEach(function (b) { b.setAttribute("aria-pressed", on ? "true" : "false"); });
      } else {
        button.setAttribute("aria-pressed", on ? "true" : "false");
      }
      refreshAll(group);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var checklist = {};
      ["look", "ask", "leave"].forEach(function (group) {
        checklist[group] = Array.prototype.filter.call(items(group), function (b) {
          return b.getAttribute("aria-pressed") === "true";
        }).map(function (b) { return b.getAttribute("data-item"); });
      });
      var body = Object.assign({household_id: Number(form.getAttribute("data-household")), client_uuid: clientUuid,
                                checklist: checklist, notes: document.getElementById("notes").value}, whereFields(where));
      var save = document.getElementById("save-visit"), error = document.getElementById("visit-error");
      var photo = chosenPhoto(photoInput), label = form.getAttribute("data-label");
      var photoUrl = form.getAttribute("data-photo-api").replace("REF", encodeURIComponent(clientUuid));
      save.disabled = true; error.hidden = true;
      postJson(form.getAttribute("data-api"), body).then(function (data) {
        sendPhoto(photoUrl, photo, label, document.getElementById("visit-photo-error"));
        form.hidden = true;
        document.getElementById("due-before").hidden = true;  // no longer due: it was just visited
        document.getElementById("report-link").href = data.report_url;
        window.scrollTo(0, 0);
        if (data.far) {
          var far = document.getElementById("visit-far");
          far.textContent = say("far", data.distance_m); far.hidden = false;
        }
        document.getElementById("visit-saved").hidden = false;
      }).catch(function (failure) {
        if (!failure.status || failure.status === 503) {  // no network: keep it on the tablet
          queueVisit(form.getAttribute("data-api"), body, label).then(function () {
            return photo ? queuePhoto(photoUrl, photo, label) : null;
          }).then(function () {
            form.hidden = true;
            document.getElementById("due-before").hidden = true;
            var report = document.getElementById("queued-report-link");
            report.href = report.getAttribute("href") + "?visit=" + encodeURIComponent(clientUuid) +
              "&household=" + encodeURIComponent(form.getAttribute("data-household"));
            document.getElementById("visit-queued").hidden = false;
            window.scrollTo(0, 0);
          }, function () {
            error.textContent = say("failed"); error.hidden = false; save.disabled = false;
          });
          return;
        }
        error.textContent = failure.message || say("failed"); error.hidden = false; save.disabled = false;
      });
    });
  }

  /* --- report an issue found on a visit --------------------------------------------------- */
  /* Where the issue is: the tablet's position, unless the user taps the map to place it. */
  function pickOnMap(where) {
    var holder = document.getElementById("report-map"), status = document.getElementById("place-status");
    var picked = {latlng: null};
    if (!holder || !window.L) { return picked; }
    var map = L.map(holder, {zoomControl: true}).setView([25.55, 102.40], 12), pin = null, here = null;
    fetch(holder.getAttribute("data-grids"), {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (grids) {
        var layer = L.geoJSON(grids, {style: {color: "#1a56db", weight: 2, fillOpacity: 0.05}, interactive: false}).addTo(map);
        if (!here && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
      }).catch(function () { /* the outline is a frame: tapping works without it */ });
    where.onFix = function (coords) {
      here = [coords.latitude, coords.longitude];
      if (!picked.latlng) { map.setView(here, 17); placePin(here); }
    };
    function placePin(latlng) {
      if (pin) { pin.setLatLng(latlng); } else {
        pin = L.circleMarker(latlng, {radius: 11, weight: 3, color: "#ffffff", fillColor: "#b3261e", fillOpacity: 1}).addTo(map);
      }
    }
    map.on("click", function (event) {
      picked.latlng = event.latlng;
      placePin(event.latlng);
      status.textContent = say("placed");
      holder.setAttribute("data-picked", "true");
    });
    return picked;
  }

  function reportForm() {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var query = new URLSearchParams(window.location.search);
    var visit = query.get("visit"), household = query.get("household");
    var error = document.getElementById("report-error"), send = document.getElementById("send-report");
    var back = document.getElementById("back-to-household");
    if (household && /^[0-9]+$/.test(household)) {
      back.href = back.getAttribute("data-household-url").replace(/0$/, household);
    }
    if (!visit) {  // nothing to report against: no form, the way back to the households
      send.disabled = true; form.hidden = true; back.parentNode.hidden = !household;
      document.getElementById("report-no-visit").hidden = false;
      return;
    }
    var api = form.getAttribute("data-api").replace("VISIT", encodeURIComponent(visit));
    var where = {position: null};
    var picked = pickOnMap(where);
    var located = locate(document.getElementById("geo-status"), function (coords) {
      where.position = coords;
      if (where.onFix) { where.onFix(coords); }
    });
    var clientUuid = newUuid();
    var photoInput = document.getElementById("report-photo"), onSpot = document.getElementById("on-spot");
    var resolution = document.getElementById("resolution-block");
    showPhotoName(photoInput);
    if (onSpot) {
      onSpot.addEventListener("change", function () { resolution.hidden = !onSpot.checked; });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var here = picked.latlng ? {lon: picked.latlng.lng, lat: picked.latlng.lat} : whereFields(located);
      var body = {client_uuid: clientUuid, category: document.getElementById("category").value,
                  title: document.getElementById("title").value,
                  description: document.getElementById("description").value,
                  urgency: document.getElementById("urgent").checked ? "urgent" : "normal",
                  lon: here.lon, lat: here.lat};
      if (onSpot && onSpot.checked) {
        body.resolved_on_spot = true;
        body.resolution = document.getElementById("resolution").value;
      }
      var photo = chosenPhoto(photoInput);
      var photoUrl = form.getAttribute("data-photo-api").replace("REF", encodeURIComponent(clientUuid));
      send.disabled = true; error.hidden = true;
      postJson(api, body).then(function (data) {
        return sendPhoto(photoUrl, photo, body.title, error).then(function () {
          if (error.hidden) { window.location.assign(data.issues_url); } else { send.hidden = true; }
        });
      }).catch(function (failure) {
        if (!failure.status || failure.status === 503) {  // no network: after its visit, later
          enqueue({client_uuid: clientUuid, kind: "issue", url: api, body: body, label: body.title,
                   saved_at: Date.now(), problem: null}).then(function () {
            return photo ? queuePhoto(photoUrl, photo, body.title) : null;
          }).then(showOutbox).then(function () {
            form.hidden = true;
            document.getElementById("report-queued").hidden = false;
            window.scrollTo(0, 0);
          }, function () { error.textContent = say("failed"); error.hidden = false; send.disabled = false; });
          return;
        }
        error.textContent = failure.message || say("failed"); error.hidden = false; send.disabled = false;
      });
    });
  }

  /* --- offline: the service worker, and the queue of what could not be sent ---------------
     Visits entered without network wait in IndexedDB (they survive closing the browser and
     signing in again) and go out in order when the network returns or on "send now"; their
     client_uuid makes a resend return the visit already recorded, never a second one. A
     refusal (the household left the grid, a checklist item was removed) stays listed with
     its reason until the user discards it: nothing is dropped silently. */
  var DB_NAME = "gridmap-field", STORE = "outbox", CACHE = "gridmap-field-v1";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "client_uuid"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function inStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode), result;
        var request = work(transaction.objectStore(STORE));
        request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { db.close(); resolve(result); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  /* Each item is its user's: on a shared tablet another user neither sees nor sends it; it
     waits until its own user signs in again. */
  var USER = (document.querySelector('meta[name="field-user"]') || {content: ""}).content;

  function queued() {
    return inStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return !item.user || item.user === USER; })
        .sort(function (a, b) { return a.saved_at - b.saved_at; });
    });
  }
  function enqueue(item) {
    item.user = item.user || USER;
    return inStore("readwrite", function (store) { return store.put(item); });
  }
  function dequeue(key) { return inStore("readwrite", function (store) { return store.delete(key); }); }

  function showOutbox() {
    var box = document.getElementById("outbox");
    if (!box || !window.indexedDB) { return Promise.resolve(); }
    return queued().then(function (items) {
      var waiting = items.filter(function (item) { return !item.problem; });
      var count = document.getElementById("outbox-count"), list = document.getElementById("outbox-items");
      count.textContent = say("pending", waiting.length);
      count.setAttribute("data-count", String(waiting.length));
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("data-uuid", item.client_uuid);
        li.textContent = say("kind-" + item.kind) + item.label +
          (item.problem ? " · " + say("problem") + item.problem : "");
        if (item.problem) {
          li.className = "problem";
          var discard = document.createElement("button");
          discard.type = "button"; discard.className = "secondary"; discard.textContent = say("discard");
          discard.addEventListener("click", function () { dequeue(item.client_uuid).then(showOutbox); });
          li.appendChild(discard);
        }
        list.appendChild(li);
      });
      box.hidden = items.length === 0;
    });
  }

  var syncing = null;
  function sync() {
    if (syncing || !window.indexedDB) { return syncing || Promise.resolve(); }
    syncing = queued().then(function (items) {
      var chain = Promise.resolve();
      items.filter(function (item) { return !item.problem; }).forEach(function (item) {
        chain = chain.then(function () {
          var sent = item.kind === "photo" ? postPhoto(item.url, item.blob) : postJson(item.url, item.body);
          return sent.then(function () { return dequeue(item.client_uuid); },
            function (failure) {
              var status = failure.status || 0;
              if (status >= 400 && status < 500 && status !== 400 && status !== 401 && status !== 429) {
                item.problem = failure.message;  // refused for good: shown, kept until discarded
                return enqueue(item);
              }
              throw failure;  // no network, signed out or a stale form: stop, keep everything
            });
        });
      });
      return chain;
    }).catch(function () { return null; }).then(function () { syncing = null; return showOutbox(); });
    return syncing;
  }

  function queuePhoto(url, photo, label) {
    // a Blob (not the File) is what IndexedDB keeps everywhere; it goes after its visit/issue
    var blob = photo.slice(0, photo.size, photo.type);
    return enqueue({client_uuid: newUuid(), kind: "photo", url: url, blob: blob, label: label,
                    saved_at: Date.now() + 1, problem: null}).then(showOutbox);
  }

  function queueVisit(url, body, label) {
    body.visited_at = body.visited_at || new Date().toISOString();  // when it happened, not when sent
    return enqueue({client_uuid: body.client_uuid, kind: "visit", url: url, body: body, label: label,
                    saved_at: Date.now(), problem: null}).then(showOutbox);
  }

  /* Signing out on a shared tablet leaves no pages of this user behind: the offline copies
     go (the unsent queue stays, for this user only). Pages cached for someone else (who
     left without signing out here) go too before anything is cached for this user. */
  var SEEN_USER = "gridmap-field-user";
  function clearCachedPages() {
    if (!window.caches) { return Promise.resolve(); }
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("gridmap-field") === 0; })
        .map(function (name) { return caches.delete(name); }));
    });
  }

  function forgetOtherUsersPages() {
    var before = null;
    try { before = window.localStorage.getItem(SEEN_USER); } catch (e) { before = null; }
    var cleared = before && before !== USER ? clearCachedPages() : Promise.resolve();
    return cleared.catch(function () { return null; }).then(function () {
      try { window.localStorage.setItem(SEEN_USER, USER); } catch (e) { /* private mode */ }
    });
  }

  var signOut = document.querySelector("form.account");
  if (signOut) {
    signOut.addEventListener("submit", function (event) {
      event.preventDefault();
      clearCachedPages().catch(function () { return null; }).then(function () {
        try { window.localStorage.removeItem(SEEN_USER); } catch (e) { /* private mode */ }
        signOut.submit();  // no submit event again: this is the real sign-out
      });
    });
  }

  /* Resolves once the worker answers this page's own requests too (`ready` may come while it
     is still taking its pages over): only then is "ready for offline" true. */
  function controlled() {
    if (navigator.serviceWorker.controller) { return null; }
    return new Promise(function (resolve) {
      navigator.serviceWorker.addEventListener("controllerchange", resolve, {once: true});
    });
  }

  function offlineReady() {
    var meta = document.querySelector('meta[name="field-sw"]');
    if (!meta || !("serviceWorker" in navigator)) { return; }
    var scope = meta.getAttribute("data-scope");
    navigator.serviceWorker.register(meta.getAttribute("content"), {scope: scope})
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () {
        var dataEl = document.getElementById("field-data");
        if (!dataEl || !window.caches) { return null; }
        var forms = JSON.parse(dataEl.textContent).households.slice(0, 60).map(function (h) { return h.visit_url; });
        var pages = [scope, scope + "/issues", scope + "/report"];  // again, after a sign-out emptied it
        return caches.open(CACHE).then(function (cache) { return cache.addAll(pages.concat(forms)); });
      })
      .then(controlled)
      .then(function () { document.documentElement.setAttribute("data-offline-ready", "true"); })
      .catch(function () { /* no offline copy this time: the pages still work online */ });
  }

  var printList = document.getElementById("print-list");
  if (printList) { printList.addEventListener("click", function () { window.print(); }); }
  var send = document.getElementById("outbox-send");
  if (send) { send.addEventListener("click", sync); }
  window.addEventListener("online", sync);
  showOutbox().then(function () { if (navigator.onLine) { sync(); } });
  forgetOtherUsersPages().then(offlineReady);

  /* --- the tablet's issue page: a photo of the work, sent now or queued without network -- */
  function issuePhotoForm() {
    var form = document.getElementById("issue-photo-form");
    if (!form) { return; }
    var input = document.getElementById("issue-photo"), error = document.getElementById("issue-photo-error");
    var queuedNote = document.getElementById("issue-photo-queued");
    showPhotoName(input);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var photo = chosenPhoto(input), url = form.getAttribute("data-photo-api");
      error.hidden = true;
      if (!photo) { error.textContent = say("no-photo"); error.hidden = false; return; }
      postPhoto(url, photo).then(function () { window.location.reload(); }, function (failure) {
        if (failure.status && failure.status !== 503) {
          error.textContent = failure.message; error.hidden = false;
          return null;
        }
        return queuePhoto(url, photo, form.getAttribute("data-label")).then(function () {
          queuedNote.hidden = false;
        });
      });
    });
  }

  homeMap();
  visitForm();
  reportForm();
  issuePhotoForm();
}());
