// The review page: more comment rows on demand when returning a form (item picker + text).
(function () {
  "use strict";
  var form = document.querySelector("[data-return-form]");
  if (!form) {
    return;
  }
  form.querySelector("[data-add-comment]").addEventListener("click", function () {
    var rows = form.querySelectorAll("[data-comment-row]");
    var last = rows[rows.length - 1];
    var next = rows.length + 1;
    var copy = last.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("select, input"), function (input) {
      input.name = input.name.replace(/_\d+$/, "_" + next);
      if (input.id) {
        input.id = input.id.replace(/_\d+$/, "_" + next);
      }
      input.value = "";
    });
    Array.prototype.forEach.call(copy.querySelectorAll(".errorlist"), function (node) {
      node.remove();
    });
    last.parentNode.insertBefore(copy, last.nextSibling);
    copy.querySelector("select").focus();
  });
})();
