"""Run-of-show scripts in and out of YAML and spreadsheet CSV: lossless round trips,
what a spreadsheet does to a file, every import problem with its row and column, and
the templates a script starts from."""

from __future__ import annotations

import csv
import io
import re

import pytest
import yaml

from controlroom.moderation.compliance import check_script
from controlroom.moderation.live import default_matcher_and_suggestions
from controlroom.shows.script import AUDIENCES, SEGMENT_KINDS, Cue, Script, Segment
from controlroom.shows.script_io import (
    MAX_SEGMENTS,
    ImportProblem,
    ScriptImportError,
    format_duration,
    from_csv,
    from_yaml,
    parse_duration,
    to_csv,
    to_yaml,
)
from controlroom.shows.templates import PRODUCT_BLOCK_STEPS, TEMPLATES

HAND_MADE = Script(
    segments=(
        Segment("开场：欢迎家人们", "opening", 300, talk_points="欢迎来到直播间！\n点个关注不迷路。",
                notes="灯光先亮，音乐 10 秒后淡出", cues=(Cue(0, "欢迎话术", "host"), Cue(30, "开福袋", "controller"), Cue(120, "口播 @主播", "both"))),
        Segment("讲品：羊绒围巾", "product", 900, sku="SCARF-001", talk_points="- 面料：100支羊毛\n- 颜色：燕麦、雾蓝",
                cues=(Cue(0, "功能演示"), Cue(480, "上链接", "controller"), Cue(600, "报库存；提醒付款", "host"),
                      Cue(840, "感谢@小明的礼物"))),
        # a fixed start (整点秒杀), 10 minutes after the product segment ends
        Segment("=9.9 秒杀", "flash_sale", 180, starts_at_s=1800, cues=(Cue(0, "倒计时 10 秒", "both"), Cue(180, "下链接"))),
        Segment("答疑", "qa", 3900, talk_points="尺码、发货、售后", cues=(Cue(3600, "报库存"),)),
        Segment("收尾", "closing", 120, notes="下播前预告明天 20:00"),
    ),
    planned_total_s=2 * 3600,
)

SCRIPTS = [pytest.param(HAND_MADE, id="hand-made")] + [
    pytest.param(factory(), id=key) for key, (_, _, factory) in TEMPLATES.items()
]


def problems_of(excinfo: pytest.ExceptionInfo[ScriptImportError]) -> set[tuple[int | None, str | None]]:
    return {(problem.row, problem.column) for problem in excinfo.value.errors}


# --- durations -------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [(0, "00:00"), (59, "00:59"), (300, "05:00"), (3599, "59:59"),
                                           (3600, "1:00:00"), (3725, "1:02:05"), (36000, "10:00:00")])
def test_durations_are_written_mm_ss_and_read_back(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, seconds", [("5:00", 300), ("90:00", 5400), ("0:05:00", 300), (" 01:30 ", 90),
                                           ("01：30", 90)])
def test_durations_as_people_and_spreadsheets_write_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5分钟", "300", "", "1:60", "1:60:00", "-01:00", "01:30:", "5:1", "a:bc"])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_negative_number_of_seconds_cannot_be_written():
    with pytest.raises(ValueError):
        format_duration(-1)


# --- round trips -----------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_yaml_round_trip(script):
    assert from_yaml(to_yaml(script)) == script


@pytest.mark.parametrize("script", SCRIPTS)
def test_csv_round_trip(script):
    assert from_csv(to_csv(script), planned_total_s=script.planned_total_s) == script
    # the same file as bytes, the way an upload arrives
    assert from_csv(to_csv(script).encode("utf-8"), planned_total_s=script.planned_total_s) == script


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_templates_round_trip_through_csv_without_arguments(key):
    script = TEMPLATES[key][2]()
    assert script.planned_total_s is None  # a template has no slot; the show does
    assert from_csv(to_csv(script)) == script


def test_csv_carries_no_planned_total():
    assert from_csv(to_csv(HAND_MADE)).planned_total_s is None


def test_yaml_is_readable_with_chinese_and_mm_ss():
    text = to_yaml(HAND_MADE)
    assert "开场：欢迎家人们" in text and "\\u" not in text  # allow_unicode
    document = yaml.safe_load(text)
    assert document["planned_total"] == "2:00:00"
    first = document["segments"][0]
    assert list(first) == ["title", "kind", "duration", "talk_points", "notes", "cues"]
    assert first["duration"] == "05:00"
    assert first["cues"][1] == {"at": "00:30", "text": "开福袋", "audience": "controller"}
    assert document["segments"][2]["starts_at"] == "30:00"
    assert "talk_points: |" in text  # multi-line talk points as a literal block


