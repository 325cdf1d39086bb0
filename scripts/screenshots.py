"""Signs in to the dashboard with headless Chromium, opens each view, checks its text for the
demo's content and saves full-page screenshots. Exit status 1 when any view falls short.

    KOORDYNATOR_TOKEN=... screenshots.py BASE_URL OUT_DIR     (run by scripts/screenshots.sh)
"""

import base64
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE, OUT = sys.argv[1], sys.argv[2]
TOKEN = os.environ["KOORDYNATOR_TOKEN"]

# (file, hash, view name, texts the view must show, CSS selector -> least number of matches;
# a table's "brak" row has the class `empty` and is not counted)
VIEWS = [
    ("1-rekrutacje.png", "#rekrutacje", "rekrutacje",
     ["Otwarte rekrutacje", "II termin", "Wolne miejsca", "pozostał", "Wszystkie terminy wizyt",
      "rekrutacja zamknięta", "połowa "],
     {"article.card .countdown": 1}),
    ("2-listy.png", "#listy", "listy",
     ["Lista po zamknięciu rekrutacji", "Zakwalifikowani", "Lista rezerwowa", "Pominięci",
      "Gmina Miasto Grudziądz", "instytucja ma już limit miejsc", "awans na zwolnione miejsce",
      "miejsce według kolejności w rankingu"],
     {"table:nth-of-type(1) tbody tr:not(.empty)": 25, "table:nth-of-type(2) tbody tr:not(.empty)": 1, "table:nth-of-type(3) tbody tr:not(.empty)": 1}),
    ("3-programy.png", "#programy", "programy",
     ["Program współpracy Gminy Miasta Toruń", "Liderzy kooperacji", "Ekonomia Społeczna na Warmii i Mazurach",
      "Szkolenia", "cele osiągnięte częściowo", "zgłoszenia partnerów do 13 lipca 2018"],
     {"progress": 9}),
    ("4-harmonogram.png", "#harmonogram/2020", "harmonogram",
     ["Harmonogram 2020", "Spotkanie monitoringowe OWES (Olsztyn)", "7 lutego 2020", "7–8 maja 2020",
      "koniec września 2020", "Forum Inicjatyw Lokalnych", "odbyło się", "sieć"],
     {"li.entry": 27}),
    ("5-sieci.png", "#sieci", "sieci",
     ["Rejestr sieci", "Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej",
      "Zakład Aktywności Zawodowej w Biskupcu", "przewodniczący/a", "CIS: 3", "Regulamin", "Spotkanie sieciujące podmioty reintegracyjne"],
     {"table:nth-of-type(2) tbody tr:not(.empty)": 9}),
]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--window-size=1280,900", "--lang=pl-PL", "--hide-scrollbars"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
failures = []


def shoot(name):
    """A full-page PNG (the DevTools protocol sees below the fold; WebDriver alone does not)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def view_ready(name):
    return driver.execute_script(
        "const v = document.getElementById('view');"
        "return !v.hidden && v.dataset.view === arguments[0] && !v.hasAttribute('aria-busy');", name)


try:
    driver.get(BASE + "/")
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "token").is_displayed())
    shoot("0-logowanie.png")
    # A wrong token is refused on the page itself.
    driver.find_element(By.ID, "token").send_keys("kdn_wrong")
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    WebDriverWait(driver, 10).until(
        lambda d: "nieprawidłowy" in d.find_element(By.ID, "sign-in-error").text)
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    WebDriverWait(driver, 15).until(lambda d: view_ready("rekrutacje"))

    for file, hash_, name, texts, counts in VIEWS:
        driver.execute_script("delete document.getElementById('view').dataset.view; location.hash = arguments[0];", hash_)
        try:
            WebDriverWait(driver, 15).until(lambda d: view_ready(name))
        except Exception:
            failures.append(f"{name}: the view did not finish loading")
        text = driver.find_element(By.ID, "view").text
        for needle in texts:
            if needle not in text:
                failures.append(f"{name}: missing text {needle!r}")
        for selector, least in counts.items():
            found = len(driver.find_elements(By.CSS_SELECTOR, "#view " + selector))
            if found < least:
                failures.append(f"{name}: {selector} found {found}, expected at least {least}")
        errors = driver.find_elements(By.CSS_SELECTOR, "#view .error")
        if errors:
            failures.append(f"{name}: error shown: {errors[0].text}")
        shoot(file)
        print(f"screenshots: {name} -> {os.path.join(OUT, file)}")
    # From an open recruitment to its provisional ranking, by the card's link.
    driver.execute_script("location.hash = '#rekrutacje';")
    WebDriverWait(driver, 15).until(lambda d: view_ready("rekrutacje"))
    driver.execute_script("delete document.getElementById('view').dataset.view;")
    driver.find_element(By.LINK_TEXT, "Ranking wstępny").click()
    WebDriverWait(driver, 15).until(lambda d: view_ready("listy"))
    text = driver.find_element(By.ID, "view").text
    for needle in ["Ranking wstępny (rekrutacja trwa)", "II termin", "Zakwalifikowani wstępnie",
                   "wszyscy mieszczą się w liczbie miejsc"]:
        if needle not in text:
            failures.append(f"provisional ranking: missing text {needle!r}")
    shoot("2b-ranking-wstepny.png")
    print(f"screenshots: ranking wstępny -> {os.path.join(OUT, '2b-ranking-wstepny.png')}")
finally:
    driver.quit()

if failures:
    print("screenshots: FAILED")
    for f in failures:
        print("  " + f)
    sys.exit(1)
print("screenshots: every view shows the demo data")
