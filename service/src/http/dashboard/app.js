// Koordynator dashboard: signs in with an API token (sessionStorage), reads the JSON API and
// renders five views. No framework: the DOM is built with el(), never from HTML strings, so
// text from the API cannot inject markup.
"use strict";

const TOKEN_KEY = "koordynator.token";
const MONTHS = ["styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień",
  "wrzesień", "październik", "listopad", "grudzień"];
const MONTHS_GEN = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
  "września", "października", "listopada", "grudnia"];
const PARTS = { early: "początek", mid: "połowa", late: "koniec" };
const TERM_STATUS = { open: "rekrutacja otwarta", closed: "rekrutacja zamknięta", scheduled: "zaplanowany",
  planned: "planowany", cancelled: "odwołany", completed: "zakończony" };
const ENTRY_STATUS = { planned: "planowane", held: "odbyło się", cancelled: "odwołane" };
const SOURCES = { program: "program", study_visit: "wizyta studyjna", network: "sieć" };
const KINDS = { consultation: "konsultacje", forum: "forum", study_visit: "wizyta studyjna", training: "szkolenie",
  conference: "konferencja", meeting: "spotkanie", committee_sitting: "posiedzenie", monitoring_meeting: "spotkanie monitoringowe",
  publication: "publikacja", gala: "gala", other: "inne", term: "termin wizyty" };
const VERDICTS = { achieved: "cele osiągnięte", partially_achieved: "cele osiągnięte częściowo", not_achieved: "cele nieosiągnięte" };
const ROLES = { chair: "przewodniczący/a", vice_chair: "wiceprzewodniczący/a", coordinator: "koordynator/ka", secretary: "sekretarz" };
// The allocation rule of each roster decision (DOMAIN.md), in the users' words.
const RULES = { all_within_seats: "wszyscy mieszczą się w liczbie miejsc", rank_order: "miejsce według kolejności w rankingu",
  cap_fill: "wolne miejsce po przejściu listy, mimo limitu instytucji", waitlist: "lista rezerwowa: zabrakło miejsc",
  institution_cap: "pominięty: instytucja ma już limit miejsc", promotion_below_cap: "awans na zwolnione miejsce (pierwszy w kolejce poniżej limitu)",
  promotion_first_in_line: "awans na zwolnione miejsce (pierwszy w kolejce)", manual: "decyzja koordynatora" };
const PROGRAM_KINDS = { cooperation_programme: "program współpracy", project: "projekt" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function table(caption, headers, rows, cls) {
  return el("table", { class: cls },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))
      : el("tr", { class: "empty" }, el("td", { colspan: headers.length }, "brak"))));
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

class SignedOut extends Error {}

async function api(path) {
  // With a token, the token; without one, the console's session cookie (same origin) reads.
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const res = await fetch(path, { headers, credentials: "same-origin" });
  if (res.status === 401) {
    throw new SignedOut(token() ? "Token nieprawidłowy lub unieważniony." : "");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && (body.detail || body.title)) || "Błąd " + res.status);
  return body;
}

// ---- dates -------------------------------------------------------------------------------

function day(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return `${d} ${MONTHS_GEN[m - 1]} ${y}`;
}

function range(from, to) {
  if (!to || from === to) return day(from);
  const [y1, m1, d1] = from.split("-").map(Number);
  const [y2, m2, d2] = to.split("-").map(Number);
  if (y1 === y2 && m1 === m2) return `${d1}–${d2} ${MONTHS_GEN[m2 - 1]} ${y2}`;
  return `${day(from)} – ${day(to)}`;
}

// A PlannedDate at its own precision.
function planned(p) {
  if (!p) return "";
  if (p.day) return day(p.day);
  if (p.from) return range(p.from, p.to);
  if (p.month) {
    const [y, m] = p.month.split("-").map(Number);
    return (p.part ? PARTS[p.part] + " " + MONTHS_GEN[m - 1] : MONTHS[m - 1]) + " " + y;
  }
  return JSON.stringify(p);
}

const warsaw = new Intl.DateTimeFormat("pl-PL", { timeZone: "Europe/Warsaw", dateStyle: "long", timeStyle: "short" });

