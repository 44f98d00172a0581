"""Names in the order Chinese readers expect: by surname in pinyin (拼音) order, then the given name, the
way a 名册 or a telephone book lists them, not by Unicode code point (which puts 张 before 李 before 王 at
random). ``sort_key(name)`` is stored in ``deputies.sort_name`` (set on every insert and rename, also by
the roster's bulk INSERT) so lists of 11,000 deputies sort and paginate in SQL.

The key is each character's pinyin with its tone number (pypinyin's TONE3; 5 for the neutral tone),
syllables separated by a space so that "li ming" < "lian ..." as in a dictionary; characters without
pinyin (Latin letters, digits) keep their own lower-case form. Surnames whose reading differs from the
character's usual one (单 Shàn, 曾 Zēng, 解 Xiè, 仇 Qiú ...) are read as surnames."""
from __future__ import annotations

from pypinyin import Style, lazy_pinyin

# Surname readings (多音字): the first character of a name, or the first two for a compound surname.
SURNAMES = {
    "万俟": "mo4 qi2", "尉迟": "yu4 chi2", "单于": "chan2 yu2",
    "单": "shan4", "曾": "zeng1", "解": "xie4", "仇": "qiu2", "朴": "piao2", "区": "ou1", "查": "zha1",
    "盖": "ge3", "乐": "yue4", "覃": "qin2", "召": "shao4", "缪": "miao4", "翟": "zhai2", "尉": "yu4",
    "繁": "po2", "员": "yun4", "种": "chong2", "长": "chang2", "重": "chong2", "秘": "bi4", "冼": "xian3",
    "句": "gou1", "宓": "fu2", "隗": "wei3", "牟": "mou2", "祭": "zhai4", "柏": "bai3", "褚": "chu3",
    "薄": "bo2", "卜": "bu3", "都": "du1", "藏": "zang4", "过": "guo1", "华": "hua4", "纪": "ji3",
    "那": "na1", "宁": "ning4", "任": "ren2", "沈": "shen3", "石": "shi2", "燕": "yan1", "叶": "ye4",
}
MAX_LENGTH = 160


def _syllables(text: str) -> list[str]:
    return [s.lower() for s in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                                            errors=lambda chars: [chars]) if s.strip()]


def sort_key(name: str | None) -> str:
    name = (name or "").strip()
    for length in (2, 1):
        surname = name[:length]
        if len(surname) == length and surname in SURNAMES:
            return " ".join([SURNAMES[surname], *_syllables(name[length:])])[:MAX_LENGTH]
    return " ".join(_syllables(name))[:MAX_LENGTH]
