// Herald's small progressive enhancements. Pages work without this file.
(function () {
  "use strict";
  // Propose the browser's time zone in fields marked data-timezone-guess.
  function guessTimeZone() {
    var tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!tz) return;
    document.querySelectorAll("input[data-timezone-guess]").forEach(function (input) {
      if (!input.value || input.value === "UTC") input.value = tz;
    });
  }
  // Fill "Ends" with start + 1 hour while the person has not chosen an end themselves.
  function followStart() {
    var start = document.getElementById("f-start"), end = document.getElementById("f-end");
    if (!start || !end) return;
    var auto = !end.value;
    end.addEventListener("input", function () { auto = !end.value; });
    start.addEventListener("change", function () {
      var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(start.value);
      if (!auto || !m) return;
      var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4] + 1, +m[5]));
      end.value = d.toISOString().slice(0, 16);
    });
  }
  // Buttons marked data-copy="#id" copy that field's value and say so.
  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.querySelector(button.getAttribute("data-copy"));
        if (!field) return;
        var status = button.closest("section") && button.closest("section").querySelector(".copy-status");
        var done = function () { if (status) status.textContent = "Link copied."; };
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }
  // The header's menu button (phones): shows and hides the navigation.
  function menuButton() {
    var button = document.querySelector(".menu-button"), nav = document.getElementById("site-nav");
    if (!button || !nav) return;
    document.documentElement.classList.add("has-menu");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  }
  function ready() { guessTimeZone(); followStart(); copyButtons(); menuButton(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
