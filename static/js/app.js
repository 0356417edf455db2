// service-console: small enhancements over pages that work without JavaScript.
// Live list updates (SSE, polling fallback), auto-submitting selects, the Form/YAML tabs with
// a live preview, copy buttons, select-all, and focus on the first error.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // The Service form holds every type's fields; choosing a type shows its own and hides the
  // others in place, so the select keeps focus and arrow keys keep working (no reload).
  function typeSwitch() {
    var sel = document.querySelector("select[data-type-switch]");
    if (!sel) return;
    function show() {
      sel.form.querySelectorAll("[data-types]").forEach(function (el) {
        el.hidden = el.getAttribute("data-types").split(" ").indexOf(sel.value) < 0;
      });
    }
    sel.addEventListener("change", show);
    sel.addEventListener("input", show);
  }

  // Selects that change what the server renders submit their form (the namespace picker;
  // in the Service form, namespace/annotation type re-render with op=refresh).
  function autoSubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
    document.querySelectorAll("select[data-refresh]").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var op = document.createElement("input");
        op.type = "hidden"; op.name = "op"; op.value = "refresh";
        sel.form.appendChild(op);
        sel.form.submit();
      });
    });
  }

  // Live pages (the list, Details): when the stream reports a change, re-fetch the page
  // and replace each of its live regions ([data-live-region], by id) with the fresh one.
  function liveList() {
    var live = document.getElementById("live");
    if (!live) return;
    var pending = null;
    function refresh() {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        var checked = Array.prototype.map.call(document.querySelectorAll("#results input[name=selected]:checked"), function (c) { return c.value; });
        fetch(window.location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html === null) return;
            // The page is server-rendered with askama escaping, like the page itself.
            var fresh = new DOMParser().parseFromString(html, "text/html");
            document.querySelectorAll("[data-live-region]").forEach(function (region) {
              var next = fresh.getElementById(region.id);
              if (!next) return;
              // A "Show all" the user opened stays open.
              var open = Array.prototype.map.call(region.querySelectorAll("details[open]"), function (d) { return d.querySelector("summary") ? d.querySelector("summary").textContent : ""; });
              var adopted = document.importNode(next, true);
              adopted.querySelectorAll("details").forEach(function (d) {
                var s = d.querySelector("summary");
                if (s && open.indexOf(s.textContent) >= 0) d.open = true;
              });
              region.replaceWith(adopted);
              copyButtons(adopted);
            });
            checked.forEach(function (v) {
              var box = document.querySelector('#results input[name=selected][value="' + CSS.escape(v) + '"]');
              if (box) box.checked = true;
            });
            selectAll();
          });
      }, 150);
    }
    // The namespace picker follows namespaces created or deleted elsewhere: its options are
    // taken from a fresh copy of this page, which lists those the user may see.
    function namespaces() {
      var picker = document.getElementById("ns-select");
      if (!picker) return;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("ns-select");
          if (!fresh || picker.innerHTML === fresh.innerHTML) return;
          var chosen = picker.value;
          picker.innerHTML = fresh.innerHTML;
          picker.value = chosen;
        });
    }
    // One stream per shown page: it is closed on pagehide (a page kept in the back/forward
    // cache must not hold one of the browser's six connections to this host) and reopened
    // on pageshow from the last revision seen, so nothing written meanwhile is missed.
    var url = live.getAttribute("data-watch");
    var polling = null;
    var source = null;
    var last = null;
    function poll() { if (!polling) polling = setInterval(refresh, 5000); }
    function watchUrl() {
      if (last === null) return url;
      return url.replace(/([?&]from=)[^&]*/, "$1" + encodeURIComponent(last));
    }
    function open() {
      if (!window.EventSource || !url) { poll(); return; }
      if (source) return;
      source = new EventSource(watchUrl());
      source.addEventListener("change", function (e) {
        if (e.lastEventId) last = e.lastEventId;
        refresh();
      });
      source.addEventListener("namespaces", function (e) {
        if (e.lastEventId) last = e.lastEventId;
        namespaces();
      });
      source.onerror = function () {
        if (source && source.readyState === EventSource.CLOSED) { source = null; poll(); }
      };
    }
    function close() {
      if (source) { source.close(); source = null; }
      if (polling) { clearInterval(polling); polling = null; }
    }
    window.addEventListener("pagehide", close);
    window.addEventListener("pageshow", function (e) {
      if (e.persisted) { open(); refresh(); }
    });
    open();
  }

  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) return;
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("#results input[name=selected]").forEach(function (c) { c.checked = all.checked; });
    });
  }

  function copyButtons(root) {
    (root || document).querySelectorAll("button.copy[data-copy]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var target = document.getElementById(btn.getAttribute("data-copy"));
        if (!target || !navigator.clipboard) return;
        navigator.clipboard.writeText(target.textContent).then(function () {
          var label = btn.textContent;
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = label; }, 1500);
        });
      });
    });
  }

  function tabs() {
    var list = document.querySelector(".tabs[role=tablist]");
    if (!list) return;
    var tabs = list.querySelectorAll("[role=tab]");
    function show(tab) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
    }
    tabs.forEach(function (t, i) {
      t.addEventListener("click", function () { show(t); });
      t.addEventListener("keydown", function (e) {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
          var next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
          show(next); next.focus();
        }
      });
    });
    list.hidden = false;
    var manifest = document.getElementById("manifest");
    show(manifest && manifest.value.trim() !== "" ? tabs[1] : tabs[0]);
  }

  // The YAML tab follows the form as the user types.
  function yamlPreview() {
    var form = document.getElementById("service-form");
    var pre = document.getElementById("yaml-preview");
    if (!form || !pre) return;
    var timer = null;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var body = new URLSearchParams(new FormData(form));
        body.delete("op");
        fetch("/services/preview", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (text) { if (text !== null) pre.textContent = text; });
      }, 250);
    });
  }

  // The plan follows the form as the user types: the server renders the plan partial
  // (escaped by askama, like the page) and it replaces the panel's content.
  function livePlan() {
    var form = document.getElementById("service-form");
    var panel = document.getElementById("plan-preview");
    var body = document.getElementById("plan-body");
    if (!form || !panel || !body) return;
    var url = panel.getAttribute("data-plan-url");
    var timer = null;
    var seq = 0;
    // On the Create form the plan leaves out errors of fields the user has not reached yet
    // (the server filters by these names); the Update form is filled in from the start.
    var creating = !form.querySelector("input[name='metadata.resourceVersion']");
    var reached = {};
    function reach(e) { if (e.target && e.target.name) reached[e.target.name] = true; }
    form.addEventListener("focusin", reach);
    form.addEventListener("input", reach);
    function refresh() {
      var data = new URLSearchParams(new FormData(form));
      data.delete("op");
      if (creating) Object.keys(reached).forEach(function (n) { data.append("reached", n); });
      var mine = ++seq;
      panel.setAttribute("aria-busy", "true");
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) {
          if (r.ok) return r.text();
          return Promise.reject(r.status === 403
            ? "the server refused it (403): your session or the form's security token has expired. Reload the page; what you typed is kept until then."
            : "the server answered " + r.status + " " + r.statusText + ".");
        })
        .then(function (html) {
          // A slower earlier answer must not overwrite a newer one.
          if (mine !== seq) return;
          body.innerHTML = html;
        }, function (why) {
          // The plan never fails silently: it says that it is out of date, and why.
          if (mine !== seq) return;
          var note = document.createElement("div");
          note.className = "plan-errors";
          note.setAttribute("role", "alert");
          note.id = "plan-failed";
          note.textContent = "The plan could not be updated: " + (typeof why === "string" ? why : "the server could not be reached.") + " Press Preview plan to try again.";
          body.replaceChildren(note);
        })
        .finally(function () { if (mine === seq) panel.removeAttribute("aria-busy"); });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // The plan offers the ports the backend exposes for a container port it does not: a
    // click fills the field and plans again.
    panel.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest("button[data-fill-field]") : null;
      if (!btn) return;
      var field = form.querySelector('[name="' + CSS.escape(btn.getAttribute("data-fill-field")) + '"]');
      if (!field) return;
      field.value = btn.getAttribute("data-fill-value");
      reached[field.name] = true;
      field.focus();
      schedule();
    });
    // The choices are buttons only with JavaScript; without it the warning lists the ports.
    new MutationObserver(function () {
      body.querySelectorAll("[data-js-show]").forEach(function (el) { el.hidden = false; });
    }).observe(body, { childList: true, subtree: true });
    body.querySelectorAll("[data-js-show]").forEach(function (el) { el.hidden = false; });
    // The Update form and a re-rendered form already describe a Service: plan it at once.
    var name = form.querySelector("input[name='metadata.name']");
    if (name && name.value !== "") schedule();
  }

  function focusFirstError() {
    if (document.querySelector("[autofocus]")) return;
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); return; }
    // A review lands on its changes, with the Update button right under them.
    var diff = document.getElementById("diff");
    if (diff) { diff.focus(); diff.scrollIntoView({ block: "center" }); }
  }

  ready(function () {
    autoSubmit();
    typeSwitch();
    liveList();
    selectAll();
    copyButtons();
    tabs();
    yamlPreview();
    livePlan();
    focusFirstError();
  });
})();
