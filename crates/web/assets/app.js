// bangfu pages: a little progressive enhancement. Everything works without it.
(function () {
  "use strict";
  // The need form shows only the requirement fields of the chosen kind.
  function showKindFields(select) {
    var form = select.form;
    if (!form) return;
    var fieldsets = form.querySelectorAll("fieldset[data-kind]");
    for (var i = 0; i < fieldsets.length; i++) {
      var match = fieldsets[i].getAttribute("data-kind") === select.value;
      fieldsets[i].hidden = !match;
      fieldsets[i].disabled = !match;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the long sections of a case start folded (their headings stay; a tap opens them).
    if (window.matchMedia && window.matchMedia("(max-width: 759px)").matches) {
      var folds = document.querySelectorAll("details.fold");
      for (var f = 0; f < folds.length; f++) {
        if (!folds[f].querySelector(".flash.error, :target")) folds[f].removeAttribute("open");
      }
    }
    var selects = document.querySelectorAll("select[data-kind-select]");
    for (var i = 0; i < selects.length; i++) {
      showKindFields(selects[i]);
      selects[i].addEventListener("change", function (e) { showKindFields(e.target); });
    }
    queue();
    unread();
    var printers = document.querySelectorAll("[data-print]");
    for (var j = 0; j < printers.length; j++) {
      printers[j].addEventListener("click", function () { window.print(); });
    }
  });
  // The needs queue: tick the whole page, show only the fields of the chosen bulk action, and
  // keep each response-window countdown current.
  function queue() {
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        var boxes = document.querySelectorAll("#needs-list input[name=id]");
        for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
      });
    }
    var action = document.getElementById("bulk-action");
    if (action) {
      var show = function () {
        var reason = document.getElementById("bulk-reason");
        var ring = action.form.querySelector("select[name=ring]");
        if (reason) reason.parentNode.hidden = action.value !== "escalate";
        if (ring) ring.parentNode.hidden = action.value !== "broadcast";
      };
      action.addEventListener("change", show);
      show();
    }
    var clocks = document.querySelectorAll(".clock[data-due]");
    if (!clocks.length) return;
    var zh = document.documentElement.lang !== "en";
    function words(ms) {
      var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor(m / 60) % 24, mm = m % 60;
      if (d > 0) return zh ? d + " 天 " + h + " 小时" : d + " d " + h + " h";
      if (h > 0) return zh ? h + " 小时 " + mm + " 分" : h + " h " + mm + " min";
      return zh ? mm + " 分钟" : mm + " min";
    }
    function tick() {
      var now = Date.now();
      for (var i = 0; i < clocks.length; i++) {
        var left = Number(clocks[i].getAttribute("data-due")) - now;
        clocks[i].textContent = left < 0 ? (zh ? "响应逾期 " : "respond: ") + words(left) + (zh ? "" : " overdue")
                                         : (zh ? "响应剩余 " : "respond: ") + words(left) + (zh ? "" : " left");
        clocks[i].className = "clock" + (left < 0 ? " late" : left < 6 * 3600000 ? " soon" : "");
      }
    }
    setInterval(tick, 30000);
  }
  // The unread count in the header, kept current by server-sent events (from any server).
  function unread() {
    var badge = document.getElementById("unread-count");
    if (!badge || !window.EventSource) return;
    var source = null;
    // A page left for another closes its stream: a browser keeps few connections per site
    // (six over HTTP/1.1), and pages kept for the back button would hold them all.
    window.addEventListener("pagehide", function () { if (source) { source.close(); source = null; } });
    window.addEventListener("pageshow", function () { if (!source) open(); });
    function open() {
    source = new EventSource("/notifications/stream");
    source.addEventListener("unread", function (e) {
      var before = Number(badge.getAttribute("data-count"));
      var count = Number(e.data);
      badge.textContent = String(count);
      badge.setAttribute("data-count", String(count));
      var fresh = document.getElementById("fresh-notifications");
      if (fresh && count > before) fresh.hidden = false;
    });
    }
  }
})();
