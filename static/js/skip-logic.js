// The paper form's skip logic (mirrors enumeration.rules.entry, which stays the judge), shared by the enumerator's
// household form (static/js/enumeration-form.js) and the respondent's self-enumeration pages
// (static/js/self-enumeration.js): which items are asked given the answers so far, and showing only those.
//
// The pages mark their inputs alike: every input has ``data-field`` (the model field) and ``data-kind`` (how its
// value is read: choice, month, number, year, id, county, province, ethnicity, form_kind, text), and sits inside an
// element with ``data-part`` inside a ``fieldset.item``; a part whose item is not asked is hidden, and a fieldset
// with no part left is hidden too.
(function () {
  "use strict";
  var REF_YEAR = 2020;
  var REF_MONTH = 11;
  var HOUSEHOLD_COUNTS = ["h2_present", "h2_away", "h3_births_male", "h3_births_female", "h4_deaths_male", "h4_deaths_female"];
  var LONG_HOUSEHOLD = ["h8_storeys", "h9_structure", "h10_year_built", "h11_lift", "h12_cooking_fuel", "h13_piped_water",
    "h14_kitchen", "h15_toilet", "h16_bathing", "h17_tenure", "h19_car_value"];

  var namesFor = null, names = {};

  function namesOf(ethnic) {
    if (namesFor !== ethnic) {
      names = {};
      Object.keys(ethnic).forEach(function (code) { names[ethnic[code]] = code; });
      namesFor = ethnic;
    }
    return names;
  }

  // A typed value as the server wants it; ``incomplete`` marks what is still being typed (sent as empty).
  // ``ethnic`` maps codes to names (GB 3304), for an ethnic group typed by name.
  function read(kind, text, ethnic) {
    var raw = (text || "").trim();
    if (kind === "choice" || kind === "month") {
      return { value: raw === "" ? null : parseInt(raw, 10) };
    }
    if (kind === "form_kind") {
      return { value: raw || "census" };
    }
    if (kind === "number") {
      if (raw === "") { return { value: null }; }
      return /^\d+$/.test(raw) ? { value: parseInt(raw, 10) } : { value: null, incomplete: true };
    }
    if (kind === "year") {
      if (raw === "") { return { value: null }; }
      return /^\d{4}$/.test(raw) ? { value: parseInt(raw, 10) } : { value: null, incomplete: true };
    }
    if (kind === "id") {
      raw = raw.toUpperCase().replace(/\s+/g, "");
      if (raw === "") { return { value: "" }; }
      return /^\d{17}[\dX]$/.test(raw) ? { value: raw } : { value: "", incomplete: true };
    }
    if (kind === "county" || kind === "province") {
      var length = kind === "county" ? 6 : 2;
      if (raw === "") { return { value: "" }; }
      return new RegExp("^\\d{" + length + "}$").test(raw) ? { value: raw } : { value: "", incomplete: true };
    }
    if (kind === "ethnicity") {
      if (raw === "") { return { value: "" }; }
      ethnic = ethnic || {};
      var byName = namesOf(ethnic);
      var code = byName[raw] || byName[raw + "族"] || (ethnic[raw] ? raw : null);
      return code ? { value: code } : { value: "", incomplete: true, unknownEthnic: true };
    }
    return { value: raw };
  }

  function inputsOf(container) {
    return Array.prototype.slice.call(container.querySelectorAll("[data-field]"));
  }

  function values(container, ethnic) {
    var out = {};
    inputsOf(container).forEach(function (input) {
      out[input.getAttribute("data-field")] = read(input.getAttribute("data-kind"), input.value, ethnic).value;
    });
    return out;
  }

  // Age at the reference moment (2020-11-01) from D5's year and month, as the rules count it.
  function ageOf(person) {
    var year = person.d5_birth_year, month = person.d5_birth_month;
    if (year === null || year === undefined || month === null || month === undefined) {
      return null;
    }
    return REF_YEAR - year - (month >= REF_MONTH ? 1 : 0);
  }

  // ``ctx``: {allDead, longForm} of the household's form.
  function householdAsked(h, ctx) {
    var asked = {};
    if (ctx.allDead) {
      asked.h4_deaths_male = asked.h4_deaths_female = true;
      return asked;
    }
    var foreign = h.form_kind === "foreign";
    asked.form_kind = asked.h1_kind = asked.h5_residence_type = true;
    if (!foreign) {
      HOUSEHOLD_COUNTS.forEach(function (name) { asked[name] = true; });
    }
    if (h.h5_residence_type === 1) {
      asked.h6_floor_area = asked.h7_rooms = true;
      if (ctx.longForm && !foreign) {
        LONG_HOUSEHOLD.forEach(function (name) { asked[name] = true; });
        asked.h18_rent = h.h17_tenure === 1 || h.h17_tenure === 2;
      }
    }
    return asked;
  }

  // ``ctx``: {longForm, thresholds: {education, literacy, longForm: {…}}}; ``h``: the household's values.
  function personAsked(p, h, ctx) {
    var t = ctx.thresholds, lf = t.longForm || {};
    var family = h.h1_kind === 1, foreign = h.form_kind === "foreign";
    var census = !foreign, L = !!ctx.longForm && !foreign;
    var age = ageOf(p);
    var aged = function (minimum) { return age !== null && age >= minimum; };
    var woman = function (range) { return p.d4_sex === 2 && age !== null && age >= range[0] && age <= range[1]; };
    var hukouKnown = p.d8_hukou_place !== null && p.d8_hukou_place !== undefined && p.d8_hukou_place !== 5;
    var away = hukouKnown && p.d9_away_duration !== null && p.d9_away_duration !== undefined && p.d9_away_duration !== 1;
    var working = p.c18_work === 1 || p.c18_work === 2;
    var married = p.c24_marital === 2 || p.c24_marital === 3 || p.c24_marital === 4;
    return {
      d1_name: true, d2_relationship: family, d3_id_number: true, d4_sex: true,
      d5_birth_year: true, d5_birth_month: true, d6_ethnicity: census,
      d7_residence: true, d7_residence_county: !foreign && p.d7_residence === 5,
      d8_hukou_place: census, d8_hukou_county: census && p.d8_hukou_place === 4,
      d9_away_duration: census && hukouKnown, d10_away_reason: census && away,
      d11_education: census && aged(t.education), d12_literate: census && aged(t.literacy),
      c11_hukou_type: L && away, c12_land_right: L, c13_birthplace: L,
      c13_birth_province: L && p.c13_birthplace === 3,
      c14_residence_5y: L && aged(lf.C14_min_age), c14_county: L && aged(lf.C14_min_age) && p.c14_residence_5y === 2,
      c16_school_status: L && (p.d11_education || 0) >= 3,
      c18_work: L && aged(lf.C18_min_age), c18_hours: L && p.c18_work === 1,
      c19_unit_type: L && working, c20_industry: L && working, c21_occupation: L && working,
      c22_not_working_reason: L && p.c18_work === 3, c23_livelihood: L,
      c24_marital: L && aged(lf.C24_min_age),
      c25_first_marriage_year: L && married, c25_first_marriage_month: L && married,
      c26_born_male: L && woman(lf.C26_women_ages), c26_born_female: L && woman(lf.C26_women_ages),
      c26_alive_male: L && woman(lf.C26_women_ages), c26_alive_female: L && woman(lf.C26_women_ages),
      c27_birth_last_year: L && woman(lf.C27_women_ages),
      c28_living_arrangement: L && aged(lf.C28_min_age), c29_health: L && aged(lf.C29_min_age),
      f_identity: foreign, f_nationality: foreign && p.f_identity === 4,
      f_stay: foreign, f_purpose: foreign, f_employed: foreign
    };
  }

  function deathAsked(d) {
    var asked = { name: true, sex: true, birth_year: true, birth_month: true, death_year: true, death_month: true,
      ethnicity: true, id_number: true, education: false, marital: false };
    if (d.birth_year !== null && d.birth_month !== null && d.death_year !== null && d.death_month !== null) {
      var age = d.death_year - d.birth_year - (d.birth_month > d.death_month ? 1 : 0);
      asked.education = age >= 6;
      asked.marital = age >= 15;
    }
    return asked;
  }

  // Values with the items that are not asked emptied, repeated until stable (an emptied item can unask others).
  function effective(raw, askedOf) {
    var current = Object.assign({}, raw);
    for (var pass = 0; pass < 3; pass += 1) {
      var asked = askedOf(current);
      var changed = false;
      Object.keys(current).forEach(function (name) {
        if (asked[name] === false && current[name] !== null && current[name] !== "") {
          current[name] = typeof raw[name] === "string" ? "" : null;
          changed = true;
        }
      });
      if (!changed) {
        return { values: current, asked: asked };
      }
    }
    return { values: current, asked: askedOf(current) };
  }

  // Show the parts that are asked, hide the others (and a fieldset with none left). With ``disable``, a hidden
  // input is disabled too, so that a plain form post leaves it out (the server reads it as not answered).
  function show(container, asked, disable) {
    inputsOf(container).forEach(function (input) {
      var name = input.getAttribute("data-field");
      var part = input.closest("[data-part]");
      if (part) {
        part.hidden = asked[name] === false || asked[name] === undefined && name !== "form_kind";
        if (disable) { input.disabled = part.hidden; }
      }
    });
    Array.prototype.forEach.call(container.querySelectorAll("fieldset.item"), function (fieldset) {
      var parts = fieldset.querySelectorAll("[data-part]");
      var visible = Array.prototype.some.call(parts, function (part) { return !part.hidden; });
      fieldset.hidden = !visible;
    });
  }

  window.CensusSkip = {
    LONG_HOUSEHOLD: LONG_HOUSEHOLD,
    read: read,
    inputsOf: inputsOf,
    values: values,
    ageOf: ageOf,
    householdAsked: householdAsked,
    personAsked: personAsked,
    deathAsked: deathAsked,
    effective: effective,
    show: show
  };
})();
