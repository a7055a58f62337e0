"""Result lines: a figure, its baseline from the same run, the ratio, the target, pass or fail."""

from dataclasses import dataclass, field


@dataclass
class Row:
    """One checked figure of a scenario.

    `target` is `(">=", 0.7)` for "at least 0.7 x baseline" (or `("<=", 100)` for an
    absolute limit when there is no baseline); `None` reports the figure without a target.
    """

    scenario: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    target: tuple[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    invariant: bool = False

    @property
    def ratio(self):
        """Return value / baseline, or None without a baseline."""
        if not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def passed(self):
        """Return True or False against the target, None when there is none."""
        if self.target is None:
            return None
        measured = self.ratio if self.baseline is not None else self.value
        if measured is None:
            return False
        op, limit = self.target
        return measured >= limit if op == ">=" else measured <= limit

    def target_text(self):
        """Return the target as text."""
        if self.target is None:
            return "reported"
        op, limit = self.target
        suffix = "x baseline" if self.baseline is not None else self.unit
        return f"{op} {limit:g} {suffix}".replace(">=", "≥").replace("<=", "≤")

    def verdict(self):
        """Return PASS, FAIL or an empty string."""
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def check(scenario, figure, violations, notes=()):
    """Return an invariant row: passes when `violations` is 0."""
    return Row(scenario, figure, violations, "", target=("<=", 0), notes=list(notes), invariant=True)


def summarize(scenario, rows):
    """Return the rows' figures, with their invariant checks folded into one row for the scenario."""
    checks = [row for row in rows if row.invariant]
    failed = [row for row in checks if not row.passed]
    notes = [f"{row.scenario}: {row.figure} = {row.value:g}" + (f" ({'; '.join(row.notes)})" if row.notes else "")
             for row in failed]
    folded = Row(scenario, f"invariants ({len(checks)} checks)", sum(row.value for row in failed), "violations",
                 target=("<=", 0), notes=notes, invariant=True)
    return [row for row in rows if not row.invariant] + ([folded] if checks else [])


def _number(value, unit):
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"
    return f"{text} {unit}".strip()


HEADER = ("scenario", "figure", "value", "baseline", "ratio", "target", "result")


def cells(row):
    """Return the row's table cells."""
    ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
    return (row.scenario, row.figure, _number(row.value, row.unit), _number(row.baseline, row.unit), ratio,
            row.target_text(), row.verdict())


def print_rows(rows):
    """Print the rows as an aligned table, then their notes."""
    table = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    notes = [f"{row.scenario} / {row.figure}: {note}" for row in rows for note in row.notes]
    if notes:
        print()
        for note in notes:
            print("  " + note)


def markdown(rows):
    """Return the rows as a Markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines)
