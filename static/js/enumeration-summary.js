// The read-back page: the respondent signs on the screen (signature_pad), or the refusal and its reason.
// The drawn signature goes to the server as a PNG data URL in a hidden field of the confirmation form.
(function () {
  "use strict";
  var form = document.querySelector("[data-respondent-form]");
  if (!form || typeof window.SignaturePad === "undefined") {
    return;
  }
  var canvas = form.querySelector("[data-signature-pad]");
  var box = form.querySelector("[data-signature-box]");
  var hidden = form.querySelector('input[name="signature_image"]');
  var refused = form.querySelector('input[name="refused"]');
  var refusal = form.querySelector("[data-refusal]");
  var empty = form.querySelector("[data-signature-empty]");
  var pad = new window.SignaturePad(canvas, { minWidth: 1, maxWidth: 2.5, penColor: "#111" });

  // The canvas draws in device pixels: size it to its box, or strokes land away from the finger.
  function resize() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var strokes = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(strokes);
  }

  function toggleRefusal() {
    var isRefused = refused && refused.checked;
    box.hidden = isRefused;
    refusal.hidden = !isRefused;
  }

  window.addEventListener("resize", resize);
  resize();
  toggleRefusal();
  if (refused) {
    refused.addEventListener("change", toggleRefusal);
  }
  form.querySelector("[data-signature-clear]").addEventListener("click", function () {
    pad.clear();
    hidden.value = "";
  });
  pad.addEventListener("endStroke", function () {
    empty.hidden = true;
  });
  form.addEventListener("submit", function (event) {
    if (refused && refused.checked) {
      hidden.value = "";
      return;
    }
    if (pad.isEmpty()) {
      event.preventDefault();
      empty.hidden = false;
      return;
    }
    hidden.value = pad.toDataURL("image/png");
  });
})();
