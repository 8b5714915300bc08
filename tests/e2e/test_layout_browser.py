"""Every page at projector sizes in a real browser: nothing of ours spills sideways or is cut.

One session: a short training (the default model, one epoch on digits), then the largest
preset; each page is then looked at 1280×800 and 1920×1080.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import set_number

from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize

TRAINING_TIMEOUT_MS = 240_000
VIEWPORTS = ((1280, 800), (1920, 1080))
LARGEST = max(PRESETS, key=lambda name: summarize(PRESETS[name]).total_params)
# What each page shows once it has drawn its heaviest part.
PAGES = {"Build": "Total params:", "Train": "Test accuracy", "Feature maps": "Every layer"}

# Elements of ours (the page body and the sidebar, our component included) whose content
# reaches past their own box sideways, or whose text ends in an ellipsis because it is cut.
# The data grid scrolls its own columns by design, Plotly draws in SVG, and Streamlit's
# 1-pixel screen-reader texts and resize handles are not content: those are left out.
_PROBLEMS_JS = """() => {
  const ignored = (el) => el.closest(
    '[data-testid="stDataFrame"], .js-plotly-plot, [data-testid="stSlider"]');
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 2 && box.height > 2 && getComputedStyle(el).visibility !== 'hidden';
  };
  const name = (el) => `${el.tagName.toLowerCase()}${el.dataset.testid ?
    '[' + el.dataset.testid + ']' : ''}.${String(el.className).slice(0, 40)}`;
  const problems = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) visit(el.shadowRoot);
      if (ignored(el) || !visible(el)) continue;
      const style = getComputedStyle(el);
      const text = (el.innerText || '').trim().slice(0, 60).replace(/\\s+/g, ' ');
      if (style.textOverflow === 'ellipsis' && text) {
        // scrollWidth does not see text cut inside a child paragraph: measure the text.
        const probe = document.createElement('span');
        probe.style.cssText = 'position:absolute;left:-9999px;white-space:nowrap';
        for (const key of ['fontFamily', 'fontSize', 'fontWeight', 'fontStyle']) {
          probe.style[key] = style[key];
        }
        probe.style.letterSpacing = style.letterSpacing;
        probe.textContent = el.innerText.trim();
        document.body.append(probe);
        const natural = probe.getBoundingClientRect().width;
        probe.remove();
        const room = el.getBoundingClientRect().width - parseFloat(style.paddingLeft) -
                     parseFloat(style.paddingRight) - parseFloat(style.borderLeftWidth) -
                     parseFloat(style.borderRightWidth);
        if (natural > room + 0.05) {  // a fraction of a pixel is enough to cut
          problems.push(`cut by an ellipsis: ${name(el)} "${text}"`);
        }
        continue;
      }
      if (el.scrollWidth <= el.clientWidth + 1) continue;
      const box = el.getBoundingClientRect();
      const spill = Array.from(el.querySelectorAll('*')).find((child) => {
        if (ignored(child) || !visible(child)) return false;
        const inner = child.getBoundingClientRect();
        return inner.right > box.right + 1 || inner.left < box.left - 1;
      });
      if (spill) {
        problems.push(`overflows sideways (${el.scrollWidth} > ${el.clientWidth} px): ` +
                      `${name(el)} because of ${name(spill)} "${text}"`);
      }
    }
  };
  document.querySelectorAll(
    '[data-testid="stMainBlockContainer"], [data-testid="stSidebarUserContent"]'
  ).forEach(visit);
  return problems;
}"""


def _go(page: Any, title: str, wait_for_app: Callable[..., None]) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_for_app(page)


def _train_one_epoch(page: Any, wait_for_app: Callable[..., None]) -> None:
    _go(page, "Train", wait_for_app)
    set_number(page, "Epochs", 1)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=TRAINING_TIMEOUT_MS)
    wait_for_app(page)


def _load_preset(page: Any, name: str, wait_for_app: Callable[..., None]) -> None:
    _go(page, "Build", wait_for_app)
    page.get_by_test_id("stSelectbox").filter(has_text="Preset").click()
    page.get_by_role("option", name=name, exact=True).click()
    wait_for_app(page)
    load = page.get_by_role("button", name="Load", exact=True)
    if load.count():
        load.click()
        wait_for_app(page)
    page.get_by_role("heading", name=re.compile(f"Build · {re.escape(name)}")).wait_for()


def test_no_page_overflows_or_cuts_text_at_1280_and_1920(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(app_url)
    wait_for_app(page)
    _train_one_epoch(page, wait_for_app)
    _load_preset(page, LARGEST, wait_for_app)
    found: list[str] = []
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        for title, ready in PAGES.items():
            _go(page, title, wait_for_app)
            page.get_by_text(ready).first.wait_for()
            page.wait_for_timeout(1000)  # images and the component finish their layout
            assert page.locator('[data-testid="stException"]').count() == 0
            screenshot(page, f"layout_{title.replace(' ', '_')}_{width}x{height}")
            found += [f"{title} at {width}×{height}: {problem}"
                      for problem in page.evaluate(_PROBLEMS_JS)]
    assert not found, "\n".join(found)
