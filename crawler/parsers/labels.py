"""The one table of label synonyms: which printed label feeds which record field.

Labels are compared after `text.normalize_label` (whitespace and a trailing colon removed,
widths folded). A label that maps to nothing here lands in `extra_fields`.
"""

from __future__ import annotations

import re
import unicodedata

from .text import normalize_label

# field -> the labels that print it. Keep each label in exactly one field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    # the record
    "raw_title": ("标题", "提案标题", "建议标题", "提案题目", "建议题目", "提案名称", "建议名称", "案题", "题目"),
    "number": ("编号", "提案编号", "建议编号", "提案号", "建议号", "案号", "提案序号", "建议序号"),
    "category": ("类型", "类别", "提案类型", "建议类型", "提案类别", "建议类别", "提案分类", "建议分类",
                 "内容分类", "案别"),
    "lead_sponsors": ("领衔人", "提案人", "领衔代表", "领衔委员", "提出人", "建议人", "第一提案人", "领衔提案人",
                      "提案者", "领衔者", "提出代表", "提出者", "代表姓名", "委员姓名", "提案单位", "领衔提出人",
                      "主提人", "提议人"),
    "co_sponsors": ("附议人", "附议代表", "联名人", "附议委员", "联名代表", "联名委员", "附议者", "联名提案人",
                    "附议人员", "联名者", "共同提出人", "其他提案人", "附议提案人", "附议"),
    "content": ("建议内容", "提案内容", "案由", "内容", "正文", "提案正文", "建议正文", "议案内容", "主要内容",
                "提案理由", "建议理由", "理由和建议", "理由及建议", "提案理由及建议", "案由及建议"),
    "lead_units": ("主办单位", "承办单位", "牵头单位", "主办部门", "承办部门", "牵头部门", "主承办单位",
                   "牵头办理单位", "主办单位(部门)", "办理单位"),
    "co_units": ("会办单位", "协办单位", "会办部门", "协办部门", "配合单位", "会办单位(部门)", "协办单位(部门)"),
    "reply": ("答复意见", "答复内容", "办理答复", "复文正文", "答复", "答复函", "答复正文", "复文", "复文内容",
              "回复内容", "回复意见", "办复意见", "办复内容", "答复全文"),
    "adoption": ("采纳情况", "办理结果", "答复类型", "采纳类型", "答复类别", "办理类别", "采纳结果", "采纳程度",
                 "办复类型", "办理结果类别", "答复分类", "结果类别"),
    "implementation_status": ("落实情况", "落实状态", "落实进度"),
    "impact_scope": ("影响范围",),
    "approved_by": ("审核通过单位", "审核单位"),
    # the 政府信息公开 header and the publish line
    "index_no": ("索引号",),
    "disclosure_category": ("组配分类",),
    "publisher": ("发布机构", "发布单位"),
    "generated_on": ("生成日期", "发文日期", "成文日期"),
    "disclosure_mode": ("公开方式", "公开形式"),
    "published_at": ("发布时间", "发布日期"),
    "source": ("信息来源", "文章来源"),
}

LABEL_TO_FIELD: dict[str, str] = {
    normalize_label(label): field for field, labels in SYNONYMS.items() for label in labels
}

# Fields a proposal page is recognised by: a page whose label rows name none of them is not one.
RECORD_FIELDS = frozenset({"lead_sponsors", "co_sponsors", "content", "lead_units", "co_units", "reply",
                           "adoption", "implementation_status", "impact_scope", "approved_by", "category"})
# Of those, the ones a page must name to be a label page: a class mark (`类别：B`) printed on a reply
# letter is not a proposal's row.
CORE_FIELDS = RECORD_FIELDS - {"adoption", "category"}
HEADER_FIELDS = frozenset({"index_no", "disclosure_category", "publisher", "generated_on", "disclosure_mode",
                           "published_at", "source"})

# Hanweb meta tags, read only where the page prints no value of its own.
META_FALLBACKS: dict[str, str] = {
    "ArticleTitle": "raw_title",
    "PubDate": "published_at",
    "ContentSource": "source",
    "ColumnName": "column",
}

_BRACKETED_TAIL_RE = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]$")
# 一、领衔人  1.领衔人  （一）领衔人  ①领衔人
_NUMBERED_HEAD_RE = re.compile(r"^(?:[(（]?[一二三四五六七八九十0-9]{1,3}[)）、.．]|[①-⑳])")


NUMBERED_FIRST = frozenset("(（一二三四五六七八九十0123456789①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳")


def field_for_label(label: str) -> str | None:
    """The field a normalised label feeds; `附议人（联名人）` and `一、领衔人` fall back to the plain label.

    A dictionary lookup; the patterns run only for labels that end in a bracket or start with a
    numbering character.
    """
    field = LABEL_TO_FIELD.get(label)
    if field is None and label.endswith((")", "）", "]", "】")):
        field = LABEL_TO_FIELD.get(_BRACKETED_TAIL_RE.sub("", label))
    if field is None and label and label[0] in NUMBERED_FIRST and _NUMBERED_HEAD_RE.match(label):
        field = field_for_label(_NUMBERED_HEAD_RE.sub("", label, count=1))
    return field


# --- the names of proposal columns (what `proposals sites discover` looks for in a site's navigation) ---

# A link whose text, folded (`fold_name`: widths folded, all whitespace and separators dropped), holds
# one of these names a column of 人大代表建议 / 政协委员提案 handling records.
COLUMN_NAMES: tuple[str, ...] = (
    "人大代表建议", "政协委员提案", "建议提案", "提案建议", "代表建议", "委员提案", "人大建议", "政协提案",
    "建议和提案", "建议及提案", "建议与提案", "提案和建议", "提案及建议", "议案建议", "建议提案复文", "提案复文",
    "建议复文", "提案答复", "建议答复", "提案办理",
)
# ... unless it also holds one of these: a mailbox, a petition office, a consultation is no such column.
NOT_COLUMN_NAMES: tuple[str, ...] = (
    "信箱", "信访", "留言", "征集", "咨询", "投诉", "调查", "民意", "意见箱", "在线访谈", "解读",
)
_NAME_SEPARATORS = str.maketrans("", "", "·•・、，,。.:：;；|/\\-_—–()（）[]【】<>《》“”\"'‘’")


def fold_name(text: str | None) -> str:
    """`人大代表　建议办理（2023）` -> `人大代表建议办理2023`: NFKC, no whitespace or separators."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).translate(_NAME_SEPARATORS)


_FOLDED_NAMES = tuple(fold_name(name) for name in COLUMN_NAMES)
_FOLDED_NOT = tuple(fold_name(name) for name in NOT_COLUMN_NAMES)


def column_name(text: str | None) -> str | None:
    """The proposal-column name a link text holds (as the table spells it), or None."""
    folded = fold_name(text)
    return next((name for name, key in zip(COLUMN_NAMES, _FOLDED_NAMES, strict=True) if key in folded), None)


def excluded_name(text: str | None) -> str | None:
    """The word that makes a link text no proposal column (信箱, 信访 …), or None."""
    folded = fold_name(text)
    return next((name for name, key in zip(NOT_COLUMN_NAMES, _FOLDED_NOT, strict=True) if key in folded), None)
