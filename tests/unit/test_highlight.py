"""Highlighting moderation hits never lets a stranger's text become markup, even when the
hit itself spans the markup the viewer typed."""

from __future__ import annotations

from controlroom.moderation.live import default_tagger
from controlroom.web.render import highlight


def test_a_hit_spanning_typed_markup_stays_text():
    text = '假<"/>货 <script>alert(2)</script>'
    hits = default_tagger()(text)
    assert [h[2] for h in hits] == ["doubt"]  # 假…货: the symbols in between are skipped
    html = str(highlight(text, hits))
    assert "<script" not in html and '<"/>' not in html
    assert html.startswith('<mark class="hit" data-category="doubt">假&lt;&#34;/&gt;货</mark>')
    assert html.endswith("&lt;script&gt;alert(2)&lt;/script&gt;")


def test_a_hostile_category_name_is_escaped_too():
    html = str(highlight("假货", [(0, 2, '"><svg onload=alert(1)>')]))
    assert "<svg" not in html and 'data-category="&#34;&gt;&lt;svg onload=alert(1)&gt;"' in html


def test_overlapping_or_stale_hits_leave_the_text_escaped():
    html = str(highlight("<b>好</b>", [(0, 99, "doubt"), (1, 2, "abuse"), (0, 1, "abuse")]))
    assert html.count("<mark") == 2 and "<b>" not in html
