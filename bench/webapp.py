"""The staff web app's page weights, and its time to first render of the queue with many open
complaints, against a same-run baseline: the page for filing a complaint, which calls no API.

    .venv/bin/python bench/webapp.py --open 1000 --loads 15

Starts its own Kafka broker, the complaints and scheduling APIs in-process on SQLite, files --open
complaints at one store through the API, serves the web app for real and loads its pages in Debian's
Chromium (as the browser tests do), signed in as an associate of that store. Prints each page's
weight (the document's and stylesheets' bodies as sent) and the median and p90 time to first contentful
paint and to DOMContentLoaded over --loads loads of the queue and of the filing page, and their ratio.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.shared.clock import utc_now  # noqa: E402
from services.shared.kafka import ensure_topics  # noqa: E402
from services.shared.principal import Role  # noqa: E402
from services.shared.settings import PlatformSettings  # noqa: E402
from services.shared.topics import ALL_TOPICS  # noqa: E402
from services.webapp.app import build_app  # noqa: E402
from services.webapp.settings import WebappSettings  # noqa: E402
from tests.support import complaints as complaints_support  # noqa: E402
from tests.support import scheduling as scheduling_support  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402
from tests.support.infra import kafka_broker  # noqa: E402

STORE, ASSOCIATE = "hel-kamppi", "emp-1042"
TIMING = """() => new Promise((resolve) => {
  const measured = (paint) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const styles = performance.getEntriesByType('resource').reduce((sum, r) => sum + r.encodedBodySize, 0);
    resolve({fcp: paint ? paint.startTime : null, dcl: nav.domContentLoadedEventEnd, document: nav.encodedBodySize,
             styles: styles});
  };
  new PerformanceObserver((list) => {
    const paint = list.getEntriesByName('first-contentful-paint')[0];
    if (paint) measured(paint);
  }).observe({type: 'paint', buffered: true});
  setTimeout(() => measured(null), 3000);
})"""


async def file_open(complaints, count: int) -> None:
    semaphore = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        async with semaphore:
            response = await complaints.file(store=STORE, severity=["low", "medium", "high"][i % 3],
                                             description=f"Benchmark complaint {i}.")
            response.raise_for_status()

    await asyncio.gather(*(one(i) for i in range(count)))


async def loads(page, path: str, times: int) -> list[dict]:
    measured = []
    for _ in range(times):
        await page.goto(path, wait_until="load")
        measured.append(await page.evaluate(TIMING))
    return measured


def summary(name: str, measured: list[dict]) -> dict:
    fcp = sorted(m["fcp"] for m in measured)
    dcl = sorted(m["dcl"] for m in measured)
    row = {"fcp": statistics.median(fcp), "fcp90": fcp[int(0.9 * (len(fcp) - 1))], "dcl": statistics.median(dcl)}
    print(f"{name:<28} first paint median {row['fcp']:7.1f} ms  p90 {row['fcp90']:7.1f} ms   "
          f"DOMContentLoaded median {row['dcl']:7.1f} ms")
    return row


async def main(open_count: int, times: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-webapp-") as directory, kafka_broker(Path(directory) / "kafka") as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, ALL_TOPICS)
        async for complaints in complaints_support.start_api(f"sqlite:///{directory}/complaints.db", platform):
            async for scheduling in scheduling_support.start_api(f"sqlite:///{directory}/scheduling.db", platform,
                                                                 clock=utc_now):
                print(f"filing {open_count} open complaints at {STORE} ...")
                await file_open(complaints, open_count)
                app = build_app(WebappSettings(), platform, transports={
                    "complaints": httpx.ASGITransport(app=complaints.app),
                    "scheduling": httpx.ASGITransport(app=scheduling.app),
                })
                async with serving(app) as url, async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                    page = await (await browser.new_context(base_url=url)).new_page()
                    await page.goto("/signin")
                    await page.get_by_label("Person").select_option(ASSOCIATE)
                    await page.get_by_role("button", name="Sign in").click()
                    await page.wait_for_url("**/queue")
                    some = (await complaints.client.get("/v1/complaints", params={"limit": 1},
                                                        headers=complaints.token(Role.associate, STORE))).json()["items"][0]
                    print(f"\npage weights (document + stylesheets, bodies as sent), {open_count} open complaints:")
                    for name, path in (("sign-in", "/signin"), ("queue", "/queue"), ("file a complaint", "/complaints/new"),
                                       ("complaint", f"/complaints/{some['id']}")):
                        [weight] = await loads(page, path, 1)
                        print(f"  {name:<18} {weight['document'] / 1024:6.1f} KiB + {weight['styles'] / 1024:5.1f} KiB")
                    print(f"\ntime to first render over {times} loads each:")
                    queue = summary("queue (/queue)", await loads(page, "/queue", times))
                    baseline = summary("baseline: filing (/complaints/new)", await loads(page, "/complaints/new", times))
                    print(f"queue / baseline ratio       first paint {queue['fcp'] / baseline['fcp']:5.2f}   "
                          f"DOMContentLoaded {queue['dcl'] / baseline['dcl']:5.2f}")
                    await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=1000, help="open complaints at the store")
    parser.add_argument("--loads", type=int, default=15, help="loads of each page measured")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.open, arguments.loads))
