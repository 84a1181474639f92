"""The review's exports: every CSV carries local times beside Unix seconds; one Excel
workbook holds every table, headers in the reader's language, and what strangers or
staff typed stays text (never a formula) there too."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import openpyxl

from tests.support import csrf_of
from tests.web.test_review_in_browser import sample_show

FORMULA = '=HYPERLINK("http://evil.example","点我领券")'


def test_the_review_exports_local_times_and_one_workbook_with_every_table_as_text(server, room, database_url):
    show_id = sample_show(server, room, database_url)
    client = server.admin
    review = client.get(f"/rooms/{room}/shows/{show_id}/review.json").json()
    page = f"/rooms/{room}/shows/{show_id}/review"
    added = client.post(f"{page}/items", data={"kind": "action", "text": FORMULA, "segment": "2", "sku": "",
                                               "csrftoken": csrf_of(client, page)}, headers={"hx-request": "true"})
    assert added.status_code == 200

    minutes = list(csv.DictReader(io.StringIO(client.get(f"{page}.csv?table=minutes").text.lstrip("\ufeff"))))
    first = minutes[0]
    local = datetime.fromtimestamp(int(first["minute_unix_s"]), tz=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai"))
    assert first["minute_local"] == local.strftime("%Y-%m-%d %H:%M:%S")
    segments = list(csv.DictReader(io.StringIO(client.get(f"{page}.csv?table=segments").text.lstrip("\ufeff"))))
    assert segments[0]["started_local"].startswith(local.strftime("%Y-%m-%d"))
    items = client.get(f"{page}.csv?table=review_items").text
    assert "'=HYPERLINK" in items  # neutralised in the CSV
    assert client.get(f"{page}.csv?table=nothing").status_code == 422

    answer = client.get(f"{page}.xlsx?lang=zh_CN")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert {"核心数据", "分钟走势", "环节", "商品", "热词", "热门问题", "事件", "预案", "复盘会"} <= set(book.sheetnames)
    per_minute = book["分钟走势"]
    assert per_minute.cell(1, 1).value == "分钟（本地时间）"
    assert per_minute.max_row - 1 == len(review["series"]["x"])
    assert sum(per_minute.cell(row, 4).value for row in range(2, per_minute.max_row + 1)) == review["headline"]["comments"]
    meeting = book["复盘会"]
    cell = meeting.cell(2, 2)
    assert cell.value == FORMULA and cell.data_type == "s"  # text, not a formula
    english = openpyxl.load_workbook(io.BytesIO(client.get(f"{page}.xlsx?lang=en").content))
    assert "Per minute" in english.sheetnames
    client.get("/reviews?lang=zh_CN")  # the shared admin client reads Chinese again
