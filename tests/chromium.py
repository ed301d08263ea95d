"""A small headless-Chromium driver for the report tests (Chrome DevTools Protocol).

It opens a local file, records every console message, uncaught exception, failed load and
network request, waits for the load event, and returns the page's rendered text and a PNG
screenshot. It talks to the browser over the DevTools WebSocket with ``websocket-client``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of an installed Chromium or Chrome, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Page:
    """What the browser saw when it rendered a page."""

    text: str = ""
    title: str = ""
    screenshot: bytes = b""
    console: list[tuple[str, str]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    figures: int = 0

    @property
    def errors(self) -> list[str]:
        """Every console error, uncaught exception, failed load and error log entry."""
        return ([f"console.{kind}: {text}" for kind, text in self.console
                 if kind in ("error", "assert")] + self.exceptions + self.failed
                + [f"log {level}: {text}" for level, text in self.log if level == "error"])


class _Session:
    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == event for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == event:
                return
        raise TimeoutError(event)


def render(path: Path, width: int = 1200, height: int = 900) -> Page:
    """Open ``path`` in headless Chromium and report what happened."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found")
    profile = tempfile.mkdtemp(prefix="dss-chromium-")
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", "--remote-debugging-port=0",
            f"--window-size={width},{height}", "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "LANG": "C.UTF-8"})
    try:
        ws_url = _devtools_url(proc)
        import urllib.request

        http = ws_url.split("/devtools/")[0].replace("ws://", "http://")
        with urllib.request.urlopen(f"{http}/json/list", timeout=10) as resp:
            targets = json.loads(resp.read())
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        s = _Session(page_ws)
        for domain in ("Page", "Runtime", "Log", "Network"):
            s.call(f"{domain}.enable")
        s.call("Page.navigate", url=path.resolve().as_uri())
        s.wait_for("Page.loadEventFired")
        result = s.call("Runtime.evaluate", expression="document.body.innerText",
                        returnByValue=True)
        page = Page(text=result["result"].get("value", ""))
        page.title = s.call("Runtime.evaluate", expression="document.title",
                            returnByValue=True)["result"].get("value", "")
        page.figures = s.call("Runtime.evaluate",
                              expression="document.querySelectorAll('svg.figure').length",
                              returnByValue=True)["result"].get("value", 0)
        metrics = s.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = s.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                      clip={"x": 0, "y": 0, "width": size["width"],
                            "height": min(size["height"], 6000), "scale": 1})
        page.screenshot = base64.b64decode(shot["data"])
        _collect(s.events, page, path.resolve().as_uri())
        s.ws.close()
        return page
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(proc: subprocess.Popen) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError("Chromium did not start:\n" + "".join(seen[-20:]))


def _collect(events: list[dict], page: Page, own_url: str) -> None:
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            page.console.append((params.get("type", ""), text))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.exceptions.append(f"exception: {details.get('text')} "
                                   f"{details.get('exception', {}).get('description', '')}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            page.log.append((entry.get("level", ""), entry.get("text", "")))
        elif method == "Network.loadingFailed":
            page.failed.append(f"failed to load: {params.get('errorText')} "
                               f"({params.get('type')})")
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if url != own_url and not url.startswith("data:"):
                page.requests.append(url)
