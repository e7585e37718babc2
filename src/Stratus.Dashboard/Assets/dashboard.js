// Stratus dashboard: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Selectors switch on change (their Switch buttons are for browsers without script).
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    // A console log is read from its end, as `openstack console log show` prints it.
    document.querySelectorAll("pre[data-tail]").forEach(function (pre) { pre.scrollTop = pre.scrollHeight; });

    // Destructive actions ask first.
    // (Delegated, so that forms of a list refreshed in place ask too.)
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });

    // A list with an item in transition (a volume creating, attaching...): fetched again and replaced in place until it
    // settles, so the page's messages stay.
    var watched = document.querySelector("[data-refresh]");
    if (watched) {
      var refresh = function () {
        fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
          return r.ok ? r.text() : null;
        }).then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(watched.id);
          if (!fresh) { window.location.reload(); return; }
          watched.replaceWith(fresh);
          watched = fresh;
          if (fresh.hasAttribute("data-refresh")) setTimeout(refresh, 2000);
        }).catch(function () { setTimeout(refresh, 5000); });
      };
      setTimeout(refresh, 2000);
    }

    var toggle = document.querySelector("[data-toggle-nav]");
    if (toggle) toggle.addEventListener("click", function () {
      var nav = document.getElementById("sidebar");
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });

    // Image upload with a progress bar: the same form, sent by XHR so its progress can be shown.
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        var file = form.querySelector("input[type=file]");
        if (!file || !file.files.length || !window.FormData) return;
        e.preventDefault();
        var box = form.querySelector(".upload-progress");
        var bar = box.querySelector("progress");
        var label = box.querySelector(".upload-percent");
        var button = form.querySelector("button[type=submit]");
        box.hidden = false;
        button.disabled = true;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.upload.addEventListener("progress", function (p) {
          if (!p.lengthComputable) return;
          var pct = Math.round(p.loaded * 100 / p.total);
          bar.value = pct;
          label.textContent = pct < 100 ? pct + "%" : "100%, storing the image…";
        });
        xhr.addEventListener("load", function () {
          // Done: where to go next. Refused: the page with its errors, as a plain form post would show it.
          if ((xhr.getResponseHeader("Content-Type") || "").indexOf("json") >= 0) { window.location.assign(JSON.parse(xhr.responseText).location); return; }
          document.open(); document.write(xhr.responseText); document.close();
        });
        xhr.addEventListener("error", function () {
          button.disabled = false;
          label.textContent = "Upload failed: the dashboard could not be reached.";
        });
        xhr.send(new FormData(form));
      });
    });

    // Live status: while an instance is in transition, poll its status and update the page in place.
    var poller = document.querySelector("[data-poll]");
    if (poller) {
      var url = poller.getAttribute("data-poll");
      var timer = null;
      var settledAny = false;
      function transitional() { return poller.querySelectorAll("[data-server][data-transitional=true]").length > 0; }
      function tick() {
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" }).then(function (r) {
          if (!r.ok || (r.headers.get("content-type") || "").indexOf("json") < 0) { window.location.reload(); return null; }
          return r.json();
        }).then(function (list) {
          if (!list) return;
          var byId = {};
          list.forEach(function (s) { byId[s.id] = s; });
          poller.querySelectorAll("[data-server]").forEach(function (row) {
            var s = byId[row.getAttribute("data-server")];
            if (!s) { if (row.tagName === "TR") { row.remove(); } settledAny = true; return; }
            var st = row.querySelector("[data-field=status]");
            if (st && st.textContent !== s.status) { st.textContent = s.status; st.setAttribute("data-value", s.status); }
            var task = row.querySelector("[data-field=task_state]");
            if (task) task.textContent = s.task_state || "";
            var power = row.querySelector("[data-field=power_state]");
            if (power) power.textContent = s.power_state || "";
            var busy = !!s.task_state || ["BUILD", "REBOOT", "HARD_REBOOT", "MIGRATING", "RESIZE"].indexOf(s.status) >= 0;
            if (row.getAttribute("data-transitional") === "true" && !busy) settledAny = true;
            row.setAttribute("data-transitional", busy ? "true" : "false");
          });
          if (transitional()) { timer = setTimeout(tick, 2000); }
          // Once everything settled, reload so the actions offered match the new states.
          else if (settledAny) { window.location.reload(); }
        }).catch(function () { timer = setTimeout(tick, 5000); });
      }
      if (transitional()) timer = setTimeout(tick, 1500);
      // After an action (start, stop, reboot) the status may change a moment later: watch briefly.
      else if (document.querySelector(".alert-success")) timer = setTimeout(tick, 1500);
    }
  });
})();
