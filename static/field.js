/* The tablet's field pages: the map of my households, the visit form, the report form.
   Every text from the server goes in with textContent; nothing is built from HTML strings. */
(function () {
  "use strict";

  function texts() {
    var out = {}, holder = document.getElementById("field-texts");
    if (!holder) { return out; }
    holder.content.querySelectorAll("[data-key]").forEach(function (el) {
      out[el.getAttribute("data-key")] = el.textContent;
    });
    return out;
  }
  var T = texts();
  function say(key, metres) { return (T[key] || key).replace("{m}", metres === undefined ? "" : String(metres)); }

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

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.message || say("failed")); error.data = data; throw error; }
        return data;
      });
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
      save.disabled = true; error.hidden = true;
      postJson(form.getAttribute("data-api"), body).then(function (data) {
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
        error.textContent = failure.message || say("failed"); error.hidden = false; save.disabled = false;
      });
    });
  }

  /* --- report an issue found on a visit --------------------------------------------------- */
  function reportForm() {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var where = locate(document.getElementById("geo-status"));
    var clientUuid = newUuid();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var where_ = whereFields(where);
      var body = {client_uuid: clientUuid, category: document.getElementById("category").value,
                  title: document.getElementById("title").value,
                  description: document.getElementById("description").value,
                  urgency: document.getElementById("urgent").checked ? "urgent" : "normal",
                  lon: where_.lon, lat: where_.lat};
      var send = document.getElementById("send-report"), error = document.getElementById("report-error");
      send.disabled = true; error.hidden = true;
      postJson(form.getAttribute("data-api"), body).then(function (data) {
        window.location.assign(data.issues_url);
      }).catch(function (failure) {
        error.textContent = failure.message || say("failed"); error.hidden = false; send.disabled = false;
      });
    });
  }

  homeMap();
  visitForm();
  reportForm();
}());
