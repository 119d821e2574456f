#!/usr/bin/env python3
"""Screenshots of the pages that make or break Sextant, in Chinese, at 1280 px and 390 px.

Run against a demo server (`sextant serve --demo --addr 127.0.0.1:8088`):
    pip install selenium && python3 scripts/screens.py http://127.0.0.1:8088 docs/screens
Uses the system's chromium and chromedriver (the browser tests' flags); no traffic leaves the
machine.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8088"
OUT = sys.argv[2] if len(sys.argv) > 2 else "docs/screens"
WIDTHS = [(1280, 900), (390, 844)]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--lang=zh-CN", "--accept-lang=zh-CN", "--hide-scrollbars"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def login(b, email, password):
    b.get(BASE + "/login")
    b.find_element(By.NAME, "email").send_keys(email)
    b.find_element(By.NAME, "password").send_keys(password)
    b.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    time.sleep(1)


def shoot(b, path, name):
    for w, h in WIDTHS:
        b.set_window_size(w, h)
        b.get(BASE + path)
        time.sleep(0.5)
        height = b.execute_script("return document.documentElement.scrollHeight")
        b.set_window_size(w, min(max(height, h), 4000))
        time.sleep(0.3)
        file = f"{OUT}/{name}-{w}.png"
        b.save_screenshot(file)
        print(file)


def first_href(b, css):
    return b.find_element(By.CSS_SELECTOR, css).get_attribute("href").replace(BASE, "")


def main():
    seller = browser()
    login(seller, "owner@lumi-home.example", "owner-demo-2026")
    shoot(seller, "/t/lumi/", "seller-home")
    seller.get(BASE + "/t/lumi/")
    overview = first_href(seller, "[data-testid=running-campaigns] a[href$='/dashboard']")
    shortlist = first_href(seller, "[data-testid=need-shortlist] a")
    shoot(seller, overview, "campaign-overview")
    shoot(seller, shortlist, "shortlist-review")
    shoot(seller, "/t/lumi/settings/scorecard/new", "scorecard-editor")
    shoot(seller, "/t/lumi/tiers/predict", "tiers-predict")
    seller.quit()

    am = browser()
    login(am, "am@sextant.example", "am-demo-2026")
    matching = shortlist.replace("/shortlist", "/matching")
    shoot(am, matching, "matching")
    am.quit()


if __name__ == "__main__":
    main()