function countdownText(deadline) {
  let s = Math.floor((new Date(deadline) - Date.now()) / 1000);
  if (s <= 0) return "termin minął";
  const d = Math.floor(s / 86400); s %= 86400;
  const h = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  const pad = (n) => String(n).padStart(2, "0");
  // Polish agreement: pozostał 1 dzień, pozostały 2–4 (22–24…) dni, pozostało 0, 5–21 dni.
  const few = d % 10 >= 2 && d % 10 <= 4 && (d % 100 < 12 || d % 100 > 14);
  const days = d === 1 ? "pozostał 1 dzień" : few ? `pozostały ${d} dni` : `pozostało ${d} dni`;
  return `${days} ${pad(h)}:${pad(m)}:${pad(s)}`;
}

setInterval(() => {
  for (const node of document.querySelectorAll("[data-deadline]")) node.textContent = countdownText(node.dataset.deadline);
}, 1000);

// ---- views -------------------------------------------------------------------------------

async function recruitments() {
  const { visits } = await api("/api/v1/study-visits");
  const open = [];
  const rows = [];
  for (const v of visits) {
    for (const t of v.terms) {
      const when = t.starts_on ? range(t.starts_on, t.ends_on) : planned(t.planned);
      rows.push([v.title, t.label, when, TERM_STATUS[t.status] || t.status, t.seats, t.candidates, t.allocated]);
      if (t.status === "open") open.push({ v, t, when });
    }
  }
  return [
    el("h2", {}, "Otwarte rekrutacje"),
    open.length ? el("div", { class: "cards" }, open.map(({ v, t, when }) => {
      const left = Math.max(t.seats - t.candidates, 0);
      return el("article", { class: "card", "data-term": t.term_id },
        el("h3", {}, `${v.title} — ${t.label}`),
        el("p", {}, `${when}, ${v.destination}`),
        el("dl", {},
          el("dt", {}, "Miejsca"), el("dd", {}, `${t.seats}`),
          el("dt", {}, "Zgłoszenia"), el("dd", {}, `${t.candidates}`),
          el("dt", {}, "Wolne miejsca"), el("dd", { class: "seats-left" }, `${left}`),
          el("dt", {}, "Termin zgłoszeń"), el("dd", {}, warsaw.format(new Date(t.recruitment_deadline)))),
        el("p", { class: "countdown", "data-deadline": t.recruitment_deadline, role: "timer" }, countdownText(t.recruitment_deadline)),
        el("p", {}, el("a", { href: `#listy/${v.id}/${t.term_id}` }, "Ranking wstępny")));
    })) : el("p", {}, "Brak otwartych rekrutacji."),
    table("Wszystkie terminy wizyt", ["Wizyta", "Termin", "Daty", "Status", "Miejsca", "Zgłoszenia", "Przydzielone"], rows),
  ];
}

// The basis of a decision in Polish; the recorded English sentence stays in the tooltip.
function basis(e) {
  const held = /institution held (\d+) of (\d+)/.exec(e.basis || "");
  const text = [RULES[e.rule] || e.basis, held ? `instytucja miała ${held[1]} z ${held[2]} miejsc` : null,
    e.reason && e.rule === "manual" ? `powód: ${e.reason}` : null].filter(Boolean).join("; ");
  return el("span", { title: e.basis }, text);
}

