// Loaded first: every script error, rejected promise, console.error and blocked fetch is recorded in the page's
// data-errors attribute (a JSON list), so a test that dumps the DOM sees it (tests/test_report_browser.py).
(function () {
  var seen = [];
  var root = document.documentElement;
  function note(text) {
    seen.push(String(text));
    root.setAttribute("data-errors", JSON.stringify(seen));
  }
  root.setAttribute("data-errors", "[]");
  window.addEventListener("error", function (e) { note(e.message || "error"); });
  window.addEventListener("unhandledrejection", function (e) { note("unhandled rejection: " + e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) { note("blocked: " + e.blockedURI); });
  var error = console.error;
  console.error = function () {
    note(Array.prototype.join.call(arguments, " "));
    return error.apply(console, arguments);
  };
})();
