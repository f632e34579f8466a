"""How long the gradient explorer takes to redraw after a slider change (budget: 50 ms). Reports; never fails.

    .venv/bin/python bench/explorer.py [--site DIR] [--repeats N]

Without --site, the site is built first with the fast preset into a temporary directory. The page is served
with gzip on 127.0.0.1 and opened in Chromium (Debian's, or $GTT_CHROMIUM). For each scenario the benchmark
moves one control step by step, as the arrow keys do, and records per step:

- work: the explorer's own synchronous work for the redraw (compute the gradients, draw both SVG plots,
  write the readout), from its timings;
- frame: from the input event until the frame with the redrawn plots has been laid out and painted. The
  explorer redraws in the next animation frame (so that a held-down key does not queue up redraws), so this
  includes the wait for that frame: the input arrives at a random moment, as a key press does, and waits
  0 to 17 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.gzip_server import serve  # noqa: E402
from lessons_code.chromium import launch, new_context  # noqa: E402

BUDGET_MS = 50.0

# (label, settings to start from, the control to step, how many steps)
SCENARIOS = [
    ("rho slider, tanh, T = 100", {"activation": "tanh", "length": 100}, "rho", 20),
    ("rho slider, tanh, T = 200 (longest)", {"activation": "tanh", "length": 200}, "rho", 20),
    ("rho slider, linear, T = 200", {"activation": "linear", "length": 200}, "rho", 20),
    ("length slider, 100 -> 200", {"activation": "tanh", "length": 100}, "length", 20),
    ("lag slider (spectrum only), T = 200", {"activation": "tanh", "length": 200}, "lag", 20),
]

STEP_JS = """async ([name, steps]) => {
  const root = document.querySelector('.gtt-explorer');
  const inst = root.gttExplorer;
  const input = root.querySelector(`input[name=${name}]`);
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const results = [];
  for (let i = 0; i < steps; i++) {
    await frame(); await frame();  // a quiet page
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 16.7));  // a key arrives at any time
    const before = inst.renders;
    const started = performance.now();
    input.stepUp();  // what ArrowRight does to a range input
    input.dispatchEvent(new Event('input', {bubbles: true}));
    // The explorer redraws in the next animation frame; a callback queued after its own runs after it, in
    // the same frame, and a task queued from there runs once that frame has been laid out and painted.
    const painted = await new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()))));
    if (inst.renders === before) throw new Error('the explorer did not redraw in the next frame');
    const t = inst.timings[inst.timings.length - 1];
    results.push({work: t.compute + t.draw, frame: painted - started});
  }
  return results;
}"""

SETUP_JS = """(settings) => {
  const root = document.querySelector('.gtt-explorer');
  const set = (name, value) => {
    const input = root.querySelector(`input[name=${name}]`);
    input.value = String(value);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  };
  if (settings.length) set('length', settings.length);
  set('rho', 0.5);
  set('lag', 20);
  if (settings.activation) {
    const radio = root.querySelector(`input[type=radio][value=${settings.activation}]`);
    radio.checked = true;
    radio.dispatchEvent(new Event('change', {bubbles: true}));
  }
}"""


def build_site(out: Path) -> None:
    env = {**os.environ, "GTT_PRESET": "fast", "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"the site did not build:\n{proc.stdout}\n{proc.stderr}")


def measure(site: Path, repeats: int) -> list[tuple[str, list[dict]]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with serve(site) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        page = new_context(browser, viewport={"width": 1280, "height": 900}).new_page()
        page.goto(base + "explorer/", wait_until="load")
        page.wait_for_function("() => document.querySelector('.gtt-explorer').gttResult")
        page.locator(".gtt-explorer").scroll_into_view_if_needed()
        for label, settings, control, steps in SCENARIOS:
            samples = []
            for _ in range(repeats):
                page.evaluate(SETUP_JS, settings)
                page.wait_for_timeout(200)
                samples += page.evaluate(STEP_JS, [control, steps])
            rows.append((label, samples))
        first = page.evaluate(
            "() => document.querySelector('.gtt-explorer').gttExplorer.firstRender"
        )
        rows.insert(
            0,
            (
                "first draw after page load",
                [{"work": first["compute"] + first["draw"], "frame": float("nan")}],
            ),
        )
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--site", type=Path, help="a built site (default: build one with the fast preset)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="passes over each scenario")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            build_site(site)
        rows = measure(site, args.repeats)

    def p95(values: list[float]) -> float:
        return sorted(values)[min(len(values) - 1, round(0.95 * (len(values) - 1)))]

    print(
        f"\n{'scenario':<38} {'steps':>5} {'work median':>12} {'p95':>8} {'frame median':>13} {'p95':>8} {'max':>8}"
    )
    for label, samples in rows:
        work = [s["work"] for s in samples]
        frame = [s["frame"] for s in samples if s["frame"] == s["frame"]]
        frames = (
            f"{statistics.median(frame):>10.1f} ms {p95(frame):>5.1f} ms {max(frame):>5.1f} ms"
            if frame
            else f"{'-':>13} {'-':>8} {'-':>8}"
        )
        print(
            f"{label:<38} {len(samples):>5} {statistics.median(work):>9.1f} ms {p95(work):>5.1f} ms {frames}"
        )
    print(f"budget: a slider change redraws in <= {BUDGET_MS:.0f} ms (issue 9)")


if __name__ == "__main__":
    main()
