"""A class in three browsers: the host pushes a lesson whose lock holds, asks the room a
question, watches both participants' answers arrive and reveals; the participants then see
the answer with its arithmetic. Display names stay text. Screenshots of the host's view at
1920×1080 and 1280×800, and of a participant's model on the host's projector; a run from
the leaderboard shows its first feature maps there and comes to the host's Feature maps
page with its trained weights."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_session import (
    APP_IDLE_TIMEOUT_MS,
    free_port,
    open_page,
    start_app,
    stop_app,
    train_one_epoch,
    type_until,
)
from playwright.sync_api import expect

SECRET = "a browser test's host secret"
HOSTILE = "<img src=x onerror=window.pwned=1>"
REFRESH_MS = 20_000  # a few of the 3-second redraws, on a busy machine


@pytest.fixture
def room_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = start_app(port, tmp_path / "server.log", {
        "CNNVIZ_STORE_PATH": str(tmp_path / "cnnviz.db"),
        "CNNVIZ_UPLOAD_CACHE": str(tmp_path / "uploads"),
        "CNNVIZ_HOST_SECRET": SECRET, "CNNVIZ_WARM_UP": "0"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(server)


def _open(browser: Any, url: str, width: int, height: int,
          wait_for_app: Callable[..., None]) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(APP_IDLE_TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    wait_for_app(page)
    return page


def _name(page: Any, name: str, wait_for_app: Callable[..., None]) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Your workspace").click()
    field = sidebar.get_by_role("textbox", name="Display name (shown to the host)")
    field.fill(name)
    field.press("Enter")
    wait_for_app(page)


def _guess(page: Any, text: str, wait_for_app: Callable[..., None]) -> None:
    question = page.locator(".st-key-room_question")
    question.get_by_text("The host asks:").wait_for(timeout=REFRESH_MS)
    question.get_by_role("textbox", name="Your guess").fill(text)
    question.get_by_role("button", name="Send").click()
    question.get_by_text("Your guess:").wait_for(timeout=REFRESH_MS)


def test_a_host_and_two_participants_run_a_lesson_and_a_question(
    browser: Any, room_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    alice = _open(browser, room_url, 1280, 800, wait_for_app)
    bob = _open(browser, room_url, 1280, 800, wait_for_app)
    host = _open(browser, room_url, 1920, 1080, wait_for_app)
    try:
        _name(alice, HOSTILE, wait_for_app)
        _name(bob, "Bob", wait_for_app)

        sidebar = host.get_by_test_id("stSidebar")
        sidebar.get_by_text("Host sign-in").click()
        sidebar.get_by_label("Host secret").fill(SECRET)
        sidebar.get_by_role("button", name="Sign in").click()
        wait_for_app(host)
        open_page(host, "Host")
        host.get_by_text("3 participants seen").wait_for(timeout=REFRESH_MS)  # and the host

        # The lesson: the host's model, its input shape frozen.
        host.get_by_role("tab", name="Lesson and locks").click()
        wait_for_app(host)
        host.get_by_text("Freeze the input shape").click()
        host.get_by_role("button", name="Push the lesson to the room").click()
        host.get_by_text(re.compile(r"Lesson \d+ pushed")).wait_for()
        alice.reload()
        wait_for_app(alice)
        alice.get_by_role("button", name="Load the lesson").click()
        wait_for_app(alice)
        height = alice.get_by_role("spinbutton", name="height", exact=True)
        type_until(alice, height, "32", alice.get_by_text("froze the input shape at 28×28×1"))
        expect(height).to_have_value("28", timeout=REFRESH_MS)  # the server put it back

        # Predict, then reveal: the first layer's output shape.
        host.get_by_role("tab", name="Room").click()
        wait_for_app(host)
        host.get_by_role("button", name="Ask the room").click()
        wait_for_app(host)
        _guess(alice, "13x13x32", wait_for_app)
        _guess(bob, "(26, 26, 32)", wait_for_app)
        alice_question = alice.locator(".st-key-room_question")
        assert "26×26×32" not in alice_question.inner_text()  # no answer before the reveal

        host.get_by_text("2 answered:").wait_for(timeout=REFRESH_MS)
        host.get_by_text("1 said 13×13×32 · 1 said 26×26×32").wait_for()
        wait_for_app(host)
        screenshot(host, "room_host_question_1920x1080", full_page=True)
        host.set_viewport_size({"width": 1280, "height": 800})
        wait_for_app(host)
        screenshot(host, "room_host_question_1280x800", full_page=True)
        assert host.evaluate("() => window.pwned") is None
        assert host.locator('img[src="x"]').count() == 0

        host.get_by_role("button", name="Reveal the answer to everyone").click()
        wait_for_app(host)
        alice_question.get_by_text("the answer is 26×26×32").wait_for(timeout=REFRESH_MS)
        bob_question = bob.locator(".st-key-room_question")
        bob_question.get_by_text("Right: 26×26×32").wait_for(timeout=REFRESH_MS)
        assert "⌊(28 − 3)/1⌋ + 1 = 26" in bob_question.inner_text()  # with its arithmetic
        screenshot(alice, "room_participant_revealed_1280x800", full_page=True)

        # On the projector: the first row of the room table (Alice) opens her model.
        host.set_viewport_size({"width": 1920, "height": 1080})
        table = host.locator(".st-key-host_room_table")
        box = table.bounding_box()
        host.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's checkbox
        host.get_by_text("On the projector:").wait_for(timeout=REFRESH_MS)
        wait_for_app(host)
        host.locator(".st-key-host_projector").scroll_into_view_if_needed()
        screenshot(host, "room_host_projector_1920x1080")
        assert host.evaluate("() => window.pwned") is None
    finally:
        for page in (alice, bob, host):
            page.context.close()


def test_a_finished_training_enters_the_hosts_leaderboard_and_opens_on_the_projector(
    browser: Any, room_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    bob = _open(browser, room_url, 1280, 800, wait_for_app)
    host = _open(browser, room_url, 1920, 1080, wait_for_app)
    try:
        _name(bob, "Bob", wait_for_app)
        sidebar = host.get_by_test_id("stSidebar")
        sidebar.get_by_text("Host sign-in").click()
        sidebar.get_by_label("Host secret").fill(SECRET)
        sidebar.get_by_role("button", name="Sign in").click()
        wait_for_app(host)
        open_page(host, "Host")
        host.get_by_role("tab", name="Challenge and leaderboard").click()
        wait_for_app(host)
        host.get_by_text("Set or change the challenge").click()
        for _ in range(3):  # keys typed before a busy browser opened the menu are lost
            host.get_by_test_id("stSelectbox").filter(has_text="Dataset").locator("input").click()
            host.wait_for_timeout(500)
            host.keyboard.type("digits", delay=50)
            host.keyboard.press("Enter")
            host.get_by_role("spinbutton", name="At most this many parameters").fill("200000")
            host.get_by_role("button", name="Set the challenge").click()
            wait_for_app(host)
            if host.get_by_text(re.compile(r"\bdigits\b")).count():
                break
        host.get_by_text("No qualifying run yet.").wait_for(timeout=REFRESH_MS)

        train_one_epoch(bob)
        board = host.locator(".st-key-host_board_table")
        board.wait_for(timeout=3 * REFRESH_MS)  # the run is stored, the board redraws
        box = board.bounding_box()
        host.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's checkbox
        host.get_by_text("On the projector:").wait_for(timeout=REFRESH_MS)
        wait_for_app(host)
        assert host.get_by_text(re.compile(r"on \d+ test images of digits")).count() == 1
        screenshot(host, "room_host_leaderboard_projector_1920x1080", full_page=True)

        # Its first feature maps, for the room, without leaving the Host page.
        host.get_by_role("button", name="Show its feature maps").click()
        host.get_by_text(re.compile(r"Feature maps of run \d+")).wait_for(timeout=REFRESH_MS)
        wait_for_app(host)
        assert host.get_by_text(re.compile(r"\d+ maps of \d+×\d+")).count() == 1
        host.locator(".st-key-host_projector").scroll_into_view_if_needed()
        screenshot(host, "room_host_projector_maps_1920x1080")
        host.set_viewport_size({"width": 1280, "height": 800})
        wait_for_app(host)
        host.locator(".st-key-host_projector").scroll_into_view_if_needed()
        screenshot(host, "room_host_projector_maps_1280x800")

        # Brought with its trained weights: Feature maps says whose run it is.
        host.get_by_role("button", name="Bring it to my Build page").click()
        wait_for_app(host)
        open_page(host, "Feature maps")
        host.get_by_text(re.compile(r"Bob's run \d+, brought from the Host page")).wait_for(
            timeout=REFRESH_MS)
        assert host.get_by_text("Untrained model").count() == 0
        screenshot(host, "room_host_brought_feature_maps_1280x800")
    finally:
        for page in (bob, host):
            page.context.close()
