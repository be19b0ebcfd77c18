// The household form on a phone: steps, the paper form's skip logic, the ID-number pre-check, and autosave.
//
// The page holds the whole form; after every change it is sent to the autosave endpoint with the version the
// page last saw. The server answers with the new version and the rules' issues, or 409 when someone else
// changed the household meanwhile — then nothing is overwritten and the page asks for a reload. The server
// (enumeration.rules.entry) stays the judge; what happens here only helps the enumerator at the door.
(function () {
  "use strict";
  var root = document.getElementById("household-form");
  var dataNode = document.getElementById("household-form-data");
  if (!root || !dataNode) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var T = data.text;
  var Skip = window.CensusSkip;
  var LONG_HOUSEHOLD = Skip.LONG_HOUSEHOLD;
  var ETHNIC = data.ethnic; // code → name

  var state = {
    version: data.version,
    status: data.state,
    needsReason: data.needsReason,
    step: "household",
    current: 0,
    dirty: false,
    saving: null,
    queued: false,
    conflict: false,
    failed: false,
    timer: null,
    retry: null,
    issues: data.issues || [],
    started: false,
    // Where the enumerator is ("household", "persons-2", "deaths"), as last put into a save or the phone's copy.
    position: data.position || ""
  };

  var statusNode = root.querySelector("[data-save-status]");
  var personBox = root.querySelector("[data-person-cards]");
  var deathBox = root.querySelector("[data-death-cards]");
  var householdPanel = root.querySelector('[data-step="household"]');
  var reasonInput = root.querySelector("[data-reason]");

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (headers) {
      try {
        var token = JSON.parse(headers)["X-CSRFToken"];
        if (token) {
          return token;
        }
      } catch (e) { /* fall back to the cookie */ }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- reading and writing inputs ---------------------------------------------------------------------

  var inputsOf = Skip.inputsOf;

  // A typed value as the server wants it; ``incomplete`` marks what is still being typed (sent as empty).
  function read(input) {
    return Skip.read(input.getAttribute("data-kind"), input.value, ETHNIC);
  }

  function write(input, value) {
    var kind = input.getAttribute("data-kind");
    if (value === null || value === undefined) {
      input.value = kind === "form_kind" ? "census" : "";
    } else if (kind === "ethnicity") {
      input.value = ETHNIC[value] || value;
    } else {
      input.value = String(value);
    }
  }

  function values(container) {
    return Skip.values(container, ETHNIC);
  }

  // --- the skip logic of the paper form (static/js/skip-logic.js, shared with the respondent's pages) ------------

  var FORM = { allDead: data.allDead, longForm: data.longForm, thresholds: data.thresholds };

  function householdAsked(h) {
    return Skip.householdAsked(h, FORM);
  }

  function personAsked(p, h) {
    return Skip.personAsked(p, h, FORM);
  }

  var deathAsked = Skip.deathAsked;
  var effective = Skip.effective;

  function showAsked(container, asked) {
    Skip.show(container, asked, false);
  }

  function householdValues() {
    return effective(values(householdPanel), householdAsked);
  }

  function personCards() {
    return Array.prototype.slice.call(personBox.querySelectorAll("[data-person]"));
  }

  function deathCards() {
    return Array.prototype.slice.call(deathBox.querySelectorAll("[data-death]"));
  }

  function applySkipLogic() {
    var h = householdValues();
    showAsked(householdPanel, h.asked);
    Array.prototype.forEach.call(root.querySelectorAll("[data-long-household]"), function (node) {
      node.hidden = !LONG_HOUSEHOLD.some(function (name) { return h.asked[name]; });
    });
    personCards().forEach(function (card) {
      var p = effective(values(card), function (v) { return personAsked(v, h.values); });
      showAsked(card, p.asked);
      var long = card.querySelector("[data-long-items]");
      if (long) {
        long.hidden = !Object.keys(p.asked).some(function (name) { return name.charAt(0) === "c" && p.asked[name]; });
      }
    });
    deathCards().forEach(function (card) {
      showAsked(card, effective(values(card), deathAsked).asked);
    });
    var deaths = (h.values.h4_deaths_male || 0) + (h.values.h4_deaths_female || 0);
    root.querySelector("[data-deaths-step]").hidden = !(deaths > 0 || deathCards().length > 0);
    root.querySelector("[data-persons-step]").hidden = data.allDead;
    return h;
  }

  // --- the ID number: fill birth and sex, show a mismatch at once ----------------------------------------

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECKS = "10X98765432";

  function idFacts(number) {
    if (!/^\d{17}[\dX]$/.test(number)) {
      return null;
    }
    var sum = 0;
    for (var i = 0; i < 17; i += 1) {
      sum += parseInt(number.charAt(i), 10) * WEIGHTS[i];
    }
    var year = parseInt(number.substr(6, 4), 10), month = parseInt(number.substr(10, 2), 10);
    var day = parseInt(number.substr(12, 2), 10);
    var date = new Date(year, month - 1, day);
    var dateOk = date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day;
    return {
      checksumOk: CHECKS.charAt(sum % 11) === number.charAt(17),
      dateOk: dateOk,
      year: year,
      month: month,
      sex: parseInt(number.charAt(16), 10) % 2 === 1 ? 1 : 2
    };
  }

  function setCheck(card, item, text, level) {
    var fieldset = card.querySelector('fieldset[data-item="' + item + '"]');
    if (!fieldset) { return; }
    var node = fieldset.querySelector("[data-check]");
    node.textContent = text || "";
    node.hidden = !text;
    node.className = "item-check" + (level ? " check-" + level : "");
  }

  function field(card, name) {
    return card.querySelector('[data-field="' + name + '"]');
  }

  function checkIdentity(card, fill) {
    var idInput = field(card, "d3_id_number");
    if (!idInput) { return; }
    var typed = (idInput.value || "").trim().toUpperCase();
    ["D3", "D4", "D5"].forEach(function (item) { setCheck(card, item, ""); });
    if (!typed) { return; }
    if (typed.length < 18) {
      setCheck(card, "D3", T.incomplete, "info");
      return;
    }
    var facts = idFacts(typed);
    if (!facts) {
      setCheck(card, "D3", T.idFormat, "bad");
      return;
    }
    if (!facts.checksumOk) {
      setCheck(card, "D3", T.idChecksum, "bad");
    }
    if (!facts.dateOk) {
      return;
    }
    var year = field(card, "d5_birth_year"), month = field(card, "d5_birth_month"), sex = field(card, "d4_sex");
    var ym = facts.year + "-" + (facts.month < 10 ? "0" : "") + facts.month;
    var sexText = facts.sex === 1 ? T.male : T.female;
    // D5 and D4 follow the ID number while they hold what an earlier ID number filled in (or nothing): a corrected
    // number corrects them; what the enumerator chose by hand stays, and a mismatch shows below.
    var filled = false;
    [[year, facts.year], [month, facts.month], [sex, facts.sex]].forEach(function (pair) {
      var input = pair[0], wanted = String(pair[1]);
      var fromId = input.getAttribute("data-from-id");
      if (fill && (!input.value || input.value === fromId) && input.value !== wanted) {
        input.value = wanted;
        filled = true;
      }
      if (input.value === wanted) {
        input.setAttribute("data-from-id", wanted);
        if (fill) { filled = true; }
      }
    });
    if (filled && facts.checksumOk) {
      setCheck(card, "D3", format(T.idFilled, { ym: ym, sex: sexText }), "ok");
    }
    var y = read(year).value, m = read(month).value, s = read(sex).value;
    if (y !== null && m !== null && (y !== facts.year || m !== facts.month)) {
      setCheck(card, "D5", format(T.idBirth, { ym: ym, d5: y + "-" + (m < 10 ? "0" : "") + m }), "bad");
    }
    if (s !== null && s !== facts.sex) {
      setCheck(card, "D4", format(T.idSex, { sex: sexText }), "bad");
    }
  }

  function checkIncomplete(container) {
    inputsOf(container).forEach(function (input) {
      var result = read(input);
      var fieldset = input.closest("fieldset.item");
      if (!fieldset || input.getAttribute("data-kind") === "id") { return; }
      if (result.unknownEthnic) {
        setCheck(container, fieldset.getAttribute("data-item"), T.ethnicUnknown, "bad");
      } else if (result.incomplete) {
        setCheck(container, fieldset.getAttribute("data-item"), T.incomplete, "info");
      } else if (input.getAttribute("data-kind") !== "choice") {
        var node = fieldset.querySelector("[data-check]");
        if (node && (node.textContent === T.incomplete || node.textContent === T.ethnicUnknown)) {
          node.hidden = true;
          node.textContent = "";
        }
      }
    });
  }

  // --- persons and death rows ------------------------------------------------------------------------------

  function makeCard(templateId) {
    var template = document.getElementById(templateId);
    return template.content.firstElementChild.cloneNode(true);
  }

  function fillCard(card, row) {
    inputsOf(card).forEach(function (input) {
      write(input, row[input.getAttribute("data-field")]);
    });
  }

  function addPerson(row) {
    var card = makeCard("person-template");
    var same = card.querySelector("[data-same-as-head]");
    var d6 = card.querySelector('fieldset[data-item="D6"]');
    if (same && d6) { d6.parentNode.insertBefore(same, d6); }
    fillCard(card, row || {});
    card.hidden = true;
    personBox.appendChild(card);
    checkIdentity(card, false);
    return card;
  }

  function addDeath(row) {
    var card = makeCard("death-template");
    fillCard(card, row || {});
    deathBox.appendChild(card);
    return card;
  }

  function renumber() {
    var cards = personCards();
    var h = householdValues().values;
    cards.forEach(function (card, index) {
      var name = field(card, "d1_name").value.trim();
      var heading = format(T.person, { n: index + 1, total: cards.length });
      var relationship = field(card, "d2_relationship");
      var head = h.h1_kind === 1 && relationship && relationship.value === "0";
      card.querySelector("[data-person-heading]").textContent =
        (name || heading) + (head ? "（" + T.head + "）" : "");
      card.setAttribute("data-row", String(index + 1));
      card.hidden = index !== state.current;
      var same = card.querySelector("[data-same-as-head]");
      if (same) { same.hidden = index === 0 || h.h1_kind !== 1; }
    });
    var title = root.querySelector("[data-person-title]");
    title.textContent = cards.length ? format(T.person, { n: state.current + 1, total: cards.length }) : "";
    root.querySelector("[data-person-count]").textContent = cards.length ? "(" + cards.length + ")" : "";
    var none = root.querySelector("[data-no-persons]");
    none.hidden = cards.length > 0;
    none.textContent = T.noPersons;
    root.querySelector("[data-person-prev]").disabled = state.current <= 0;
    root.querySelector("[data-person-next]").disabled = state.current >= cards.length - 1;
    root.querySelector("[data-person-remove]").disabled = cards.length === 0;
    deathCards().forEach(function (card, index) {
      card.setAttribute("data-row", String(index + 1));
      card.querySelector("[data-death-heading]").textContent = format(T.death, { n: index + 1 });
    });
  }

  function emptyDeath(card) {
    var v = values(card);
    return !v.name && v.birth_year === null && v.death_year === null && !v.id_number;
  }

  // The death register follows H4 by sex: add rows up to the counts, drop surplus rows that are still empty.
  function syncDeaths() {
    var h = householdValues().values;
    var wanted = { 1: h.h4_deaths_male || 0, 2: h.h4_deaths_female || 0 };
    [1, 2].forEach(function (sex) {
      var rows = deathCards().filter(function (card) { return values(card).sex === sex; });
      for (var n = rows.length; n < wanted[sex]; n += 1) {
        addDeath({ sex: sex });
      }
      for (var i = rows.length - 1; i >= wanted[sex]; i -= 1) {
        if (emptyDeath(rows[i])) {
          rows[i].remove();
        }
      }
    });
    renumber();
  }

  function ensurePersons() {
    if (data.allDead) { return; }
    var h = householdValues().values;
    var expected = (h.h2_present || 0) + (h.h2_away || 0);
    if (personCards().length === 0) {
      var head = { d1_name: data.headNameListed || "" };
      if (h.h1_kind === 1) { head.d2_relationship = 0; }
      addPerson(head);
      schedule();
    }
    while (expected !== state.keptCount && personCards().length < Math.min(expected, 50)) {
      addPerson({});
      schedule();
    }
    renumber();
  }

  // A default the rules imply: with no one away (H2's second count 0), everyone on the form lived in this small area
  // at the reference moment (D7 = 1; the rules hold H2's first count to the persons with D7 = 1). Only an empty D7
  // of a census form is set, and the enumerator sees it and can change it.
  function presetResidence(card) {
    var h = householdValues().values;
    var residence = card && field(card, "d7_residence");
    if (!residence || residence.value || h.form_kind === "foreign" || h.h2_away !== 0 || !h.h2_present) { return; }
    residence.value = "1";
    schedule();
  }

  // --- steps ------------------------------------------------------------------------------------------------

  function showStep(step, personIndex) {
    if (step === "persons" && data.allDead) { step = "deaths"; }
    leaving(step, personIndex);
    state.step = step;
    if (typeof personIndex === "number") { state.current = personIndex; }
    if (step === "persons") {
      ensurePersons();
      presetResidence(personCards()[state.current]);
    }
    if (step === "deaths") { syncDeaths(); }
    Array.prototype.forEach.call(root.querySelectorAll("[data-step]"), function (panel) {
      panel.hidden = panel.getAttribute("data-step") !== step;
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-step-link]"), function (link) {
      link.classList.toggle("current", link.getAttribute("data-step-link") === step);
      if (link.getAttribute("data-step-link") === step) {
        link.setAttribute("aria-current", "step");
      } else {
        link.removeAttribute("aria-current");
      }
    });
    renumber();
    applySkipLogic();
    showIssues(state.issues);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#" + position());
    }
    placeChanged();
  }

  // The place as the form's address and its saves name it: "household", "persons-2" (the second person), "deaths".
  function position() {
    return state.step === "persons" ? "persons-" + (state.current + 1) : state.step;
  }

  // A place named so, where the form has it now (null for a step the form no longer has, or garbage).
  function placeOf(text) {
    var match = /^persons-(\d+)$/.exec(text || "");
    if (match && !data.allDead) { return { step: "persons", index: parseInt(match[1], 10) - 1 }; }
    if (text === "deaths" && !root.querySelector("[data-deaths-step]").hidden) { return { step: "deaths" }; }
    if (text === "household") { return { step: "household" }; }
    return null;
  }

  // Moving to another step or person is saved too (with the form, on the phone and then on the server), so that the
  // draft reopens there: not for a signed form, which changes only with a reason (its place goes with that change).
  function placeChanged() {
    if (!state.started || state.conflict || position() === state.position) { return; }
    state.position = position();
    if (!state.needsReason) { schedule(); }
  }

  // What the enumerator has left (a step, a person) shows what is missing there; what is still ahead does not.
  function leaving(step, personIndex) {
    var from = state.step;
    if (from === "household" && step !== "household") {
      householdPanel.setAttribute("data-left", "");
    }
    if (from === "persons" && (step !== "persons" || (typeof personIndex === "number" && personIndex !== state.current))) {
      var card = personCards()[state.current];
      if (card) { card.setAttribute("data-left", ""); }
      if (step === "deaths") { state.crossLeft = true; }
    }
    if (from === "deaths" && step !== "deaths") {
      deathCards().forEach(function (death) { death.setAttribute("data-left", ""); });
      state.crossLeft = true;
    }
  }

  function stepOrder() {
    var order = ["household"];
    if (!data.allDead) { order.push("persons"); }
    if (!root.querySelector("[data-deaths-step]").hidden) { order.push("deaths"); }
    return order;
  }

  function nextStep() {
    if (state.step === "persons" && state.current < personCards().length - 1) {
      showStep("persons", state.current + 1);
      window.scrollTo(0, root.offsetTop);
      return;
    }
    var order = stepOrder();
    var index = order.indexOf(state.step);
    if (index >= 0 && index < order.length - 1) {
      showStep(order[index + 1], order[index + 1] === "persons" ? 0 : undefined);
      window.scrollTo(0, root.offsetTop);
    } else {
      goToSummary(root.querySelector("a[data-goto-summary]"));
    }
  }

  function previousStep() {
    var order = stepOrder();
    var index = order.indexOf(state.step);
    if (index > 0) {
      var previous = order[index - 1];
      showStep(previous, previous === "persons" ? Math.max(0, personCards().length - 1) : undefined);
    }
  }

  // --- issues from the server ---------------------------------------------------------------------------

  function locate(issue) {
    var item = issue.item || "";
    if (issue.row === null || issue.row === undefined) {
      return { container: householdPanel, step: "household" };
    }
    if (item.charAt(0) === "S") {
      return { container: deathCards()[issue.row - 1], step: "deaths" };
    }
    return { container: personCards()[issue.row - 1], step: "persons", index: issue.row - 1 };
  }

  // Issues that compare the steps with each other (H2 with the persons, H4 with the death register): shown once the
  // persons or deaths have been left, not while they are still being registered.
  var CROSS = ["PERSON_COUNT_MISMATCH", "PRESENT_COUNT_MISMATCH", "BIRTHS_MISMATCH", "DEATHS_MISMATCH",
    "HEAD_NOT_UNIQUE", "HEAD_NOT_FIRST", "SPOUSE_MULTIPLE"];

  function shownNow(issue, where) {
    if (state.revealAll) { return true; }
    if (CROSS.indexOf(issue.code) !== -1) { return !!state.crossLeft; }
    if (!/_MISSING$/.test(issue.code || "")) { return true; }
    return !!(where.container && where.container.hasAttribute("data-left"));
  }

  function showIssues(issues) {
    state.issues = issues;
    var seen = {};
    var later = 0;
    Array.prototype.forEach.call(root.querySelectorAll("fieldset.item"), function (fieldset) {
      fieldset.classList.remove("has-hard", "has-warning");
      var node = fieldset.querySelector("[data-msg]");
      if (node) {
        node.hidden = true;
        node.textContent = "";
      }
    });
    var list = root.querySelector("[data-issues-list]");
    list.textContent = "";
    var hard = 0, warn = 0;
    issues.forEach(function (issue) {
      var where = locate(issue);
      var once = issue.location + "|" + issue.message;
      if (seen[once]) { return; }
      seen[once] = true;
      if (!shownNow(issue, where)) {
        later += 1;
        return;
      }
      if (issue.severity === "hard") { hard += 1; } else { warn += 1; }
      var kindWord = issue.severity === "hard" ? T.errorWord : T.warningWord;
      var li = document.createElement("li");
      li.className = "issue issue-" + issue.severity;
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link-button";
      var kind = document.createElement("span");
      kind.className = "issue-kind";
      kind.textContent = kindWord;
      link.appendChild(kind);
      link.appendChild(document.createTextNode(issue.location + "：" + issue.message));
      link.addEventListener("click", function () {
        showStep(where.step, where.index);
        var target = where.container && where.container.querySelector('fieldset[data-item="' + issue.item + '"]');
        if (target) { target.scrollIntoView({ block: "center" }); }
      });
      li.appendChild(link);
      list.appendChild(li);
      var fieldset = where.container && where.container.querySelector('fieldset[data-item="' + issue.item + '"]');
      if (fieldset) {
        fieldset.classList.add(issue.severity === "hard" ? "has-hard" : "has-warning");
        var node = fieldset.querySelector("[data-msg]");
        var line = kindWord + "：" + issue.message;
        if (node.textContent.split("\n").indexOf(line) === -1) {
          node.hidden = false;
          node.textContent = (node.textContent ? node.textContent + "\n" : "") + line;
        }
      }
    });
    var count = hard + warn ? format(T.issuesCount, { hard: hard, warn: warn }) : later ? "" : T.issuesNone;
    if (later) { count += (count ? " " : "") + format(T.issuesLater, { n: later }); }
    root.querySelector("[data-issues-count]").textContent = count;
  }

  function revealAll() {
    state.revealAll = true;
    showIssues(state.issues);
  }

  function showComments() {
    (data.comments || []).forEach(function (comment) {
      var parts = comment.item.split("@");
      var container = parts.length > 1
        ? (parts[0].charAt(0) === "S" ? deathCards() : personCards())[parseInt(parts[1], 10) - 1]
        : householdPanel;
      var fieldset = container && container.querySelector('fieldset[data-item="' + parts[0] + '"]');
      if (fieldset) { fieldset.classList.add("has-comment"); }
    });
  }

  // --- autosave ---------------------------------------------------------------------------------------------

  function showState(value) {
    var badge = root.querySelector("[data-state-badge] .badge");
    if (badge && data.states[value]) {
      badge.className = "badge state-" + value;
      badge.textContent = data.states[value];
    }
  }

  function setStatus(text, level) {
    statusNode.textContent = text;
    statusNode.className = "save-status" + (level ? " " + level : "");
  }

  function payload() {
    var h = householdValues().values;
    var body = { version: state.version, household: h };
    if (!data.allDead) {
      body.persons = personCards().map(function (card, index) {
        var p = effective(values(card), function (v) { return personAsked(v, h); }).values;
        p.row_no = index + 1;
        return p;
      });
    } else {
      body.persons = [];
    }
    body.deaths = deathCards().map(function (card, index) {
      var d = effective(values(card), deathAsked).values;
      d.row_no = index + 1;
      return d;
    });
    if (reasonInput) { body.reason = reasonInput.value.trim(); }
    body.position = position();
    delete body.household.household_no;
    return body;
  }

  function showErrors(body) {
    var box = root.querySelector("[data-save-errors]");
    var list = box.querySelector("ul");
    list.textContent = "";
    var errors = (body && body.errors) || [];
    if (!errors.length && body && body.message) {
      errors = [{ label: "", messages: [body.message] }];
    }
    errors.forEach(function (error) {
      var li = document.createElement("li");
      li.textContent = (error.label ? error.label + "：" : "") + error.messages.join(" ");
      list.appendChild(li);
    });
    box.hidden = errors.length === 0;
  }

  function conflict(message) {
    state.conflict = true;
    clearTimeout(state.timer);
    var box = root.querySelector("[data-conflict]");
    box.querySelector("[data-conflict-text]").textContent = T.conflict + (message ? " (" + message + ")" : "") +
      (Offline ? " " + T.conflictKept : "");
    box.hidden = false;
    setStatus(T.conflict, "bad");
    box.scrollIntoView({ block: "start" });
  }

  // Every change goes into the phone's copy first (static/js/offline.js), then the outbox sends it after a pause.
  // The page shows "saved" only when the server has acknowledged it.
  var Offline = window.CensusOffline;
  var KEY = "form:" + data.householdId;
  var loaded = null; // resolves once the phone's copy was compared with the server's (start, below)

  function storeLocal(signing) {
    var body = payload();
    delete body.version;
    var record = {
      key: KEY,
      kind: "form",
      household: data.householdId,
      label: data.label,
      url: data.urls.autosave,
      confirmUrl: data.urls.confirm,
      signUrl: data.urls.sign,
      pageUrl: window.location.pathname,
      version: state.version,
      body: body
    };
    // A change after signing at the door voids that signature (the respondent signed another form).
    record.signing = signing || null;
    return Offline.save(record).then(function (saved) {
      state.lastRecord = saved;
      return saved;
    });
  }

  function schedule() {
    if (state.conflict) { return; }
    state.dirty = true;
    clearTimeout(state.timer);
    if (!Offline) {
      setStatus(T.unsaved, "warn");
      return;
    }
    if (state.signed) {
      state.signed = false;
      doorstep.querySelector("[data-doorstep-done]").hidden = true;
    }
    state.pendingStores = (state.pendingStores || 0) + 1;
    var settled = function () { state.pendingStores -= 1; };
    state.storing = (loaded || Promise.resolve()).then(function () { return storeLocal(); }).then(function () {
      settled();
      if (state.dirty) { setStatus(Offline.config.text.local, "warn"); }
    }, function (error) { settled(); throw error; });
    state.timer = setTimeout(save, 700);
  }

  // Send what the phone holds; resolves true when the server has everything of this household.
  function save() {
    clearTimeout(state.timer);
    if (state.conflict || !Offline) { return Promise.resolve(false); }
    if (state.needsReason && reasonInput && reasonInput.value.trim().length < 4) {
      setStatus(T.reasonFirst, "bad");
      reasonInput.focus();
      return Promise.resolve(false);
    }
    return (state.storing || Promise.resolve()).then(function () {
      return Offline.flush();
    }).then(function () {
      return Offline.get(KEY);
    }).then(function (left) {
      return !left;
    });
  }

  function onOutbox(event) {
    var detail = event.detail;
    if (!detail.record || detail.record.key !== KEY) { return; }
    var body = detail.body || {};
    if (detail.type === "sent") {
      state.version = body.version;
      state.status = body.state;
      showState(state.status);
      if (state.status !== "signed" && state.needsReason) {
        state.needsReason = false;
        var reasonBox = root.querySelector("[data-reason-box]");
        if (reasonBox) { reasonBox.hidden = true; }
      }
      state.failed = false;
      showErrors(null);
      showIssues(body.issues || []);
      Offline.get(KEY).then(function (left) {
        state.dirty = !!left;
        if (left) {
          setStatus(Offline.config.text.local, "warn");
        } else {
          setStatus(T.saved + " " + (body.saved_at || ""), "ok");
        }
      });
    } else if (detail.type === "conflict") {
      conflict(body.message);
    } else if (detail.type === "refused") {
      state.failed = true;
      showErrors(body);
      setStatus(T.invalid, "bad");
    } else if (detail.type === "login") {
      setStatus(Offline.config.text.login, "bad");
    } else if (detail.type === "waiting") {
      setStatus(Offline.config.text.waiting, "bad");
    }
  }
  document.addEventListener("census:outbox", onOutbox);

  function goToSummary(link) {
    var href = link.getAttribute("href");
    revealAll();
    if (!state.dirty && !state.failed) {
      window.location.href = href;
      return;
    }
    save().then(function (ok) {
      if (ok) { window.location.href = href; }
    });
  }

  // --- signing at the door (with no signal too) -------------------------------------------------------------
  // The respondent's name, relationship and drawn signature and the enumerator's confirmation are kept with the
  // form on the phone; the outbox sends the form, then the confirmation, then the signature with the enumerator's
  // password (asked once when sending), each under its own Idempotency-Key (static/js/offline.js).

  var doorstep = root.querySelector("[data-doorstep]");
  var pad = null;

  function startDoorstep() {
    if (!doorstep || typeof window.SignaturePad === "undefined") { return; }
    var canvas = doorstep.querySelector("[data-doorstep-pad]");
    pad = new window.SignaturePad(canvas, { minWidth: 1, maxWidth: 2.5, penColor: "#111" });
    var resize = function () {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    };
    window.addEventListener("resize", resize);
    resize();
    var nameInput = doorstep.querySelector("[data-doorstep-name]");
    if (!nameInput.value) { nameInput.value = data.headNameListed || ""; }
    doorstep.querySelector("[data-doorstep-clear]").addEventListener("click", function () { pad.clear(); });
    doorstep.querySelector("[data-doorstep-sign]").addEventListener("click", signAtTheDoor);
  }

  function signAtTheDoor() {
    revealAll();
    var error = doorstep.querySelector("[data-doorstep-error]");
    var name = doorstep.querySelector("[data-doorstep-name]").value.trim();
    var problem = !name ? T.doorstepName : pad.isEmpty() ? T.doorstepSignature
      : !doorstep.querySelector("[data-doorstep-confirm]").checked ? T.doorstepConfirm : "";
    error.textContent = problem;
    error.hidden = !problem;
    if (problem) { return Promise.resolve(false); }
    var signing = {
      respondent: {
        name: name,
        relationship: parseInt(doorstep.querySelector("[data-doorstep-relationship]").value, 10),
        signature_image: pad.toDataURL("image/png"),
        refused: false,
        refusal_reason: ""
      },
      confirmedAt: new Date().toISOString()
    };
    clearTimeout(state.timer);
    state.dirty = true;
    state.signed = true;
    return (loaded || Promise.resolve()).then(function () { return storeLocal(signing); }).then(function () {
      doorstep.querySelector("[data-doorstep-done]").hidden = false;
      setStatus(Offline.config.text.local, "warn");
      return save();
    });
  }

  // --- wiring -------------------------------------------------------------------------------------------

  // A field answered (and readable): the message the last save put under its item goes; the next save says anew.
  function clearMessage(input) {
    var result = read(input);
    var fieldset = input.closest("fieldset.item");
    if (!fieldset || result.incomplete || result.value === null || result.value === "") { return; }
    fieldset.classList.remove("has-hard", "has-warning");
    var node = fieldset.querySelector("[data-msg]");
    if (node) {
      node.hidden = true;
      node.textContent = "";
    }
  }

  function onEdit(event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-field")) { return; }
    var name = input.getAttribute("data-field");
    var card = input.closest("[data-person]");
    if (card && (name === "d3_id_number" || name === "d5_birth_year" || name === "d5_birth_month" || name === "d4_sex")) {
      checkIdentity(card, name === "d3_id_number");
    }
    checkIncomplete(card || input.closest("[data-death]") || householdPanel);
    clearMessage(input);
    if (name === "d1_name" || name === "d2_relationship" || name === "h1_kind") { renumber(); }
    applySkipLogic();
    schedule();
  }

  root.addEventListener("input", onEdit);
  root.addEventListener("change", function (event) {
    var input = event.target;
    if (input.hasAttribute && (input.getAttribute("data-field") === "h4_deaths_male" ||
        input.getAttribute("data-field") === "h4_deaths_female")) {
      syncDeaths();
      applySkipLogic();
    }
    if (input.tagName === "SELECT") { onEdit(event); }
  });
  if (reasonInput) {
    reasonInput.addEventListener("input", function () { if (state.dirty) { schedule(); } });
  }

  Array.prototype.forEach.call(root.querySelectorAll("[data-step-link]"), function (link) {
    link.addEventListener("click", function () {
      showStep(link.getAttribute("data-step-link"), link.getAttribute("data-step-link") === "persons" ? 0 : undefined);
    });
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-next]"), function (button) {
    button.addEventListener("click", nextStep);
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-prev]"), function (button) {
    button.addEventListener("click", previousStep);
  });
  Array.prototype.forEach.call(root.querySelectorAll("a[data-goto-summary]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      goToSummary(link);
    });
  });
  root.querySelector("[data-person-prev]").addEventListener("click", function () {
    if (state.current > 0) { showStep("persons", state.current - 1); }
  });
  root.querySelector("[data-person-next]").addEventListener("click", function () {
    if (state.current < personCards().length - 1) { showStep("persons", state.current + 1); }
  });
  root.querySelector("[data-person-add]").addEventListener("click", function () {
    addPerson({});
    showStep("persons", personCards().length - 1);
    schedule();
  });
  root.querySelector("[data-person-remove]").addEventListener("click", function () {
    var cards = personCards();
    if (!cards.length || !window.confirm(T.removeConfirm)) { return; }
    var removed = values(cards[state.current]);
    cards[state.current].remove();
    state.removedAway = (state.removedAway || []).concat([removed.d7_residence !== null && removed.d7_residence !== 1]);
    state.current = Math.max(0, Math.min(state.current, cards.length - 2));
    offerCountFix();
    showStep("persons", state.current);
    schedule();
  });

  // H2 counts the persons: after a removal the form offers to lower it (or leaves it, with the person to add).
  var countFix = root.querySelector("[data-count-fix]");

  function offerCountFix() {
    var h = householdValues().values;
    var declared = (h.h2_present || 0) + (h.h2_away || 0);
    var rows = personCards().length;
    if (data.allDead || h.h2_present === null || declared <= rows) {
      countFix.hidden = true;
      return;
    }
    state.keptCount = declared;
    countFix.querySelector("[data-count-fix-text]").textContent = format(T.countFix, { declared: declared, rows: rows });
    countFix.querySelector("[data-count-fix-apply]").textContent = format(T.countFixApply, { rows: rows });
    countFix.hidden = false;
  }

  countFix.querySelector("[data-count-fix-apply]").addEventListener("click", function () {
    var present = field(householdPanel, "h2_present"), away = field(householdPanel, "h2_away");
    var p = read(present).value || 0, a = read(away).value || 0;
    var surplus = p + a - personCards().length;
    var kinds = state.removedAway || [];
    for (; surplus > 0; surplus -= 1) {
      // The person removed lived elsewhere at the reference moment (D7 other than this small area): H2's "away".
      var wasAway = kinds.length ? kinds.pop() : false;
      if ((wasAway && a > 0) || p === 0) { a -= 1; } else { p -= 1; }
    }
    write(present, p);
    write(away, a);
    state.removedAway = [];
    state.keptCount = null;
    countFix.hidden = true;
    clearMessage(present);
    applySkipLogic();
    renumber();
    schedule();
  });
  countFix.querySelector("[data-count-fix-keep]").addEventListener("click", function () {
    countFix.hidden = true;
  });

  // The ID number's last character may be X, which a numeric keypad lacks: its own button beside the field.
  root.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-id-x]");
    if (!button) { return; }
    var input = button.closest("fieldset.item").querySelector('[data-kind="id"]');
    if (input.value.length < 18) { input.value += "X"; }
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // "同户主": D6–D10 as the head answered them, in one tap (the enumerator changes any that differ).
  var SAME_AS_HEAD = ["d6_ethnicity", "d7_residence", "d7_residence_county", "d8_hukou_place", "d8_hukou_county",
    "d9_away_duration", "d10_away_reason"];
  root.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-same-as-head]");
    if (!button) { return; }
    var card = button.closest("[data-person]");
    var head = personCards()[0];
    if (!head || head === card) { return; }
    SAME_AS_HEAD.forEach(function (name) {
      var from = field(head, name), to = field(card, name);
      if (from && to) {
        to.value = from.value;
        clearMessage(to);
      }
    });
    checkIncomplete(card);
    applySkipLogic();
    schedule();
  });

  // Closing the tab or the phone locking: what was typed is on the phone already; with a signal it is also sent
  // now, with keepalive so that the request outlives the page. (Its answer is not read: the phone's copy stays
  // until a later page sees the server holding the same form.)
  function sendOnLeaving() {
    var record = state.lastRecord;
    if (!state.dirty || state.conflict || !navigator.onLine || !record) { return; }
    // The copy on the phone, under the key the outbox will send it with: the server answers a later retry with
    // this request's answer. A change typed just before leaving may still be on its way into the phone's copy
    // (IndexedDB answers later than the page goes away): it is sent as the revision that copy will get.
    if (state.pendingStores > 0) {
      var current = payload();
      delete current.version;
      record = Object.assign({}, record, { rev: record.rev + state.pendingStores, body: current });
    }
    var body = Object.assign({}, record.body, { version: record.version });
    try {
      window.fetch(data.urls.autosave, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": Offline.csrfToken(),
          "Idempotency-Key": Offline.requestKey(record)
        },
        body: JSON.stringify(body)
      }).catch(function () { /* kept on the phone */ });
    } catch (e) { /* kept on the phone */ }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { sendOnLeaving(); }
  });
  window.addEventListener("pagehide", sendOnLeaving);

  // --- start ------------------------------------------------------------------------------------------------

  // An input the enumerator changed before this script ran (a slow phone): what they typed wins over the saved value.
  function pristine(input) {
    if (input.tagName === "SELECT") {
      // With no option marked selected in the page, a browser shows the first one.
      var initial = 0;
      Array.prototype.forEach.call(input.options, function (option, index) {
        if (option.defaultSelected) { initial = index; }
      });
      return input.selectedIndex === initial;
    }
    return input.value === input.defaultValue;
  }

  // The form as the phone holds it (a copy not yet acknowledged by the server) replaces the server's.
  function fillFrom(body) {
    inputsOf(householdPanel).forEach(function (input) {
      var name = input.getAttribute("data-field");
      if (body.household && Object.prototype.hasOwnProperty.call(body.household, name)) {
        write(input, body.household[name]);
      }
    });
    personCards().forEach(function (card) { card.remove(); });
    deathCards().forEach(function (card) { card.remove(); });
    (body.persons || []).forEach(function (row) { addPerson(row); });
    (body.deaths || []).forEach(function (row) { addDeath(row); });
    if (reasonInput && body.reason) { reasonInput.value = body.reason; }
    // The phone's copy is newer than the page: its place is where the enumerator was last (an offline reload),
    // unless the page opened at a place named in its address or at a reviewer's comment.
    var place = state.openedAt === "position" ? placeOf(body.position) : null;
    if (place) {
      state.position = body.position;
      openAt(place);
      return;
    }
    state.current = Math.min(state.current, Math.max(0, personCards().length - 1));
    showStep(state.step, state.step === "persons" ? state.current : undefined);
  }

  function sameForm(a, b) {
    var strip = function (body) {
      var copy = Object.assign({}, body);
      delete copy.version;
      delete copy.reason;
      delete copy.position;
      return JSON.stringify(copy);
    };
    return strip(a) === strip(b);
  }

  // Compare the phone's copy with the server's form in the page: the same → the server has it (a copy sent as
  // the page closed); made on the version the server holds (or a later one the page here has not seen) → the
  // phone's copy is what the enumerator typed last; made on an older one → someone changed it on the server
  // meanwhile, and the enumerator chooses (nothing is overwritten silently).
  function reconcile() {
    if (!Offline) { return Promise.resolve(); }
    return Offline.get(KEY).then(function (local) {
      if (!local) { return null; }
      var server = payload();
      if (sameForm(local.body, server)) {
        // The server has the answers; a move made after them (with no signal) is the phone's alone: the draft
        // opens there, and the place is sent.
        var moved = state.openedAt === "position" && (local.version || 0) >= data.version &&
          local.body.position !== data.position ? placeOf(local.body.position) : null;
        if (!moved) { return Offline.remove(KEY); }
        state.version = local.version;
        state.position = local.body.position;
        openAt(moved);
        state.dirty = true;
        state.timer = setTimeout(save, 300);
        return null;
      }
      if ((local.version || 0) >= data.version) {
        state.version = local.version;
        fillFrom(local.body);
        state.dirty = true;
        if (local.signing && doorstep) {
          state.signed = true;
          doorstep.querySelector("[data-doorstep-done]").hidden = false;
        }
        setStatus(Offline.config.text.local, "warn");
        state.timer = setTimeout(save, 300);
        return null;
      }
      showConflict(local, server);
      return null;
    }).catch(function () { /* no IndexedDB (private mode): the page works as before, online only */ });
  }

  // --- a conflict: both versions side by side, the enumerator chooses -------------------------------------

  function shown(container, name, value) {
    var input = container && container.querySelector('[data-field="' + name + '"]');
    if (value === null || value === undefined || value === "") { return "—"; }
    if (input && input.tagName === "SELECT") {
      var option = Array.prototype.find.call(input.options, function (o) { return o.value === String(value); });
      if (option) { return option.textContent.trim(); }
    }
    if (name === "d6_ethnicity" || name === "ethnicity") { return ETHNIC[value] || String(value); }
    return String(value);
  }

  function itemName(container, name) {
    var input = container && container.querySelector('[data-field="' + name + '"]');
    var fieldset = input && input.closest("fieldset.item");
    var legend = fieldset && fieldset.querySelector("legend");
    var part = input && input.closest("[data-part]");
    var partText = part && part.firstChild && part.firstChild.nodeType === 3 ? part.firstChild.textContent.trim() : "";
    return (legend ? legend.textContent.trim() : name) + (partText ? " " + partText : "");
  }

  function differences(server, local) {
    var rows = [];
    var h1 = server.household || {}, h2 = local.household || {};
    Object.keys(Object.assign({}, h1, h2)).forEach(function (name) {
      if (JSON.stringify(h1[name]) !== JSON.stringify(h2[name])) {
        rows.push([itemName(householdPanel, name), shown(householdPanel, name, h1[name]), shown(householdPanel, name, h2[name])]);
      }
    });
    var template = makeCard("person-template");
    [["persons", T.person, template], ["deaths", T.death, makeCard("death-template")]].forEach(function (kind) {
      var a = server[kind[0]] || [], b = local[kind[0]] || [];
      for (var i = 0; i < Math.max(a.length, b.length); i += 1) {
        var left = a[i] || {}, right = b[i] || {};
        var prefix = format(kind[1], { n: i + 1, total: Math.max(a.length, b.length) }) + " · ";
        Object.keys(Object.assign({}, left, right)).forEach(function (name) {
          if (name !== "row_no" && JSON.stringify(left[name]) !== JSON.stringify(right[name])) {
            rows.push([prefix + itemName(kind[2], name), shown(kind[2], name, left[name]), shown(kind[2], name, right[name])]);
          }
        });
      }
    });
    return rows;
  }

  function showConflict(local, server) {
    conflict("");
    var box = root.querySelector("[data-conflict-choice]");
    var body = box.querySelector("tbody");
    body.textContent = "";
    differences(server, local.body).forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (text, index) {
        var cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) { cell.setAttribute("scope", "row"); }
        cell.textContent = text;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    root.querySelector("[data-conflict]").hidden = true;
    box.hidden = false;
    box.querySelector("[data-keep-server]").onclick = function () {
      Offline.remove(KEY).then(function () { window.location.reload(); });
    };
    box.querySelector("[data-keep-phone]").onclick = function () {
      // The phone's copy goes on top of the server's version: it replaces it, knowingly.
      state.conflict = false;
      state.version = data.version;
      box.hidden = true;
      fillFrom(local.body);
      Offline.update(KEY, function (current) {
        if (!current) { return null; }
        current.version = data.version;
        current.status = "local";
        current.rev = (current.rev || 0) + 1;
        return current;
      }).then(function () { state.dirty = true; return save(); });
    };
    box.scrollIntoView({ block: "start" });
  }

  // A draft opened again (from the listing, with no step in the address) opens where it should be worked on next.
  // Precedence, as the enumerator expects it:
  //   1. a reviewer's comment: a returned form is opened to correct what the reviewer marked, not to go on typing;
  //   2. the place saved with the draft (on the server, or in the phone's copy when that is newer): a draft they
  //      were typing opens where they were, even if something earlier is still missing (an ID card to be fetched,
  //      a count to ask again) — they left it there knowingly, and the checks list still shows it;
  //   3. the first place with something missing or wrong, going through the form in order (a draft saved without
  //      a place: by the device API, or before places were kept);
  //   4. else step 1.
  // The steps and persons before the place count as left, so what they lack shows at once.
  function resume() {
    var persons = personCards().length;
    var place = null;
    var comment = (data.comments || [])[0];
    if (comment) {
      state.openedAt = "comment";
      var parts = comment.item.split("@");
      if (parts.length < 2) {
        place = { step: "household" };
      } else if (parts[0].charAt(0) === "S") {
        place = { step: "deaths" };
      } else {
        place = { step: "persons", index: parseInt(parts[1], 10) - 1 };
      }
    }
    if (!place) {
      state.openedAt = "position";
      place = placeOf(data.position);
    }
    var rank = function (issue) {
      if (issue.row === null || issue.row === undefined) { return CROSS.indexOf(issue.code) !== -1 ? 5000 : 0; }
      return ((issue.item || "").charAt(0) === "S" ? 10000 : 0) + issue.row;
    };
    if (!place && persons) {
      var first = null;
      state.issues.forEach(function (issue) {
        if (issue.severity === "hard" && (first === null || rank(issue) < rank(first))) { first = issue; }
      });
      if (first && rank(first) === 0) {
        place = { step: "household" };
      } else if (first && rank(first) < 5000) {
        place = { step: "persons", index: first.row - 1 };
      } else if (first && first.code === "PERSON_COUNT_MISMATCH") {
        place = { step: "persons", index: persons };
      } else if (first && rank(first) > 5000) {
        place = { step: "deaths" };
      }
    }
    openAt(place || { step: "household" });
  }

  function openAt(place) {
    if (place.step === "persons") {
      var h = householdValues().values;
      var last = Math.max(personCards().length, Math.min((h.h2_present || 0) + (h.h2_away || 0), 50)) - 1;
      place.index = Math.max(0, Math.min(place.index, last));
      personCards().forEach(function (card, index) {
        if (index < place.index) { card.setAttribute("data-left", ""); }
      });
    }
    if (place.step === "deaths") {
      householdPanel.setAttribute("data-left", "");
      personCards().forEach(function (card) { card.setAttribute("data-left", ""); });
      state.crossLeft = true;
    }
    showStep(place.step, place.index);
  }

  (function start() {
    var typedEarly = false;
    var ready = function () { root.setAttribute("data-ready", ""); };
    var release;
    loaded = new Promise(function (resolve) { release = resolve; });
    inputsOf(householdPanel).forEach(function (input) {
      if (pristine(input)) {
        write(input, data.household[input.getAttribute("data-field")]);
      } else {
        typedEarly = true;
      }
    });
    (data.persons || []).forEach(function (row) { addPerson(row); });
    (data.deaths || []).forEach(function (row) { addDeath(row); });
    applySkipLogic();
    var named = placeOf((window.location.hash || "").replace("#", ""));
    if (named && named.step !== "household") {
      state.openedAt = "address";
      if (named.step === "persons") { named.index = Math.max(0, Math.min(named.index, personCards().length - 1)); }
      showStep(named.step, named.index);
    } else {
      resume();
    }
    state.position = position();
    showIssues(state.issues);
    showComments();
    setStatus(T.saved, "ok");
    if (typedEarly) { schedule(); }
    startDoorstep();
    reconcile().then(release, release);
    loaded.then(function () { state.started = true; }).then(ready, ready);
  })();
})();
