"""Open the built site in headless Chromium and fail on what a reader would see broken.

Usage: ``python docs/check_browser.py docs/_build/html``. Loads the index, the
API page of NoisyInfoMaxEmbedder, a gallery page and the page with the most
mathematics; fails on console errors, uncaught page errors, failed requests,
images that did not load, or formulas MathJax did not typeset. Full-page
screenshots go to ``docs/_build/screenshots``. Needs ``playwright`` (the
``docs`` extra) and a Chromium: Debian's ``chromium`` package, or
``CHROMIUM=/path/to/chrome``.
"""

import os
import shutil
import sys
from pathlib import Path

PAGES = {
    "index": "index.html",
    "api_embedder": "generated/sklearn_ndim.NoisyInfoMaxEmbedder.html",
    "gallery_diagnostics": "auto_examples/plot_diagnostics.html",
    "how_it_works": "how_it_works.html",
}
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium():
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


def _problems(page, url):
    problems = []
    page.on(
        "console",
        lambda message: message.type == "error" and problems.append(f"console: {message.text}"),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.goto(url, wait_until="networkidle")
    broken = page.evaluate(
        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.getAttribute('src'))"
    )
    problems += [f"image did not load: {src}" for src in broken]
    if page.locator(".math").count():
        page.wait_for_function("!!document.querySelector('mjx-container')", timeout=15000)
        raw = page.locator(".math:not(:has(mjx-container))").count()
        if raw:
            problems.append(f"{raw} formulas were not typeset by MathJax")
    return problems


def main(argv):
    root = Path(argv[0] if argv else "docs/_build/html").resolve()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is missing: pip install -e '.[docs]'", file=sys.stderr)
        return 1
    executable = _chromium()
    if executable is None:
        print(
            "No Chromium found: apt-get install chromium (or set CHROMIUM=/path/to/chrome), "
            "or skip this check with: python3 tasks.py docs --no-browser",
            file=sys.stderr,
        )
        return 1
    shots = root.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    failures = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=_ARGS)
        for name, relative in PAGES.items():
            path = root / relative
            if not path.exists():
                print(f"{name}: {relative} was not built")
                failures += 1
                continue
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems = _problems(page, path.as_uri())
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            page.close()
            failures += bool(problems)
            print(f"{name}: {'ok' if not problems else 'FAILED'} ({relative})")
            for problem in problems:
                print(f"    {problem}")
        browser.close()
    print(f"Screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