def test_csv_has_a_bom_chinese_headers_and_one_row_per_segment():
    text = to_csv(HAND_MADE)
    assert text.startswith("\ufeff开始,时长,环节,类型,商品,话术,互动,备注,在线目标\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert len(rows) == 1 + len(HAND_MADE.segments)
    # running start; the flash sale's fixed start; the segment after runs on from it
    assert [row[0] for row in rows[1:]] == ["00:00", "05:00", "30:00", "33:00", "1:38:00"]
    assert rows[2][1:5] == ["15:00", "讲品：羊绒围巾", "讲品", "SCARF-001"]
    assert rows[2][6].split("\n") == ["00:00 功能演示", "08:00 上链接@场控", "10:00 报库存；提醒付款@主播",
                                      "14:00 感谢@小明的礼物"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused_and_restored():
    script = Script((Segment("=HYPERLINK(\"http://x\")", "product", 60, sku="@SUM(A1)", talk_points="- 第一条\n- 第二条",
                             notes="'=already quoted"),))
    rows = list(csv.reader(io.StringIO(to_csv(script).removeprefix("\ufeff"), newline="")))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][4] == "'@SUM(A1)" and rows[1][5].startswith("'- ")
    assert rows[1][7] == "''=already quoted"
    assert from_csv(to_csv(script)) == script


def test_a_cue_csv_cannot_hold_is_refused_on_export_not_changed():
    script = Script((Segment("讲品", "product", 600, cues=(Cue(0, "开福袋；05:00 再开一次"),)),))
    with pytest.raises(ValueError, match="segment 1"):
        to_csv(script)
    assert from_yaml(to_yaml(script)) == script  # YAML holds it


# --- what a spreadsheet hands back ------------------------------------------------------

SPREADSHEET = "\t".join(["环节", "时长", "开始", "备注", "负责人", "类型", "话术", "互动", "商品"]) + "\r\n" + "\r\n".join([
    "\t".join(["开场", "5:00", "0:00", "", "小王", "开场", "欢迎", "0:30 开福袋@场控", ""]),
    "\t".join(["讲品 A", "10:00", "5:00", "", "小李", "", "\"功能演示\n价格对比\"", "1:00 上链接 @controller；8:00 报库存@host; "
               "9:30 倒计时", "A-1"]),
    "",  # an empty row in the middle
    "\t".join(["整点秒杀", "3:00", "1:00:00", "准点开", "", "flash_sale", "", "\"00:00 倒计时\n0:10 上链接@全部\"", ""]),
    "\t".join(["互动", "02:00", "", "", "", "Interaction", "", "", ""]),
]) + "\r\n\t\t\t\t\t\t\t\t\r\n"  # a trailing row of empty cells


def test_a_csv_saved_by_a_spreadsheet_parses():
    script = from_csv(("\ufeff" + SPREADSHEET).encode("utf-8"))
    assert script == Script(segments=(
        Segment("开场", "opening", 300, talk_points="欢迎", cues=(Cue(30, "开福袋", "controller"),)),
        Segment("讲品 A", "product", 600, sku="A-1", talk_points="功能演示\n价格对比",
                cues=(Cue(60, "上链接", "controller"), Cue(480, "报库存", "host"), Cue(570, "倒计时"))),
        Segment("整点秒杀", "flash_sale", 180, notes="准点开", starts_at_s=3600,
                cues=(Cue(0, "倒计时"), Cue(10, "上链接", "both"))),
        Segment("互动", "interaction", 120),
    ))


def test_excel_unicode_text_and_chinese_windows_csv_parse():
    script = from_csv(SPREADSHEET)
    assert from_csv(SPREADSHEET.encode("utf-16")) == script  # Excel "Unicode 文本": UTF-16, tabs
    assert from_csv(SPREADSHEET.replace("\t", ",").encode("gb18030")) == script  # Excel CSV on 中文 Windows
    assert from_csv("\ufeff" + SPREADSHEET) == script


def test_english_headers_and_kind_names_are_accepted():
    text = "Segment,Duration,Kind,Talk Points,Start,Cues,SKU,Notes\nWelcome,1:00,Opening,hi,,0:10 wave@both,,\n" \
           "Quiz,2:00,Q&A,,,,,\n"
    assert from_csv(text) == Script((Segment("Welcome", "opening", 60, talk_points="hi", cues=(Cue(10, "wave"),)),
                                     Segment("Quiz", "qa", 120)))


def test_a_start_equal_to_the_running_clock_is_not_a_fixed_start():
    text = "开始,时长,环节\n00:00,05:00,开场\n05:00,10:00,讲品\n20:00,05:00,秒杀\n25:00,05:00,答疑\n"
    assert [segment.starts_at_s for segment in from_csv(text).segments] == [None, None, 1200, None]


# --- import errors ---------------------------------------------------------------------

def test_every_bad_row_of_a_csv_is_reported_with_row_and_column():
    text = "\ufeff环节,时长,类型,互动,备注\n" \
           "开场,05:00,opening,,\n" \
           "讲品,5分钟,product,,\n" \
           "秒杀,03:00,抽奖,,\n" \
           "答疑,02:00,qa,03:00 报库存；01:00 开福袋@老板娘；01:30 上链接@hots,\n" \
           ",01:00,break,,\n" \
           "收尾,7:00:00,closing,,\n" \
           "空,00:00,closing,,\n"
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv(text)
    assert excinfo.value.errors == [
        ImportProblem(3, "时长", "'5分钟' is not a duration (mm:ss)"),
        ImportProblem(4, "类型", excinfo.value.errors[1].message),
        ImportProblem(5, "互动", "cue 1 at 03:00 is past the end of the segment (02:00)"),
        ImportProblem(5, "互动", excinfo.value.errors[3].message),
        ImportProblem(6, "环节", "the segment needs a title"),
        ImportProblem(7, "时长", "7:00:00 is longer than 6:00:00"),
        ImportProblem(8, "时长", "the duration must be longer than 00:00"),
    ]
    assert "unknown kind '抽奖'" in excinfo.value.errors[1].message
    assert "unknown audience '@hots'" in excinfo.value.errors[3].message  # "@老板娘" is just text
    lines = str(excinfo.value).split("\n")
    assert lines[0] == "row 3, 时长: '5分钟' is not a duration (mm:ss)"
    assert len(lines) == 7 and lines[4] == "row 6, 环节: the segment needs a title"


def test_columns_are_named_as_written_in_the_file():
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv("Title,Duration\nA,five\n")
    assert excinfo.value.errors == [ImportProblem(2, "Duration", "'five' is not a duration (mm:ss)")]


def test_a_missing_required_column_is_reported_along_with_bad_rows():
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv("环节,类型,话术\n开场,opening,欢迎\n讲品,抽奖,\n")
    assert problems_of(excinfo) == {(1, "时长"), (3, "类型")}
    assert "row 1, 时长: the column is missing" in str(excinfo.value)


def test_cues_must_start_with_their_time():
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv("时长,环节,互动\n05:00,讲品,开福袋 00:30\n")
    assert excinfo.value.errors == [ImportProblem(2, "互动", "cue 1 '开福袋 00:30' does not start with its time (mm:ss 文本)")]


@pytest.mark.parametrize("cell, column", [("x" * 201, "环节"), ("y" * 5001, "话术")])
def test_text_limits(cell, column):
    header = "环节,时长,话术"
    row = f"{cell},01:00," if column == "环节" else f"讲品,01:00,{cell}"
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv(f"{header}\n{row}\n")
    assert problems_of(excinfo) == {(2, column)}
    # at the limit it is fine
    ok = f"{cell[:-1]},01:00," if column == "环节" else f"讲品,01:00,{cell[:-1]}"
    assert from_csv(f"{header}\n{ok}\n").segments[0].planned_s == 60


def test_too_many_segments_or_too_big_a_file():
    rows = "".join(f"段{i},00:10\n" for i in range(MAX_SEGMENTS + 1))
    with pytest.raises(ScriptImportError, match="more than 500"):
        from_csv("环节,时长\n" + rows)
    assert len(from_csv("环节,时长\n" + rows.split("\n", 1)[1]).segments) == MAX_SEGMENTS
    with pytest.raises(ScriptImportError, match="larger than 1 MB"):
        from_csv("环节,时长,备注\n讲品,01:00," + "备" * 400_000 + "\n")
    with pytest.raises(ScriptImportError, match="larger than 1 MB"):
        from_yaml("segments: []\n# " + "x" * (1024 * 1024))


def test_an_empty_file_is_an_error():
    for text in ("", "\ufeff", "\n\n"):
        with pytest.raises(ScriptImportError, match="empty"):
            from_csv(text)


def test_every_bad_segment_of_a_yaml_file_is_reported_with_segment_and_key():
    text = """
planned_total: 1:00:00
segments:
  - {title: 开场, kind: opening, duration: "05:00"}
  - {title: 讲品, kind: product, duration: 5分钟}
  - {title: 秒杀, kind: lottery, duration: "03:00"}
  - title: 答疑
    duration: "02:00"
    cues:
      - {at: "03:00", text: 报库存}
      - {at: "00:30", text: 开福袋, audience: boss}
  - {title: "", duration: "01:00"}
  - {title: 收尾, duraton: "01:00"}
"""
    with pytest.raises(ScriptImportError) as excinfo:
        from_yaml(text)
    assert problems_of(excinfo) == {(2, "duration"), (3, "kind"), (4, "cues"), (5, "title"), (6, "duraton"),
                                    (6, "duration")}
    assert len(excinfo.value.errors) == 7  # both cues of segment 4
    lines = str(excinfo.value).split("\n")
    assert lines[0] == "segment 2, duration: '5分钟' is not a duration (mm:ss or seconds)"
    assert "segment 4, cues: cue 1 at 03:00 is past the end of the segment (02:00)" in lines


def test_yaml_accepts_seconds_h_mm_ss_unquoted_times_and_a_bare_list():
    script = from_yaml("""
- title: 开场
  duration: 90          # seconds
  starts_at: 1:00:00    # h:mm:ss
  cues: [{at: 0:30, text: 开福袋, audience: controller}]
- {title: 讲品, kind: 讲品, duration: '10:00', sku: 10023}
""")
    assert script == Script((Segment("开场", "product", 90, starts_at_s=3600, cues=(Cue(30, "开福袋", "controller"),)),
                             Segment("讲品", "product", 600, sku="10023")))


@pytest.mark.parametrize("text, message", [
    ("segments: [\n", "not valid YAML (line"),
    ("just text", "expected a mapping"),
    ("segments: {a: 1}", "expected a list of segments"),
    ("planned_total: -5\nsegments: []", "is not a duration"),
    ("segments: [5]", "a segment must be a mapping"),
    ("segments: [{title: [a], duration: '01:00'}]", "must be text"),
])
def test_yaml_that_is_not_a_script(text, message):
    with pytest.raises(ScriptImportError, match=re.escape(message)):
        from_yaml(text)


def test_script_import_error_is_a_value_error_with_every_problem():
    error = ScriptImportError([ImportProblem(3, "时长", "bad"), ImportProblem(None, None, "also bad")])
    assert isinstance(error, ValueError)
    assert str(error) == "row 3, 时长: bad\nalso bad"
    assert str(ImportProblem(2, None, "x")) == "row 2: x"


# --- templates -------------------------------------------------------------------------

MATCHER, _ = default_matcher_and_suggestions()


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_is_a_valid_script(key):
    zh_name, en_name, factory = TEMPLATES[key]
    script = factory()
    assert zh_name and en_name and script.segments
    assert factory() == script and factory() is not script
    for segment in script.segments:
        assert segment.kind in SEGMENT_KINDS
        assert 0 < segment.planned_s <= 6 * 3600
        assert segment.title and segment.talk_points
        for cue in segment.cues:
            assert 0 <= cue.offset_s <= segment.planned_s, (segment.title, cue)
            assert cue.audience in AUDIENCES and cue.text
        # host prompts pass the advertising-law check they will meet in the editor
        for text in (segment.title, segment.talk_points, segment.notes, *(cue.text for cue in segment.cues)):
            assert check_script(text, MATCHER) == [], text


def test_hook_template_is_10_20_30_minutes():
    script = TEMPLATES["hook_10_20_30"][2]()
    assert [(s.kind, s.planned_s) for s in script.segments] == [("opening", 600), ("product", 1200), ("qa", 1800)]


def test_hourly_flash_sale_template():
    script = TEMPLATES["flash_sale_hourly"][2]()
    assert script.total_s == 3600
    kinds = [segment.kind for segment in script.segments]
    assert kinds[0] == "flash_sale"  # at the top of the hour
    assert kinds.count("flash_sale") == 3
    products = [i for i, kind in enumerate(kinds) if kind == "product"]
    assert all("interaction" in kinds[a:b] for a, b in zip(products, products[1:]))
    texts = {cue.text for segment in script.segments for cue in segment.cues}
    assert {"开福袋", "上链接", "报库存"} <= texts and any(text.startswith("倒计时") for text in texts)
    assert {cue.audience for segment in script.segments for cue in segment.cues} == set(AUDIENCES)


def test_product_block_has_the_four_steps_in_order_with_a_cue_at_each_start():
    script = TEMPLATES["product_block"][2]()
    assert tuple(segment.title for segment in script.segments) == PRODUCT_BLOCK_STEPS == (
        "功能演示", "使用场景", "价格对比", "限时福利")
    assert all(segment.cues and segment.cues[0].offset_s == 0 for segment in script.segments)
    assert "上链接" in [cue.text for cue in script.segments[3].cues]


def test_blank_rows_above_the_header_count_as_rows():
    text = "\r\n\t\t\r\n环节\t时长\t话术\r\n开场\t01:00\t\"欢迎\r\n关注\"\r\n讲品\t1分钟\t\r\n"
    with pytest.raises(ScriptImportError) as excinfo:
        from_csv(text)
    assert problems_of(excinfo) == {(5, "时长")}
    assert from_csv(text.replace("1分钟", "01:00")).segments[0].talk_points == "欢迎\n关注"
