"""Check every internal link and image of the built site: target file and anchor exist.

Usage: ``python docs/check_links.py docs/_build/html``. External links are
listed by host but not fetched (the build machine may have no network).
Exit status 1 when a link or image is broken.
"""

import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append(attrs[key])


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(errors="replace"))
        cache[path] = page
    return cache[path]


def check(root):
    """``(broken, external)``: broken links as ``(page, link, why)``, external hosts counted."""
    root = Path(root).resolve()
    cache, broken, external = {}, [], Counter()
    # _static holds the theme's template fragments, not pages.
    pages = [path for path in sorted(root.rglob("*.html")) if "_static" not in path.parts]
    for page_path in pages:
        for link in _parse(page_path, cache).links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                external[parts.netloc] += 1
                continue
            if (
                parts.scheme in ("mailto", "data", "javascript")
                or link.startswith("#")
                and not parts.fragment
            ):
                continue
            target = (
                page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            )
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((page_path.relative_to(root), link, "missing file"))
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _parse(target, cache).ids:
                    broken.append((page_path.relative_to(root), link, "missing anchor"))
    return broken, external


def main(argv):
    root = Path(argv[0] if argv else "docs/_build/html")
    if not (root / "index.html").exists():
        print(f"No built site in {root}; build it with: python3 tasks.py docs", file=sys.stderr)
        return 1
    broken, external = check(root)
    pages = len([path for path in root.rglob("*.html") if "_static" not in path.parts])
    for page, link, why in broken:
        print(f"{page}: {link} ({why})")
    hosts = ", ".join(f"{host} ({n})" for host, n in external.most_common())
    print(
        f"{pages} pages, {len(broken)} broken internal links; external links, not fetched: {hosts}"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