async function rosters(visitId, termId) {
  const { visits } = await api("/api/v1/study-visits");
  const terms = visits.flatMap((v) => v.terms.filter((t) => t.status === "open" || t.status === "closed").map((t) => ({ v, t })));
  if (!terms.length) return [el("h2", {}, "Listy uczestników"), el("p", {}, "Brak terminów z rekrutacją.")];
  const chosen = terms.find(({ v, t }) => v.id === visitId && t.term_id === termId)
    || terms.find(({ t }) => t.status === "closed") || terms[0];
  const { v, t } = chosen;
  const r = await api(`/api/v1/study-visits/${v.id}/terms/${t.term_id}/roster`);
  const prefLabel = Object.fromEntries((v.preferences || []).map((p) => [p.code, p.label]));
  const who = (e) => e.person ? (e.person.erased ? "(dane usunięte)" : `${e.person.first_name} ${e.person.last_name}`) : null;
  const showPeople = [...r.allocated, ...r.waitlist, ...r.passed_over].some((e) => e.person);
  const headers = ["Poz.", ...(showPeople ? ["Osoba"] : []), "Instytucja", "Typ", "Spełnione preferencje", "Podstawa decyzji"];
  const rosterClass = showPeople ? "roster with-people" : "roster";
  const row = (e) => [e.rank, ...(showPeople ? [who(e)] : []), e.institution.name, e.institution.type,
    e.preferences_met.map((c) => prefLabel[c] || c).join("; ") || "—", basis(e)];
  const select = el("select", { id: "term-select", onchange: (ev) => { location.hash = "#listy/" + ev.target.value; } },
    terms.map(({ v: tv, t: tt }) => el("option", { value: `${tv.id}/${tt.term_id}`, selected: tt.term_id === t.term_id },
      `${tt.label} (${TERM_STATUS[tt.status] || tt.status}) — ${tv.title}`)));
  return [
    el("h2", {}, "Listy uczestników"),
    el("p", {}, el("label", { for: "term-select" }, "Termin: "), select),
    el("h3", {}, `${v.title} — ${t.label}`),
    el("p", { class: "summary" }, r.provisional ? "Ranking wstępny (rekrutacja trwa). " : "Lista po zamknięciu rekrutacji. ",
      `Miejsca: ${r.seats}, wolne: ${r.seats_left}, zakwalifikowani: ${r.allocated.length}, `
      + `rezerwowi: ${r.waitlist.length}, pominięci: ${r.passed_over.length}, wycofane zgłoszenia: ${r.withdrawn}.`),
    table(r.provisional ? "Zakwalifikowani wstępnie (gdyby rekrutacja skończyła się teraz)" : "Zakwalifikowani", headers, r.allocated.map(row), rosterClass),
    table(r.provisional ? "Lista rezerwowa (wstępnie)" : "Lista rezerwowa", headers, r.waitlist.map(row), rosterClass),
    table("Pominięci (limit osób z jednej instytucji)" + (r.provisional ? " (wstępnie)" : ""), headers, r.passed_over.map(row), rosterClass),
  ];
}

async function programmes() {
  const { programs } = await api("/api/v1/programs");
  const out = [el("h2", {}, "Programy i projekty")];
  if (!programs.length) out.push(el("p", {}, "Brak programów."));
  for (const p of programs) {
    const e = await api(`/api/v1/programs/${p.id}/evaluation`);
    const bars = e.indicators.map((i) => {
      const actual = i.actual === null ? null : Number(i.actual);
      const pct = actual === null || !i.target ? 0 : Math.min(100, Math.round((100 * actual) / i.target));
      return el("li", { class: "indicator" },
        el("span", { class: "label", id: `ind-${p.id}-${i.code}` }, i.label),
        el("progress", { max: i.target, value: actual === null ? 0 : Math.min(actual, i.target), "aria-labelledby": `ind-${p.id}-${i.code}` }),
        el("span", { class: "value" }, actual === null ? `— / ${i.target} (ocena ręczna)` : `${actual} / ${i.target} (${pct}%)`,
          i.achieved === true ? " ✓" : ""));
    });
    out.push(el("article", { class: "card programme" },
      el("h3", {}, p.title),
      el("p", {}, `${PROGRAM_KINDS[p.kind] || p.kind}, ${p.organizer}, ${day(p.period.start)} – ${day(p.period.end)}`
        + (p.partner_application_deadline ? `; zgłoszenia partnerów do ${day(p.partner_application_deadline)}` : "")),
      el("ul", { class: "indicators" }, bars),
      el("p", { class: "summary" },
        `Działania: zaplanowane ${e.activities.planned}, zrealizowane ${e.activities.held}, odwołane ${e.activities.cancelled}. `
        + `Uczestnicy: ${e.participants_total}. Instytucje: ${e.distinct_institutions}. Partnerzy: ${e.partners}. `
        + `Opinie: ${e.feedback.count}` + (e.feedback.average_rating !== null ? ` (średnia ocena ${Number(e.feedback.average_rating).toFixed(1)})` : "") + ". "
        + `Ocena: ${e.verdict ? VERDICTS[e.verdict] || e.verdict : "jeszcze nie oceniono"}.`)));
  }
  return out;
}

async function schedule(yearArg) {
  const year = Number(yearArg) || new Date().getFullYear();
  const s = await api(`/api/v1/schedule?year=${year}`);
  const nav = el("p", { class: "year-nav" },
    el("a", { href: `#harmonogram/${year - 1}` }, `‹ ${year - 1}`), " ",
    el("strong", {}, String(year)), " ",
    el("a", { href: `#harmonogram/${year + 1}` }, `${year + 1} ›`));
  const months = s.months.filter((m) => m.entries.length);
  return [
    el("h2", {}, `Harmonogram ${year}`),
    nav,
    months.length ? months.map((m) => {
      const [y, mm] = m.month.split("-").map(Number);
      return el("section", { class: "month" },
        el("h3", {}, `${MONTHS[mm - 1]} ${y}`),
        el("ul", {}, m.entries.map((e) => el("li", { class: "entry " + e.status },
          el("span", { class: "when" }, planned(e.when)),
          el("span", { class: "title" }, e.title),
          el("span", { class: "meta" }, [SOURCES[e.source] || e.source, KINDS[e.kind] || e.kind, ENTRY_STATUS[e.status] || e.status].filter(Boolean).join(" · "))))));
    }) : el("p", {}, `Brak wydarzeń w ${year} roku.`),
  ];
}

