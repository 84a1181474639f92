"""Screenshots for the README, taken from a live demo show the way people see it.

    .venv/bin/python docs/screenshots.py [--minutes-of-show 2]

Starts `controlroom demo` on a free port in a temporary directory, lets the simulated
show run for a while (drives it a little: starts an interrupted-stream alert, sends the
host a message), then shoots the control room (1920×1080 and 1366×768), the agency wall,
the host screen (1280×800 tablet, 390×844 phone) and the tech screen (1366×768) with
Debian's chromium into docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLROOM_")}
    env.update(CONTROLROOM_DATA_DIR=str(data_dir), CONTROLROOM_INGEST_PORT=str(free_port()))
    demo = subprocess.Popen([sys.executable, "-m", "controlroom.cli", "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=open(data_dir / "demo.log", "w"), text=True, cwd=data_dir)
    banner = ""
    deadline = time.monotonic() + 60
    while "Ctrl-C stops" not in banner:
        line = demo.stdout.readline()
        if not line and (demo.poll() is not None or time.monotonic() > deadline):
            raise RuntimeError(f"the demo did not start; see {data_dir / 'demo.log'}")
        banner += line
    return demo, banner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes-of-show", type=float, default=1.0, help="how long the show runs before the shots")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        demo, banner = start_demo(Path(tmp), port)
        base = f"http://127.0.0.1:{port}"
        try:
            passwords = dict(re.findall(r"^\s+(\w+)\s+\w+\s+(\S+)$", banner, re.M))
            host_link = re.search(r"(http://\S+/host/\S+)", banner).group(1)
            ingest = re.search(r"Ingest \(feeds post here\): (\S+)", banner).group(1)
            key = re.search(r"Ingest key of room '\w+': (\S+)", banner).group(1)
            time.sleep(args.minutes_of_show * 60)
            httpx.post(ingest, headers={"X-Api-Key": key}, json=[
                {"id": f"shot-{time.time()}", "type": "stream", "ts": int(time.time() * 1000), "status": "interrupted"}])
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

                def signed_in(user: str, width: int, height: int):
                    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
                    page.goto(f"{base}/login")
                    page.fill("input[name=username]", user)
                    page.fill("input[name=password]", passwords[user])
                    page.click("form[action='/login'] button[type=submit]")
                    return page

                control = signed_in("controller", 1920, 1080)
                control.goto(f"{base}/rooms/demo")
                control.wait_for_selector("#alerts [data-rule='stream-interrupted']", timeout=15_000)
                control.fill("#show-controls form.message-host input[name=text]", "下一款上链接前先讲一下包邮和七天无理由")
                control.click("#show-controls form.message-host button[type=submit]")
                time.sleep(3)
                control.screenshot(path=OUT / "control-room-1920x1080.png")
                laptop = signed_in("controller", 1366, 768)
                laptop.goto(f"{base}/rooms/demo")
                time.sleep(3)
                laptop.screenshot(path=OUT / "control-room-1366x768.png")
                wall = signed_in("analyst", 1920, 1080)
                wall.goto(f"{base}/wall")
                time.sleep(3)
                wall.screenshot(path=OUT / "wall-1920x1080.png")
                tech = signed_in("tech", 1366, 768)
                tech.goto(f"{base}/rooms/demo/tech")
                time.sleep(3)
                tech.screenshot(path=OUT / "tech-1366x768.png")
                for name, (width, height) in {"tablet-1280x800": (1280, 800), "phone-390x844": (390, 844)}.items():
                    host = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
                    host.goto(host_link)
                    time.sleep(4)
                    host.screenshot(path=OUT / f"host-{name}.png")
                browser.close()
        finally:
            demo.terminate()
            demo.wait(30)
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
