"""A headless Chromium driven over the Chrome DevTools Protocol, for tests of the HTML pages.

    with Chromium(chromium_executable()) as browser:
        browser.navigate("http://127.0.0.1:8082/events/7/seatmap")
        browser.wait_for("document.querySelectorAll('.seat').length > 0")
        browser.screenshot("seatmap.png")

`make test` installs Chromium from Debian and passes its path in `CHROMIUM`.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import websocket

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,900", "--remote-debugging-port=0",
)
START_SECONDS = 30


class ChromiumMissing(RuntimeError):
    """`CHROMIUM` is unset or names no executable file."""


class BrowserError(RuntimeError):
    """Chromium failed to start, refused a command, or a page script threw."""


def chromium_executable():
    """Return the Chromium named by `CHROMIUM`.

    :raises ChromiumMissing: when it is unset or not an executable file.
    """
    path = os.environ.get("CHROMIUM", "")
    if not path or not os.access(path, os.X_OK):
        raise ChromiumMissing(
            f"Chromium not found (CHROMIUM={path!r}): run the tests with `make test`, which installs "
            "Debian's chromium package and sets CHROMIUM=/usr/bin/chromium.")
    return path


class Chromium:
    """One headless Chromium with one page, its own throw-away profile, killed on exit."""

    def __init__(self, executable):
        self.executable = executable
        self.profile = None
        self.process = None
        self.socket = None
        self.session_id = None
        self.events = []
        self.last_id = 0

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc_info):
        self.close()

    def start(self):
        """Launch Chromium, connect to its DevTools socket and attach to its blank page."""
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        with open(os.path.join(self.profile, "chromium.log"), "wb") as log:  # the child keeps its own copy
            command = [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"]
            self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        port, path = self._devtools_address()
        self.socket = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True)
        page = next(target for target in self._call("Target.getTargets")["targetInfos"] if target["type"] == "page")
        self.session_id = self._call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self._call("Page.enable")

    def _devtools_address(self):
        """Wait for Chromium to write its DevTools port and browser path into the profile."""
        active_port = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self.process.returncode}: {self._log_tail()}")
            with contextlib.suppress(FileNotFoundError), open(active_port, encoding="ascii") as lines:
                port, _, path = lines.read().partition("\n")
                if port.strip() and path.strip():
                    return int(port), path.strip()
            time.sleep(0.05)
        raise BrowserError(f"Chromium wrote no DevToolsActivePort in {START_SECONDS} s: {self._log_tail()}")

    def _log_tail(self):
        with open(os.path.join(self.profile, "chromium.log"), "rb") as log:
            return log.read()[-2000:].decode(errors="replace")

    def _call(self, method, **params):
        """Send one command (to the page once attached) and return its result; note the events read meanwhile."""
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if self.session_id and method != "Browser.close":
            message["sessionId"] = self.session_id
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error']}")
                return reply["result"]
            if "method" in reply:
                self.events.append(reply["method"])

    def navigate(self, url, timeout=15):
        """Open `url` in the page and wait for its load event."""
        self.events.clear()
        result = self._call("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while "Page.loadEventFired" not in self.events:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading in {timeout} s")
            self._call("Runtime.evaluate", expression="0")  # reading the reply collects the events before it

    def evaluate(self, expression):
        """Evaluate a JavaScript expression in the page (awaiting a promise) and return its JSON value."""
        result = self._call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"{expression!r} threw: {details.get('exception', {}).get('description', details)}")
        return result["result"].get("value")

    def wait_for(self, predicate, timeout=10, interval=0.1):
        """Evaluate `predicate` until it is truthy and return its value.

        :raises TimeoutError: when it is still falsy after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(predicate)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout} s: {predicate} (last value {value!r})")
            time.sleep(interval)

    def screenshot(self, path):
        """Save the whole page, beyond the window too, as a PNG at `path`."""
        size = self._call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self._call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
        with open(path, "wb") as image:
            image.write(base64.b64decode(data))

    def close(self):
        """Close the browser (its whole process group) and remove its profile."""
        if self.socket is not None:
            with contextlib.suppress(websocket.WebSocketException, OSError, BrowserError):
                self._call("Browser.close")  # the browser may drop the socket before it answers
            self.socket.close()
            self.socket = None
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self._kill_group()
            self.process = None
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def _kill_group(self):
        """Kill the browser if it hung, and any helper left behind; wait briefly for them to go."""
        deadline = time.monotonic() + 2
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.killpg(self.process.pid, 0)  # raises once the group is empty
                time.sleep(0.02)
