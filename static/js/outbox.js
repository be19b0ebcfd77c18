// The outbox page: the records this phone holds for the enumerator and the server has not acknowledged, in the
// order they are sent (static/js/offline.js keeps and sends them; this page only lists them).
(function () {
  "use strict";
  var Offline = window.CensusOffline;
  var list = document.querySelector("[data-outbox-list]");
  var textNode = document.getElementById("outbox-text");
  if (!Offline || !list || !textNode) {
    return;
  }
  var T = JSON.parse(textNode.textContent);

  function render() {
    return Offline.all().then(function (records) {
      list.textContent = "";
      document.querySelector("[data-outbox-empty]").hidden = records.length > 0;
      records.forEach(function (record) {
        var li = document.createElement("li");
        li.className = "outbox-item outbox-" + record.status;
        li.setAttribute("data-outbox-key", record.key);
        var title = document.createElement("a");
        title.href = record.pageUrl || "#";
        title.textContent = record.label || record.key;
        li.appendChild(title);
        var status = document.createElement("p");
        status.className = "small";
        var time = new Date(record.savedAt).toLocaleString();
        status.textContent = (T[record.status] || T.local) + " · " + Offline.format(T.savedAt, { time: time });
        li.appendChild(status);
        var lines = Offline.problemLines(record);
        if (lines.length) {
          var problems = document.createElement("ul");
          problems.className = "small outbox-problems";
          lines.forEach(function (line) {
            var item = document.createElement("li");
            item.textContent = line;
            problems.appendChild(item);
          });
          li.appendChild(problems);
        }
        list.appendChild(li);
      });
    });
  }

  document.querySelector("[data-send-now]").addEventListener("click", function () {
    Offline.flush().then(render, render);
  });
  var pending = null;
  document.addEventListener("census:outbox", function () {
    // Once in a while, not for every request of a long outbox.
    if (!pending) { pending = window.setTimeout(function () { pending = null; render(); }, 500); }
  });
  render();
})();
