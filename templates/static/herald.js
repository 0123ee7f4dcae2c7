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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", guessTimeZone);
  else guessTimeZone();
})();
