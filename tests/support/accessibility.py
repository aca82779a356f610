"""axe-core in the browser tests: inject it into a Playwright context, and fail on any
serious or critical violation of the page as it is now (tests/support/axe/README.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("axe") / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
# WCAG 2.1 A and AA, and axe's best practices (empty table headers, scrollable regions...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = ("serious", "critical")


def axe_source() -> str:
    data = AXE.read_bytes()
    if hashlib.sha256(data).hexdigest() != AXE_SHA256:
        raise RuntimeError(f"{AXE} is not the vendored axe-core; see its README")
    return data.decode()


def install_axe(context: Any) -> None:
    """Every page of ``context`` gets ``window.axe`` before its own scripts run."""
    context.add_init_script(script=axe_source())


_RUN = """async (tags) => {
  const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page in its current state."""
    found: list[dict[str, Any]] = page.evaluate(_RUN, TAGS)
    return [v for v in found if v["impact"] in FAILING]


def assert_accessible(page: Any, state: str = "") -> None:
    problems = serious_violations(page)
    where = state or page.url
    assert not problems, f"axe, {where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in problems
    )
