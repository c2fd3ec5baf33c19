"""What browser tests share: Debian's Chromium under Playwright, an app served for real on a port of
its own, screenshots at phone and desktop widths (kept under .cache/screenshots, not committed), and
axe-core's accessibility check, fetched once from the npm registry and checked against its integrity."""

import asyncio
import base64
import contextlib
import hashlib
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from playwright.async_api import Page

from tests.support.infra import REPO, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOTS = REPO / ".cache" / "screenshots"
AXE_VERSION = "4.10.3"
AXE = REPO / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[str]:
    """The ASGI app on a real port of this machine (its lifespan run by uvicorn), for the browser."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the app did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def screenshots(page: Page, name: str) -> list[Path]:
    """The page at phone and desktop widths, whole; returns the files."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for width, size in WIDTHS.items():
        await page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{width}.png"
        await page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    return taken


def axe_source() -> str:
    if not AXE.exists():
        with urllib.request.urlopen(f"https://registry.npmjs.org/axe-core/{AXE_VERSION}", timeout=60) as answer:
            dist = json.load(answer)["dist"]
        with urllib.request.urlopen(dist["tarball"], timeout=120) as answer:
            tarball = answer.read()
        algorithm, digest = dist["integrity"].split("-", 1)
        assert base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode() == digest, "axe-core's tarball is not npm's"
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            source = archive.extractfile("package/axe.min.js").read()
        AXE.parent.mkdir(parents=True, exist_ok=True)
        AXE.write_bytes(source)
    return AXE.read_text()


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is (WCAG 2.1 A and AA rules)."""
    await page.evaluate(axe_source())  # evaluated by the browser's debugger: the page's own policy allows no script
    found = await page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
        ".then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return found
