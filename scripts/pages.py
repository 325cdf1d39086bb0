"""The public pages in a real browser (headless Chromium), as PAGES.md requires them to work:
an applicant with the keyboard alone opens a visit, sends the empty form (the error summary
takes the focus, each of its links leads to its field), corrects the errors, lands on their
own page and withdraws — once with JavaScript and once without. axe-core (WCAG 2.0/2.1 A and
AA rules) must find nothing on any page in any state; no page may scroll sideways at 320 CSS
px; screenshots at desktop and phone size go to OUT_DIR. Exit status 1 on any failure.

The console's sign-in is walked the same way: the sign-in page, a wrong password (the error
summary), the start page, the sign-out (an account made by screenshots.sh with `user add`);
and a whole recruitment run from the console by keyboard (`recruitment`), with and without
JavaScript; a programme, a network and an evaluator's audit tools.

    pages.py BASE_URL OUT_DIR AXE_JS      (run by scripts/screenshots.sh on the demo data)
"""

import base64
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE, OUT, AXE_PATH = sys.argv[1], sys.argv[2], sys.argv[3]
CONSOLE_EMAIL = os.environ.get("KOORDYNATOR_CONSOLE_EMAIL", "")
CONSOLE_PASSWORD = os.environ.get("KOORDYNATOR_CONSOLE_PASSWORD", "")
EVALUATOR_EMAIL = os.environ.get("KOORDYNATOR_EVALUATOR_EMAIL", "")
AXE = open(AXE_PATH, encoding="utf-8").read()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
failures = []


def browser(javascript):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=pl-PL", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"]:
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def fail(message):
    print(f"pages: FAIL {message}")
    failures.append(message)


def axe(driver, state):
    """axe-core on the page as it is now; every violation is a failure. (Run with scripts on:
    the pages are the same markup without them.)"""
    driver.execute_script(AXE)
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): '"
        " + v.nodes.map(n => n.target.join(' ')).join(', '))))"
        ".catch(e => done(['axe did not run: ' + e]));",
        TAGS,
    )
    for v in violations:
        fail(f"axe on {state}: {v}")
    print(f"pages: axe on {state}: {len(violations)} violations")


def narrow(driver, state):
    """At 320 CSS px nothing scrolls sideways (WCAG 1.4.10)."""
    driver.set_window_size(320, 800)
    wide = driver.execute_script("return document.documentElement.scrollWidth")
    if wide > 320:
        fail(f"{state} is {wide} px wide at 320 px")
    driver.set_window_size(1280, 900)


