"""A real OBS Studio for tests: started headless (Xvfb) from a throwaway HOME with its
websocket server on, two scenes, and a custom RTMP target; plus a local RTMP receiver
(ffmpeg) to stream to, whose death is a real interruption.

Every process runs in a session of its own and is killed as a group, so nothing (OBS,
Xvfb, ffmpeg) outlives the test that started it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support import free_port

LIVE_SCENE = "直播画面"
BACKUP_SCENE = "备用画面"
PROFILE = "controlroom-test"
COLLECTION = "controlroom-test"
STREAM_KEY = "key"


def obs_installed() -> bool:
    return shutil.which("obs") is not None and shutil.which("xvfb-run") is not None


def ffmpeg_installed() -> bool:
    return shutil.which("ffmpeg") is not None


def _color_source(name: str, argb: int) -> dict:
    return {
        "id": "color_source", "versioned_id": "color_source_v3", "name": name, "enabled": True,
        "settings": {"color": argb, "width": 320, "height": 180},
    }


def _scene(name: str, source: str) -> dict:
    return {
        "id": "scene", "versioned_id": "scene", "name": name, "enabled": True,
        "settings": {
            "id_counter": 1, "custom_size": False,
            "items": [{"name": source, "id": 1, "visible": True, "locked": False, "pos": {"x": 0.0, "y": 0.0},
                       "scale": {"x": 1.0, "y": 1.0}, "rot": 0.0, "align": 5, "bounds_type": 0}],
        },
    }


def write_obs_config(home: Path, *, ws_port: int, password: str, rtmp_port: int) -> None:
    """OBS's configuration under `home`: websocket on (global.ini), a simple-output profile
    streaming to rtmp://127.0.0.1:rtmp_port/live with quick reconnects, and a scene
    collection with the live and the backup scene. Enough that OBS 29 starts without its
    first-run wizard or any dialog."""
    config = home / ".config" / "obs-studio"
    profile = config / "basic" / "profiles" / PROFILE
    scenes = config / "basic" / "scenes"
    profile.mkdir(parents=True)
    scenes.mkdir(parents=True)
    (config / "global.ini").write_text(
        "[General]\n"
        "FirstRun=true\nLastVersion=503316480\nEnableAutoUpdates=false\nConfirmOnExit=false\n"
        "WarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n"
        "[BasicWindow]\nSysTrayEnabled=false\nSysTrayWhenStarted=false\n"
        "[Basic]\n"
        f"Profile={PROFILE}\nProfileDir={PROFILE}\nSceneCollection={COLLECTION}\nSceneCollectionFile={COLLECTION}\n"
        "ConfigOnNewProfile=false\n"
        "[OBSWebSocket]\n"
        f"FirstLoad=false\nServerEnabled=true\nServerPort={ws_port}\nAlertsEnabled=false\n"
        f"AuthRequired={'true' if password else 'false'}\nServerPassword={password}\n",
        encoding="utf-8",
    )
    (profile / "basic.ini").write_text(
        "[General]\n"
        f"Name={PROFILE}\n"
        "[Video]\n"
        "BaseCX=320\nBaseCY=180\nOutputCX=320\nOutputCY=180\nFPSType=1\nFPSInt=15\n"
        "[Audio]\nSampleRate=44100\nChannelSetup=Stereo\n"
        "[Output]\n"
        # An RTMP failure shows as reconnecting within a second (not after OBS's 10 s).
        "Mode=Simple\nReconnect=true\nRetryDelay=1\nMaxRetries=3\n"
        "[SimpleOutput]\n"
        "StreamEncoder=x264\nPreset=ultrafast\nVBitrate=300\nABitrate=64\nUseAdvanced=false\n"
        "RecEncoder=x264\n",
        encoding="utf-8",
    )
    (profile / "service.json").write_text(json.dumps({
        "type": "rtmp_custom",
        "settings": {"server": f"rtmp://127.0.0.1:{rtmp_port}/live", "key": STREAM_KEY, "use_auth": False},
    }), encoding="utf-8")
    (scenes / f"{COLLECTION}.json").write_text(json.dumps({
        "name": COLLECTION,
        "current_scene": LIVE_SCENE,
        "current_program_scene": LIVE_SCENE,
        "scene_order": [{"name": LIVE_SCENE}, {"name": BACKUP_SCENE}],
        "sources": [
            _color_source("主画面色块", 0xFF2050D0),
            _color_source("备用色块", 0xFFD05020),
            _scene(LIVE_SCENE, "主画面色块"),
            _scene(BACKUP_SCENE, "备用色块"),
        ],
        "groups": [],
        "transitions": [],
        "current_transition": "Cut",
        "transition_duration": 0,
        "modules": {},
    }, ensure_ascii=False), encoding="utf-8")


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before opening port {port}; "
                               f"log:\n{_tail(log)}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not open port {port} within {timeout_s:.0f} s; log:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_group(process: subprocess.Popen | None, timeout_s: float = 5.0) -> None:
    """SIGTERM the process's whole group (its session), SIGKILL what is left after
    `timeout_s`: xvfb-run's Xvfb and OBS's helpers go with it."""
    if process is None:
        return
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no member of its group is left either.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        break


def start_obs(tmp_path: Path, password: str, *, rtmp_port: int | None = None,
              timeout_s: float = 40.0) -> tuple[int, subprocess.Popen, int]:
    """OBS running under Xvfb with a fresh HOME in `tmp_path`: (websocket port, process,
    RTMP port it streams to). Stop it with `stop_group(process)`."""
    ws_port = free_port()
    rtmp_port = rtmp_port or free_port()
    home = tmp_path / "obs-home"
    write_obs_config(home, ws_port=ws_port, password=password, rtmp_port=rtmp_port)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        # No GPU in a container: Mesa's software renderer gives OBS its OpenGL 3.3.
        "LIBGL_ALWAYS_SOFTWARE": "1",
        "QT_QPA_PLATFORM": "xcb",
    }
    env.pop("WAYLAND_DISPLAY", None)
    (home / "run").mkdir(mode=0o700)
    log = tmp_path / "obs.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "obs",
             "--multi", "--disable-missing-files-check",
             "--profile", PROFILE, "--collection", COLLECTION, "--scene", LIVE_SCENE],
            env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(ws_port, process, timeout_s, "OBS", log)
    except BaseException:
        stop_group(process)
        raise
    return ws_port, process, rtmp_port


def start_receiver(port: int, log: Path | None = None) -> subprocess.Popen:
    """ffmpeg listening for one RTMP publish on rtmp://127.0.0.1:port/live/key and
    throwing the media away; killing it cuts OBS's stream off."""
    out = log.open("wb") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostdin",
             "-listen", "1", "-i", f"rtmp://127.0.0.1:{port}/live/{STREAM_KEY}", "-f", "null", "-"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    finally:
        if log:
            out.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ffmpeg receiver exited with {process.returncode}")
        if _listening(port):
            return process
        time.sleep(0.05)
    stop_group(process)
    raise RuntimeError(f"ffmpeg receiver did not listen on {port}")


def _listening(port: int) -> bool:
    """Whether something listens on the TCP port, without connecting to it (ffmpeg's
    -listen 1 takes one client only: a probe connection would use it up)."""
    hex_port = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[1].endswith(hex_port) and fields[3] == "0A":  # LISTEN
                return True
    return False