async function networks(networkId) {
  const { networks: list } = await api("/api/v1/networks");
  if (!list.length) return [el("h2", {}, "Sieci"), el("p", {}, "Brak sieci.")];
  const n = list.find((x) => x.id === networkId) || list[0];
  const r = await api(`/api/v1/networks/${n.id}/registry`);
  const memberName = Object.fromEntries(r.members.map((m) => [m.member_id, m.institution.name]));
  const select = el("select", { id: "network-select", onchange: (ev) => { location.hash = "#sieci/" + ev.target.value; } },
    list.map((x) => el("option", { value: x.id, selected: x.id === n.id }, x.name)));
  const current = r.regulations && r.regulations.current;
  const showPeople = r.officers.some((o) => o.person);
  const meetings = (r.meeting_list || []).map((m) => [planned(m.when), m.title, m.location || "—", m.participants_total ?? "—"]);
  return [
    el("h2", {}, "Rejestr sieci"),
    el("p", {}, el("label", { for: "network-select" }, "Sieć: "), select),
    el("h3", {}, n.name),
    el("p", { class: "summary" }, `${n.region}, powołana ${day(n.established_on)}. Przyjmuje: ${n.member_types.join(", ")}. `
      + `Regulamin: ${current ? `${current.title} (wersja ${current.version}, ${day(current.adopted_on)})` : "brak"}. Spotkania: ${r.meetings}.`),
    el("p", { class: "chips" }, Object.entries(r.members_by_type).map(([k, v]) => el("span", { class: "chip" }, `${k}: ${v}`))),
    // Officers' names are personal data: only coordinators and admins receive them.
    table("Władze", ["Funkcja", ...(showPeople ? ["Osoba"] : []), "Instytucja", "Kadencja"], r.officers.map((o) => [
      ROLES[o.role] || o.role,
      ...(showPeople ? [o.person ? (o.person.erased ? "(dane usunięte)" : `${o.person.first_name} ${o.person.last_name}`) : "—"] : []),
      (o.institution && o.institution.name) || memberName[o.member_id] || "—",
      `${o.term_starts_on ? day(o.term_starts_on) : ""} – ${o.term_ends_on ? day(o.term_ends_on) : ""}`])),
    table("Członkowie", ["Instytucja", "Typ", "NIP", "Przystąpienie", "Status"], r.members.map((m) => [
      m.institution.name, m.institution.type, m.institution.nip, day(m.joined_on), m.status === "active" ? "aktywny" : "wystąpił"])),
    table("Spotkania", ["Kiedy", "Temat", "Miejsce", "Uczestnicy"], meetings),
  ];
}

const VIEWS = { rekrutacje: recruitments, listy: rosters, programy: programmes, harmonogram: schedule, sieci: networks };

// ---- shell -------------------------------------------------------------------------------

function showSignIn(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("view").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
}

async function render() {
  const [name, ...args] = (location.hash.slice(1) || "rekrutacje").split("/");
  const view = VIEWS[name] || recruitments;
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === "#" + (VIEWS[name] ? name : "rekrutacje")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const target = document.getElementById("view");
  target.hidden = false;
  target.setAttribute("aria-busy", "true");
  target.replaceChildren(el("p", {}, "Wczytywanie…"));
  try {
    target.replaceChildren(...(await view(...args)).flat());
    target.dataset.view = VIEWS[name] ? name : "rekrutacje";
  } catch (e) {
    if (e instanceof SignedOut) return showSignIn(e.message);
    target.replaceChildren(el("p", { class: "error", role: "alert" }, "Nie udało się wczytać widoku: " + e.message));
  } finally {
    target.removeAttribute("aria-busy");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = document.getElementById("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    document.getElementById("token").value = "";
    render();
  });
  // A token is forgotten here; a console session ends on the console's page.
  document.getElementById("sign-out").addEventListener("click", () => {
    if (token()) showSignIn();
    else location.href = "/panel";
  });
  window.addEventListener("hashchange", render);
  render();
});