def shoot(driver, name):
    """A full-page screenshot at desktop size and one at phone size (360 x 800)."""
    for suffix, (width, height) in [("", (1280, 900)), ("-telefon", (360, 800))]:
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": driver.execute_script(
                "return document.documentElement.clientWidth"), "height": full, "scale": 1}})
        with open(os.path.join(OUT, f"{name}{suffix}.png"), "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    driver.set_window_size(1280, 900)


def check(driver, state, shot=None, javascript=True):
    if javascript:
        axe(driver, state)
        narrow(driver, state)
    if shot:
        shoot(driver, shot)


def content(el):
    """An element's whole text, the visually hidden part (class `wzrok`) too."""
    return el.get_attribute("textContent") or ""


def active(driver):
    return driver.switch_to.active_element


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def tab_until(driver, matches, what, limit=80):
    """Tab (only Tab) until the focused element is what `matches` wants."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        if matches(active(driver)):
            return active(driver)
    fail(f"Tab never reached {what}")
    raise SystemExit(1)


def wait_text(driver, text):
    try:
        WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text)
    except Exception:
        body = driver.find_element(By.TAG_NAME, "body").text
        typed = [t.get_attribute("value") for t in driver.find_elements(By.TAG_NAME, "textarea")]
        fail(f"{text!r} never showed at {driver.current_url}; the page says: {body[:1500]!r}; "
             f"its text areas hold {typed!r}")
        raise SystemExit(1)


def fill_by_keyboard(driver, values):
    """Tabs through the form typing each field's value (and Shift+Tab back to any it started
    below), then Tabs to the submit button and returns it."""
    filled = set()

    def fill(el):
        ident = el.get_attribute("id")
        if ident not in values or ident in filled:
            return
        if el.tag_name == "select":
            el.send_keys(values[ident])  # type-ahead, as a keyboard user selects
        elif el.get_attribute("type") == "checkbox":
            if not el.is_selected():
                press(driver, Keys.SPACE)
        else:
            el.send_keys(Keys.CONTROL, "a")
            el.send_keys(values[ident])
        filled.add(ident)

    def is_submit(el):
        return el.tag_name == "button" and el.get_attribute("type") == "submit"

    fill(active(driver))
    for direction in (Keys.TAB, (Keys.SHIFT, Keys.TAB), Keys.TAB):
        for _ in range(80):
            if set(values) <= filled and direction != (Keys.SHIFT, Keys.TAB) and is_submit(active(driver)):
                return active(driver)
            press(driver, *direction) if isinstance(direction, tuple) else press(driver, direction)
            el = active(driver)
            fill(el)
            if direction == Keys.TAB and is_submit(el) and set(values) <= filled:
                return el
            if direction == Keys.TAB and is_submit(el):
                break
            if direction != Keys.TAB and set(values) <= filled:
                break
    fail(f"the keyboard never reached {sorted(set(values) - filled)}")
    raise SystemExit(1)


def apply_and_withdraw(javascript, email, shots):
    mode = "z JavaScriptem" if javascript else "bez JavaScriptu"
    driver = browser(javascript)
    try:
        # The open recruitments, then a form, by keyboard.
        driver.get(BASE + "/wizyty")
        wait_text(driver, "Otwarte rekrutacje")
        check(driver, f"lista wizyt ({mode})", shots and "strony-1-wizyty", javascript)
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Zgłoś się"), "a form link")
        press(driver, Keys.ENTER)
        wait_text(driver, "Zgłoszenie na wizytę studyjną")
        check(driver, f"pusty formularz ({mode})", shots and "strony-2-formularz", javascript)

        # The empty form: the summary takes the focus and its links lead to the fields.
        tab_until(driver, lambda e: e.tag_name == "button", "the submit button")
        press(driver, Keys.ENTER)
        wait_text(driver, "Popraw zgłoszenie")
        if active(driver).get_attribute("id") != "bledy":
            fail(f"the error summary does not take the focus ({mode})")
        check(driver, f"formularz z błędami ({mode})", shots and "strony-3-formularz-bledy", javascript)
        links = driver.find_elements(By.CSS_SELECTOR, "#bledy a")
        if len(links) < 6:
            fail(f"the summary lists {len(links)} errors ({mode})")
        tab_until(driver, lambda e: e.tag_name == "a" and e.get_attribute("href").endswith("#first_name"),
                  "the first error's link")
        press(driver, Keys.ENTER)
        if javascript:
            # The script moves the focus into the field itself.
            if active(driver).get_attribute("id") != "first_name":
                fail("the error link does not move the focus to its field")
        elif not driver.current_url.endswith("#first_name"):
            # Without it, the link leads to the field (the next Tab starts there).
            fail(f"the error link leads to {driver.current_url!r} ({mode})")

        # Corrected with the keyboard alone, from where the link left the focus.
        fill_by_keyboard(driver, {
            "first_name": "Zofia", "last_name": "Wiśniewska", "email": email,
            "institution_name": "Gmina Przykładowa", "institution_type": "jednostka s",
            "nip": "9562307984", "consent": True,
        })
        press(driver, Keys.ENTER)
        wait_text(driver, "Zgłoszenie przyjęte")
        if "złożone" not in driver.find_element(By.TAG_NAME, "body").text:
            fail(f"the applicant's page shows no status ({mode})")
        check(driver, f"strona zgłoszenia ({mode})", shots and "strony-4-zgloszenie", javascript)

        # Withdrawal, confirmed, by keyboard.
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Wycofaj zgłoszenie", "the withdrawal link")
        press(driver, Keys.ENTER)
        wait_text(driver, "Czy na pewno wycofać zgłoszenie?")
        check(driver, f"potwierdzenie wycofania ({mode})", shots and "strony-5-wycofanie", javascript)
        tab_until(driver, lambda e: e.tag_name == "button", "the confirmation button")
        press(driver, Keys.ENTER)
        wait_text(driver, "wycofane")
        check(driver, f"zgłoszenie wycofane ({mode})", shots and "strony-6-wycofane", javascript)

        # The accessibility statement and a page that does not exist.
        driver.get(BASE + "/deklaracja-dostepnosci")
        wait_text(driver, "Deklaracja dostępności")
        check(driver, f"deklaracja dostępności ({mode})", None, javascript)
        # The certificate check anyone can use: the form, a code that cannot be one (the
        # error pattern), and a code nobody was given.
        driver.get(BASE + "/weryfikacja")
        wait_text(driver, "Sprawdź zaświadczenie")
        check(driver, f"weryfikacja zaświadczenia ({mode})", shots and "strony-7-weryfikacja", javascript)
        tab_until(driver, lambda e: e.get_attribute("id") == "kod", "the code field")
        active(driver).send_keys("K7QF-2M9X")
        press(driver, Keys.ENTER)
        wait_text(driver, "Kod ma 16 znaków")
        check(driver, f"weryfikacja: błędny kod ({mode})", None, javascript)
        driver.get(BASE + "/weryfikacja/K7QF-2M9X-ABCD-EFGH")
        wait_text(driver, "Nie wystawiono zaświadczenia")
        check(driver, f"weryfikacja: nieznany kod ({mode})", None, javascript)
        driver.get(BASE + "/zgloszenia/00000000-0000-0000-0000-000000000000/brak")
        wait_text(driver, "Nie ma takiej strony")
        check(driver, f"strona nie istnieje ({mode})", None, javascript)
        print(f"pages: applied, followed and withdrew with the keyboard alone ({mode})")
    finally:
        driver.quit()


def console(javascript, shots):
    """Signs in to the console with the keyboard alone (a wrong password first), opens the
    start page and signs out."""
    mode = "z JavaScriptem" if javascript else "bez JavaScriptu"
    driver = browser(javascript)
    try:
        driver.get(BASE + "/logowanie")
        wait_text(driver, "Logowanie do panelu")
        check(driver, f"logowanie ({mode})", shots and "konsola-1-logowanie", javascript)
        tab_until(driver, lambda e: e.get_attribute("id") == "email", "the e-mail field")
        fill_by_keyboard(driver, {"email": CONSOLE_EMAIL, "password": "nie-to-haslo"})
        press(driver, Keys.ENTER)
        wait_text(driver, "Nieprawidłowy adres e-mail lub hasło")
        check(driver, f"logowanie z błędem ({mode})", None, javascript)
        tab_until(driver, lambda e: e.get_attribute("id") == "email", "the e-mail field")
        fill_by_keyboard(driver, {"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD})
        press(driver, Keys.ENTER)
        wait_text(driver, "Wyloguj się")
        if "Wizyta studyjna" not in driver.find_element(By.TAG_NAME, "body").text:
            fail(f"the start page lists no visit of the demo ({mode})")
        check(driver, f"panel ({mode})", shots and "konsola-2-panel", javascript)
        # The visit, then the roster of its closed term, by keyboard.
        tab_until(driver, lambda e: e.tag_name == "a" and "/panel/wizyty/" in (e.get_attribute("href") or "")
                  and not (e.get_attribute("href") or "").endswith("/nowa"),
                  "a visit in the console")
        press(driver, Keys.ENTER)
        wait_text(driver, "Terminy")
        check(driver, f"wizyta w panelu ({mode})", shots and "konsola-3-wizyta", javascript)
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Lista") and "/terminy/" in (e.get_attribute("href") or ""),
                  "a term's roster")
        press(driver, Keys.ENTER)
        wait_text(driver, "lista uczestników")
        check(driver, f"lista uczestników w panelu ({mode})", shots and "konsola-4-lista", javascript)
        driver.get(BASE + "/panel")
        wait_text(driver, "Wyloguj się")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Poczta do zgłaszających się", "the outbox link")
        press(driver, Keys.ENTER)
        wait_text(driver, "Poczta do zgłaszających się")
        check(driver, f"poczta w panelu ({mode})", shots and "konsola-5-poczta", javascript)
        driver.get(BASE + "/panel")
        wait_text(driver, "Wyloguj się")
        tab_until(driver, lambda e: e.tag_name == "button" and e.text == "Wyloguj się", "the sign-out button")
        press(driver, Keys.ENTER)
        wait_text(driver, "Wylogowano")
        check(driver, f"wylogowano ({mode})", None, javascript)
        print(f"pages: signed in to the console and out with the keyboard alone ({mode})")
    finally:
        driver.quit()


def enter_and_load(driver):
    """Presses Enter on what has the focus (a link, a button) and waits for the next page to
    replace this one, so the next check reads the new page, not the old one."""
    old = driver.find_element(By.TAG_NAME, "html")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))


def submit_by_keyboard(driver, values):
    """Fills `values` by keyboard from the top of the form and presses its submit button."""
    first = next(iter(values))
    tab_until(driver, lambda e: e.get_attribute("id") == first, f"the field {first}")
    fill_by_keyboard(driver, values)
    enter_and_load(driver)


def recruitment(javascript, shots):
    """A coordinator runs a recruitment from the console with the keyboard alone: announces a
    visit (an empty form first: the error summary), adds a planned term and gives it dates,
    adds a second term, pastes a preference list (a bad NIP first: named by its line),
    confirms it, opens the term, an applicant applies through the public form, the term is
    closed, a seat is released with a reason, and attendance is taken at phone size."""
    mode = "z JavaScriptem" if javascript else "bez JavaScriptu"
    tag = "" if javascript else "-bez-js"
    driver = browser(javascript)
    try:
        driver.get(BASE + "/logowanie")
        wait_text(driver, "Logowanie do panelu")
        tab_until(driver, lambda e: e.get_attribute("id") == "email", "the e-mail field")
        fill_by_keyboard(driver, {"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD})
        enter_and_load(driver)
        wait_text(driver, "Wyloguj się")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Ogłoś wizytę", "the announce link")
        enter_and_load(driver)
        wait_text(driver, "Ogłoś wizytę studyjną")
        check(driver, f"ogłoszenie wizyty ({mode})", shots and "konsola-6-oglos", javascript)
        tab_until(driver, lambda e: e.tag_name == "button" and e.text == "Ogłoś wizytę", "the submit button")
        enter_and_load(driver)
        wait_text(driver, "Popraw formularz")
        if active(driver).get_attribute("id") != "bledy":
            fail(f"the console's error summary does not take the focus ({mode})")
        check(driver, f"ogłoszenie z błędami ({mode})", shots and "konsola-7-oglos-bledy", javascript)
        title = f"Wizyta z klawiatury {mode}"
        submit_by_keyboard(driver, {
            "f-title": title, "f-destination": "Chełmno",
            "f-eligible-institution-types-0": True, "f-eligible-institution-types-1": True,
            "f-max-per-institution": "1",
            "f-preferences-0--code": "cus", "f-preferences-0--label": "Zadeklarowały utworzenie CUS",
        })
        wait_text(driver, "Zapisano.")
        wait_text(driver, title)
        visit_url = driver.current_url.split("?")[0]

        # A planned term, then its dates; and a second, dated term.
        for label, planned in [("Termin I", "koniec maja 2027"), ("Termin II", "czerwiec 2027")]:
            tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Dodaj termin", "the add-term link")
            enter_and_load(driver)
            wait_text(driver, "Dodaj termin")
            if label == "Termin I":
                check(driver, f"nowy termin ({mode})", shots and "konsola-8-termin", javascript)
            submit_by_keyboard(driver, {"f-label": label, "f-seats": "1", "f-planned": planned})
            wait_text(driver, "Zapisano.")
        tab_until(driver, lambda e: e.tag_name == "a" and content(e).startswith("Ustal daty")
                  and content(e).endswith("Termin I"), "the dates link of Termin I")
        enter_and_load(driver)
        wait_text(driver, "Daty terminu")
        submit_by_keyboard(driver, {"f-starts-on": "27.05.2027", "f-ends-on": "28.05.2027",
                                    "f-recruitment-deadline": "20.05.2027 12:00"})
        wait_text(driver, "Zapisano.")
        check(driver, f"wizyta z terminami ({mode})", shots and "konsola-9-wizyta-terminy", javascript)

        # The preference list, pasted: a bad NIP is named by its line, nothing recorded.
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Wczytaj listę NIP"), "the list link")
        enter_and_load(driver)
        wait_text(driver, "Lista do preferencji")
        submit_by_keyboard(driver, {"lista": "NIP\n956-230-79-84\n1234567890"})
        wait_text(driver, "Wiersz 3")
        check(driver, f"lista NIP z błędem ({mode})", shots and "konsola-10-lista-nip-bledy", javascript)
        submit_by_keyboard(driver, {"lista": "NIP\n956-230-79-84\nPL 526 025 02 74"})
        wait_text(driver, "Wszystkie numery są poprawne: 2 NIP")
        check(driver, f"podgląd listy NIP ({mode})", shots and "konsola-11-lista-nip-podglad", javascript)
        tab_until(driver, lambda e: e.tag_name == "button" and e.text == "Zapisz tę listę", "the confirmation")
        enter_and_load(driver)
        wait_text(driver, "Zapisano.")

        # Open Termin I; an applicant applies through the public form; close.
        tab_until(driver, lambda e: e.tag_name == "button" and content(e).startswith("Otwórz rekrutację")
                  and content(e).endswith("Termin I"), "the open button")
        enter_and_load(driver)
        wait_text(driver, "Zapisano.")
        public = driver.find_element(By.PARTIAL_LINK_TEXT, "Strona wizyty dla zgłaszających się").get_attribute("href")
        for first, nip in [("Ewa", "9562307984"), ("Jan", "5260250274")]:
            driver.get(public)
            tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Zgłoś się"), "a form link")
            enter_and_load(driver)
            wait_text(driver, "Zgłoszenie na wizytę studyjną")
            submit_by_keyboard(driver, {
                "first_name": first, "last_name": "Klawiaturowa", "email": f"{first.lower()}{tag}@gmina.pl",
                "institution_name": f"Gmina {first}", "institution_type": "jednostka s",
                "nip": nip, "consent": True,
            })
            wait_text(driver, "Zgłoszenie przyjęte")
        driver.get(visit_url)
        wait_text(driver, "Terminy")
        tab_until(driver, lambda e: e.tag_name == "button" and e.text.startswith("Zamknij rekrutację"), "the close button")
        enter_and_load(driver)
        wait_text(driver, "Zapisano.")

        # The final list; a seat released with a reason (the waiting one promoted).
        tab_until(driver, lambda e: e.tag_name == "a" and content(e).startswith("Lista")
                  and content(e).endswith("Termin I"), "the roster of Termin I")
        enter_and_load(driver)
        wait_text(driver, "lista uczestników")
        check(driver, f"lista z decyzjami ({mode})", shots and "konsola-12-lista-decyzje", javascript)
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Zwolnij miejsce"), "the release link")
        enter_and_load(driver)
        wait_text(driver, "Zwolnij miejsce")
        check(driver, f"zwolnienie miejsca ({mode})", shots and "konsola-13-zwolnienie", javascript)
        submit_by_keyboard(driver, {"f-reason": "Rezygnacja zgłoszona telefonicznie"})
        wait_text(driver, "Zapisano.")
        if "awans na zwolnione miejsce" not in driver.find_element(By.TAG_NAME, "body").text:
            fail(f"the roster after the release does not show the promotion ({mode})")

        # Attendance at phone size, one tap (Enter) per person.
        driver.set_window_size(360, 800)
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Lista obecności"), "the attendance link")
        enter_and_load(driver)
        wait_text(driver, "Obecność")
        tab_until(driver, lambda e: e.tag_name == "button" and e.text.startswith("Obecny"), "a present button")
        enter_and_load(driver)
        wait_text(driver, "Obecnych: 1 z 1")
        driver.set_window_size(1280, 900)
        check(driver, f"obecność ({mode})", shots and "konsola-14-obecnosc", javascript)
        print(f"pages: ran a recruitment in the console with the keyboard alone ({mode})")
    finally:
        driver.quit()


def every_form_of(driver, prefix, state):
    """Opens every link of the page that leads to a form under `prefix` and runs axe on it."""
    hrefs = sorted({a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href]")
                    if (a.get_attribute("href") or "").split("?")[0].startswith(prefix + "/")
                    and not (a.get_attribute("href") or "").endswith((".csv", ".xlsx"))
                    and "#" not in (a.get_attribute("href") or "")})
    for href in hrefs:
        driver.get(href)
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        axe(driver, f"{state}: {href[len(BASE):]}")
    return hrefs


def programme_and_network(shots):
    """A programme and a network kept from the console with the keyboard: created from their
    forms (an empty form first), an activity planned with a Polish date, a schedule pasted
    with a bad line (named by its number), a member admitted by declaration; axe on every
    page and on every form their pages link to."""
    driver = browser(True)
    try:
        driver.get(BASE + "/logowanie")
        wait_text(driver, "Logowanie do panelu")
        tab_until(driver, lambda e: e.get_attribute("id") == "email", "the e-mail field")
        fill_by_keyboard(driver, {"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD})
        enter_and_load(driver)
        wait_text(driver, "Wyloguj się")

        # The programme.
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Programy współpracy i projekty", "the programmes link")
        enter_and_load(driver)
        wait_text(driver, "Utwórz program")
        check(driver, "programy w panelu", shots and "konsola-15-programy")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Utwórz program", "the create link")
        enter_and_load(driver)
        tab_until(driver, lambda e: e.tag_name == "button" and e.get_attribute("type") == "submit", "the submit button")
        enter_and_load(driver)
        wait_text(driver, "Popraw formularz")
        if active(driver).get_attribute("id") != "bledy":
            fail("the programme form's error summary does not take the focus")
        check(driver, "program z błędami", shots and "konsola-16-program-bledy")
        submit_by_keyboard(driver, {
            "f-title": "Program współpracy z klawiatury 2013-2014",
            "f-period-start": "01.01.2013", "f-period-end": "31.12.2014",
            "f-goals": "Wzmocnienie współpracy samorządu z organizacjami",
        })
        wait_text(driver, "Zapisano.")
        programme = driver.current_url.split("?")[0]
        check(driver, "program", shots and "konsola-17-program")
        driver.get(programme + "/dzialanie")
        submit_by_keyboard(driver, {"f-title": "Szkolenie z zamówień publicznych", "f-planned": "luty 2014"})
        wait_text(driver, "Zapisano.")
        driver.get(programme + "/harmonogram")
        submit_by_keyboard(driver, {"f-csv": "date,title,kind\nMarzec 2014,Forum organizacji,forum\nkiedyś,Gala,gala"})
        wait_text(driver, "Wiersz 3")
        check(driver, "harmonogram z błędem", shots and "konsola-18-harmonogram-bledy")
        driver.get(programme)
        # The skip link focuses <main>: the page must keep its contrast then too.
        tab_until(driver, lambda e: e.get_attribute("class") == "pomin", "the skip link")
        press(driver, Keys.ENTER)  # an anchor on the same page: nothing loads
        axe(driver, "program po „Przejdź do treści”")
        forms = every_form_of(driver, programme, "formularz programu")
        print(f"pages: axe on {len(forms)} forms of a programme")

        # The network.
        driver.get(BASE + "/panel/sieci")
        wait_text(driver, "Załóż sieć")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text == "Załóż sieć", "the establish link")
        enter_and_load(driver)
        wait_text(driver, "Nazwa sieci")
        check(driver, "nowa sieć", shots and "konsola-19-siec-nowa")
        submit_by_keyboard(driver, {
            "f-name": "Platforma współpracy z klawiatury", "f-region": "warmińsko-mazurskie",
            "f-member-types-4": True, "f-member-types-5": True, "f-established-on": "08.12.2016",
        })
        wait_text(driver, "Zapisano.")
        network = driver.current_url.split("?")[0]
        driver.get(network + "/czlonkowie/nowy")
        wait_text(driver, "Nazwa instytucji")
        submit_by_keyboard(driver, {
            "f-institution-name": "Centrum Integracji Społecznej w Olsztynie",
            "f-institution-type": "centrum", "f-institution-nip": "9562307984",
            "f-declaration-signed-on": "08.12.2016",
        })
        wait_text(driver, "Zapisano.")
        check(driver, "rejestr sieci", shots and "konsola-20-siec")
        forms = every_form_of(driver, network, "formularz sieci")
        print(f"pages: axe on {len(forms)} forms of a network")
        print("pages: kept a programme and a network in the console with the keyboard")
    finally:
        driver.quit()


def audit(shots):
    """An evaluator's audit tools by keyboard: the start page, the integrity check, the export
    form (a bad instant first: the error summary), a visit's re-derivation, a term's roster at
    an instant, a programme's check and a network's registry then; axe on each; and no form
    that changes anything on the visit's page."""
    driver = browser(True)
    try:
        driver.get(BASE + "/logowanie")
        wait_text(driver, "Logowanie do panelu")
        tab_until(driver, lambda e: e.get_attribute("id") == "email", "the e-mail field")
        fill_by_keyboard(driver, {"email": EVALUATOR_EMAIL, "password": CONSOLE_PASSWORD})
        enter_and_load(driver)
        wait_text(driver, "Wyloguj się")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Audyt"), "the audit link")
        enter_and_load(driver)
        WebDriverWait(driver, 10).until(lambda d: "/panel/audyt" in d.current_url)
        check(driver, "audyt", shots and "konsola-21-audyt")
        driver.get(BASE + "/panel/audyt/spojnosc")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        wait_text(driver, "Cały zapis jest nienaruszony.")
        check(driver, "spójność zapisu", shots and "konsola-22-spojnosc")
        driver.get(BASE + "/panel/audyt/eksport")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.TAG_NAME, "form"))
        check(driver, "eksport", None)
        # A visit of the demo: its page offers no change to an evaluator, its audit does.
        driver.get(BASE + "/panel")
        visit = next(a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href*='/panel/wizyty/']")
                     if not a.get_attribute("href").endswith("/nowa"))
        driver.get(visit)
        wait_text(driver, "Terminy")
        if driver.find_elements(By.CSS_SELECTOR, "main form"):
            fail("an evaluator's visit page offers a form")
        tab_until(driver, lambda e: e.tag_name == "a" and e.text.startswith("Audyt: sprawdź"), "the visit's audit link")
        enter_and_load(driver)
        WebDriverWait(driver, 30).until(lambda d: "/panel/audyt/wizyty/" in d.current_url)
        check(driver, "weryfikacja wizyty", shots and "konsola-23-weryfikacja")
        every_form_of(driver, BASE + "/panel/audyt/wizyty", "audyt wizyty")
        driver.get(BASE + "/panel/programy")
        programme = driver.find_element(By.CSS_SELECTOR, "a[href*='/panel/programy/']").get_attribute("href")
        driver.get(programme.replace("/panel/programy/", "/panel/audyt/programy/"))
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        check(driver, "audyt programu", None)
        driver.get(BASE + "/panel/sieci")
        network = driver.find_element(By.CSS_SELECTOR, "a[href*='/panel/sieci/']").get_attribute("href")
        driver.get(network.replace("/panel/sieci/", "/panel/audyt/sieci/"))
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        check(driver, "audyt sieci", None)
        print("pages: an evaluator's audit tools by keyboard")
    finally:
        driver.quit()


os.makedirs(OUT, exist_ok=True)
if CONSOLE_EMAIL:
    console(True, True)
    console(False, False)
    recruitment(True, True)
    recruitment(False, False)
    programme_and_network(True)
if EVALUATOR_EMAIL:
    audit(True)
apply_and_withdraw(True, "zofia.klawiatura@gmina-przykladowa.pl", True)
apply_and_withdraw(False, "zofia.bez.skryptu@gmina-przykladowa.pl", False)
if failures:
    print(f"pages: {len(failures)} failures")
    sys.exit(1)
print("pages: every public page passes axe-core and works by keyboard, with and without JavaScript")
