// smsgw web centre: live preview of segments and cost on the send page.
// Progressive: without this script the form's Preview button does the same.
(function () {
  "use strict";
  var form = document.getElementById("send-form");
  if (!form) { return; }
  var box = document.getElementById("preview");
  var timer = null;
  function refresh() {
    var data = new URLSearchParams();
    ["numbers", "text", "signature"].forEach(function (name) {
      var field = form.elements[name];
      if (field) { data.append(name, field.value); }
    });
    fetch("/send/preview", {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": box.getAttribute("data-csrf"), "Content-Type": "application/x-www-form-urlencoded"},
      body: data.toString()
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      // the server renders the fragment with every value escaped
      if (html !== null) { box.innerHTML = html; }
    }).catch(function () { /* keep the last preview */ });
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 300);
  }
  ["numbers", "text", "signature"].forEach(function (name) {
    var field = form.elements[name];
    if (field) { field.addEventListener("input", later); field.addEventListener("change", later); }
  });
})();
