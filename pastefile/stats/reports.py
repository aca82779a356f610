"""The periodic PV/UV report: an HTML summary (inline CSS) and an .xlsx with
sheets ``pv``, ``uv`` and ``analysis``, mailed over SMTP and kept as a blob."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import Any

from sqlalchemy import desc, select

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, StatsReport
from pastefile.services import mail
from pastefile.services.blobs import BlobStore
from pastefile.services.mail import Attachment
from pastefile.stats.service import DayRange, StatsService
from pastefile.stats.sql import as_date
from pastefile.stats.stores import StatsStore
from pastefile.storage.base import BlobWriter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_DAYS = {"daily": 1, "weekly": 7}
MAX_FILES = 200


def period_range(period: str, today: date) -> DayRange:
    """The last full period before today: yesterday, or the seven days before it."""
    end = today - timedelta(days=1)
    return DayRange(end - timedelta(days=PERIOD_DAYS[period] - 1), end)


@dataclass
class FileRow:
    public_id: str
    filename: str
    pv: list[int] = field(default_factory=list)
    uv: list[int] = field(default_factory=list)


@dataclass
class ReportData:
    period: str
    span: DayRange
    days: list[dict[str, Any]]  # site-wide per day
    uploads: list[dict[str, Any]]
    files: list[FileRow]

    @property
    def labels(self) -> list[str]:
        return [d.isoformat() for d in self.span.days]


def collect(db: Database, store: StatsStore, period: str, span: DayRange) -> ReportData:
    stats = StatsService(db, store)
    return ReportData(
        period=period,
        span=span,
        days=stats.file_days(None, span),
        uploads=stats.uploads_per_day(span),
        files=_file_rows(db, store, span),
    )


def _file_rows(db: Database, store: StatsStore, span: DayRange) -> list[FileRow]:
    t = FileDailyStats
    pv = t.views + t.hits + t.downloads
    stmt = (
        select(File.id, File.public_id, File.filename, t.day, pv)
        .join(File, File.id == t.file_id)
        .where(t.day >= span.start, t.day <= span.end)
        .order_by(desc(pv))
    )
    rows: dict[int, FileRow] = {}
    index = {d: i for i, d in enumerate(span.days)}
    with db.read() as session:
        for file_id, public_id, filename, day, n in session.execute(stmt):
            if file_id not in rows and len(rows) >= MAX_FILES:
                continue
            row = rows.setdefault(file_id, FileRow(public_id, filename, [0] * len(index)))
            row.pv[index[as_date(day)]] += int(n)
    for file_id, row in rows.items():
        uv = store.unique_visitors(file_id, span.days)
        row.uv = [uv.get(d, 0) for d in span.days]
    return sorted(rows.values(), key=lambda r: (-sum(r.pv), r.public_id))


# --- the workbook -------------------------------------------------------------------


def build_xlsx(data: ReportData) -> bytes:
    out = io.BytesIO()
    import xlsxwriter  # ~10 MB, needed only while a report is built

    book = xlsxwriter.Workbook(out, {"in_memory": True})
    fmt = {"head": book.add_format({"bold": True, "bg_color": "#dde6f5", "border": 1})}
    _series_sheet(book, "pv", data, [r.pv for r in data.files], fmt)
    _series_sheet(book, "uv", data, [r.uv for r in data.files], fmt)
    _analysis_sheet(book, data, fmt)
    book.close()
    return out.getvalue()


def _series_sheet(
    book: Any, name: str, data: ReportData, series: list[list[int]], fmt: dict[str, Any]
) -> None:
    sheet = book.add_worksheet(name)
    n = len(data.labels)
    sheet.write_row(0, 0, ["file", "filename", *data.labels, "total", "trend"], fmt["head"])
    for r, (row, values) in enumerate(zip(data.files, series, strict=True), start=1):
        sheet.write_row(r, 0, [row.public_id, row.filename, *values])
        sheet.write_formula(r, 2 + n, f"=SUM({_cell(r, 2)}:{_cell(r, 1 + n)})", None, sum(values))
        sheet.add_sparkline(r, 3 + n, {"range": f"{name}!{_cell(r, 2)}:{_cell(r, 1 + n)}"})
    last = max(len(data.files), 1)
    sheet.conditional_format(1, 2, last, 1 + n, {"type": "3_color_scale"})
    sheet.set_column(0, 1, 16)
    sheet.set_column(3 + n, 3 + n, 18)
    sheet.freeze_panes(1, 2)


def _analysis_sheet(book: Any, data: ReportData, fmt: dict[str, Any]) -> None:
    sheet = book.add_worksheet("analysis")
    sheet.write_row(0, 0, ["day", "pv", "uv", "uploads", "pv per visitor"], fmt["head"])
    for r, (day, up) in enumerate(zip(data.days, data.uploads, strict=True), start=1):
        pv = day["views"] + day["hits"] + day["downloads"]
        ratio = round(pv / day["uv"], 2) if day["uv"] else 0
        sheet.write_row(r, 0, [day["day"], pv, day["uv"], up["uploads"], ratio])
    last = len(data.days)
    sheet.conditional_format(1, 1, last, 1, {"type": "data_bar"})
    sheet.conditional_format(1, 2, last, 2, {"type": "data_bar", "bar_color": "#63BE7B"})
    sheet.set_column(0, 0, 12)
    line = book.add_chart({"type": "line"})
    for col, title in ((1, "PV"), (2, "UV")):
        line.add_series(
            {
                "name": title,
                "categories": ["analysis", 1, 0, last, 0],
                "values": ["analysis", 1, col, last, col],
            }
        )
    line.set_title({"name": "PV and UV per day"})
    sheet.insert_chart("G2", line)
    sheet.insert_chart("G18", _top_files_chart(book, data))


def _top_files_chart(book: Any, data: ReportData) -> Any:
    column = book.add_chart({"type": "column"})
    top = max(min(len(data.files), 10), 1)  # an empty row still makes a valid chart
    n = len(data.labels)
    column.add_series(
        {"name": "PV", "categories": ["pv", 1, 1, top, 1], "values": ["pv", 1, 2 + n, top, 2 + n]}
    )
    column.set_title({"name": "Top files by PV"})
    column.set_legend({"none": True})
    return column


def _cell(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return str(xl_rowcol_to_cell(row, col))


# --- the mail -----------------------------------------------------------------------

_TD = "padding:4px 10px;border:1px solid #ccd;text-align:right;font-family:sans-serif"
_TH = _TD + ";background:#dde6f5;font-weight:bold"


def build_html(data: ReportData) -> str:
    head = "".join(f'<th style="{_TH}">{h}</th>' for h in ("day", "PV", "UV", "uploads"))
    body = []
    for day, up in zip(data.days, data.uploads, strict=True):
        pv = day["views"] + day["hits"] + day["downloads"]
        cells = (escape(day["day"]), pv, day["uv"], up["uploads"])
        body.append("<tr>" + "".join(f'<td style="{_TD}">{c}</td>' for c in cells) + "</tr>")
    title = escape(f"pastefile {data.period} report {data.span.start} to {data.span.end}")
    return (
        f'<html><body style="font-family:sans-serif"><h2 style="color:#234">{title}</h2>'
        f'<table style="border-collapse:collapse">'
        f"<tr>{head}</tr>{''.join(body)}</table>"
        f'<p style="color:#667">{len(data.files)} files were requested; '
        f"the attachment has them per day.</p></body></html>"
    )


def send_mail(settings: Settings, to: list[str], subject: str, html: str, xlsx: bytes) -> None:
    text = "This report is HTML; open it in a mail client that shows HTML."
    sheet = Attachment(xlsx, XLSX_TYPE, _name(subject))
    mail.send_mail(settings, to, subject, text, html, [sheet])


def _name(subject: str) -> str:
    return subject.replace(" ", "-").replace("/", "-") + ".xlsx"


# --- one report, end to end -----------------------------------------------------------


def make_report(
    settings: Settings,
    db: Database,
    blobs: BlobStore,
    store: StatsStore,
    period: str,
    to: list[str],
    today: date,
) -> StatsReport:
    """Collect, build, keep (blob + row) and, with recipients, mail one report."""
    span = period_range(period, today)
    data = collect(db, store, period, span)
    xlsx = build_xlsx(data)
    writer = blobs.storage.writer()
    summary = {"pv": sum(d["views"] + d["hits"] + d["downloads"] for d in data.days)}
    summary.update(uv=sum(d["uv"] for d in data.days), files=len(data.files))
    try:
        writer.write(xlsx)
        report = _keep(db, blobs, writer, period, span, to, summary)
    finally:
        writer.abort()
    if to:
        subject = f"pastefile {period} report {span.start} to {span.end}"
        send_mail(settings, to, subject, build_html(data), xlsx)
    return report


def _keep(
    db: Database,
    blobs: BlobStore,
    writer: BlobWriter,
    period: str,
    span: DayRange,
    to: list[str],
    summary: dict[str, Any],
) -> StatsReport:
    """The report's row, with its bytes published under the blob's lock."""
    with db.write() as session:
        blobs.publish(session, writer, XLSX_TYPE)
        report = StatsReport(
            period=period, start_day=span.start, end_day=span.end, sha256=writer.sha256,
            size=writer.size, recipients=", ".join(to)[:1000], summary=summary,
        )  # fmt: skip
        session.add(report)
        session.flush()
        session.expunge(report)
    return report
