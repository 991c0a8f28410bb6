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
    var selects = document.querySelectorAll("select[data-kind-select]");
    for (var i = 0; i < selects.length; i++) {
      showKindFields(selects[i]);
      selects[i].addEventListener("change", function (e) { showKindFields(e.target); });
    }
    var printers = document.querySelectorAll("[data-print]");
    for (var j = 0; j < printers.length; j++) {
      printers[j].addEventListener("click", function () { window.print(); });
    }
  });
})();
