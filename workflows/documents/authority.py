"""Who may sign a letter or a result, and the title lines over the signature that say so.

Decree 30/2020/NĐ-CP art. 13 and Phụ lục I (the "quyền hạn, chức vụ của người ký" part): the head
of the agency signs in their own title ("GIÁM ĐỐC"); a deputy signs for the head, "KT." (ký thay)
over their own title ("KT. GIÁM ĐỐC" / "PHÓ GIÁM ĐỐC"); the head of a unit signs the letters the
head of the agency gave them to sign "TL." (thừa lệnh: "TL. GIÁM ĐỐC" / "TRƯỞNG PHÒNG …"), or
"TUQ." (thừa ủy quyền) when authorised in writing. A clerk's or an officer's job name ("CÁN BỘ TIẾP
NHẬN", "CÁN BỘ TBT") is no authority: a letter or a result never carries it. The one-stop slips
keep the title their form prescribes (DocumentBody.signer_title: "NGƯỜI TIẾP NHẬN HỒ SƠ").

The director's title is a setting (``TDCFLOW_DIRECTOR_TITLE``); the authority of an officer of the
TBT inquiry point (who answers by the director's written authorisation: "TUQ. GIÁM ĐỐC" over the
position a setting names) is (check): Decision 46/2017/QĐ-TTg and Circular 16/2018/TT-BKHCN were
not found to say who signs the provincial inquiry point's answers.
"""

from __future__ import annotations

from collections.abc import Iterable

DIRECTOR = "GIÁM ĐỐC"
ON_BEHALF = ("KT. ", "TL. ", "TUQ. ")  # ký thay, thừa lệnh, thừa ủy quyền
# The first words of the title of the head of a unit of the department (check the department's
# organisation: a division, the office, the inspectorate, a centre).
_UNIT_HEADS = ("TRƯỞNG ", "CHÁNH ", "CHI CỤC TRƯỞNG", "GIÁM ĐỐC TRUNG TÂM")
# The roles whose officers answer for the inquiry point by the director's written authorisation.
AUTHORISED_ROLES = ("tbt_officer",)


class NoSigningAuthority(ValueError):
    """The signer holds no title that may sign a letter or a result."""


def _upper_lines(title: str) -> list[str]:
    return [" ".join(line.split()).upper() for line in title.splitlines() if line.strip()]


def authority_lines(title: str, director: str = DIRECTOR) -> tuple[str, ...]:
    """The title lines over the signature of a signer whose job title is ``title``.

    "GIÁM ĐỐC" → ("GIÁM ĐỐC",); "PHÓ GIÁM ĐỐC" → ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC");
    "TRƯỞNG PHÒNG X" → ("TL. GIÁM ĐỐC", "TRƯỞNG PHÒNG X"); "PHÓ TRƯỞNG PHÒNG X" →
    ("TL. GIÁM ĐỐC", "KT. TRƯỞNG PHÒNG X", "PHÓ TRƯỞNG PHÒNG X") (check: the decree's samples
    show TL. and KT. together for a unit's deputy). Lines already given ("TUQ. GIÁM ĐỐC\\n…") are
    kept when they start with KT./TL./TUQ. or are the director's. Anything else (a clerk's or an
    officer's job name, nothing) → :class:`NoSigningAuthority`.
    """
    director = " ".join(director.split()).upper() or DIRECTOR
    lines = _upper_lines(title)
    if len(lines) > 1:
        if lines[0].startswith(ON_BEHALF) or lines[0] == director:
            return tuple(lines)
        raise NoSigningAuthority(f"not a signing authority: {title!r}")
    job = lines[0] if lines else ""
    if job == director:
        return (director,)
    if job == f"PHÓ {director}":
        return (f"KT. {director}", job)
    if job.startswith(_UNIT_HEADS):
        return (f"TL. {director}", job)
    if job.startswith("PHÓ ") and job[4:].startswith(_UNIT_HEADS):
        return (f"TL. {director}", f"KT. {job[4:]}", job)
    raise NoSigningAuthority(f"not a signing authority: {title!r}")


def signer_authority(
    job_title: str, roles: Iterable[str], *, director: str = DIRECTOR, authorised_position: str = ""
) -> str:
    """The authority an officer signs a letter or a result with, as lines joined by "\\n"; "" when
    they hold none (the document then cannot be signed by them: :func:`authority_lines` refuses).

    A leader's job title gives it (:func:`authority_lines`); an officer of the inquiry point signs
    "TUQ. <director>" over ``authorised_position`` (check).
    """
    try:
        return "\n".join(authority_lines(job_title, director))
    except NoSigningAuthority:
        pass
    if authorised_position.strip() and any(role in AUTHORISED_ROLES for role in roles):
        return f"TUQ. {director.upper()}\n{authorised_position.strip().upper()}"
    return ""
