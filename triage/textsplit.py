"""Body text: HTML to readable text, and the split of what a sender wrote from
the quoted earlier mail and the signature.

Mail clients in Spanish, Portuguese and English mark a quoted reply in a handful
of ways: an attribution line ("El mar, 3 nov 2026 a las 10:02, Ana <…> escribió:",
"Em ter., 3 de nov. de 2026 … escreveu:", "On Tue, Nov 3, 2026 … wrote:"), an
Outlook separator ("-----Original Message-----" and its translations) or header
block ("De: … Enviado el: … Para: … Asunto: …"), or bare "> " quoting. The
libraries that split replies cover English well but not Portuguese, so the
rules live here, written for the three languages.

Everything here is pure and never raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import html_text
import lxml.etree
import lxml.html

# A line that introduces a quote: "... wrote:" in the three languages, with a
# date or an address somewhere before it so that ordinary prose is not caught.
_ATTRIBUTION_END = re.compile(
    r"(wrote|escribi[óo]|escreveu|a écrit|schrieb)\s*:\s*$", re.IGNORECASE
)
_ATTRIBUTION_EVIDENCE = re.compile(r"\d|@")
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|mensaje original|mensagem original|forwarded message"
    r"|mensaje reenviado|mensagem encaminhada|mensagem reencaminhada|reply message)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|de|von)\s*:\s*\*?\s*\S", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(sent|date|to|cc|subject|enviado el|enviado|enviada em|enviada|fecha|data|para"
    r"|asunto|assunto|objet|envoyé)\s*:",
    re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^\s*>")
_SIG_DASHES = re.compile(r"^--\s?$")
_SENT_FROM = re.compile(
    r"^\s*(sent from my|sent from outlook|sent from mail for|get outlook for|enviado desde mi"
    r"|enviado desde outlook|obtener outlook para|enviado do meu|enviado a partir do"
    r"|enviado de meu|obter o outlook para)\b",
    re.IGNORECASE,
)
_CLOSINGS = re.compile(
    r"^\s*(saludos( cordiales)?|un saludo|muchos saludos|atentamente|cordialmente|gracias"
    r"|muchas gracias|un abrazo|abrazos?|slds|atenciosamente|att|atte|abra[çc]os?|um abra[çc]o"
    r"|obrigad[oa]|cumprimentos|com os melhores cumprimentos|melhores cumprimentos"
    r"|best regards|kind regards|warm regards|regards|best|thanks|thank you|many thanks"
    r"|cheers|sincerely|yours sincerely|yours faithfully|br)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
# A sign-off block is short: the closing line and a few name/company/phone lines.
_MAX_SIGNOFF_LINES = 8
_MAX_SIGNOFF_LINE_LENGTH = 80


@dataclass(frozen=True, slots=True)
class SplitText:
    body: str
    quoted: str
    signature: str


def split_reply(text: str) -> SplitText:
    """Separate the sender's own text from the quoted mail and the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _quote_start(lines)
    own, quoted = lines[:start], lines[start:]
    kept: list[str] = []
    bare_quotes: list[str] = []
    for line in own:
        (bare_quotes if _QUOTED_LINE.match(line) else kept).append(line)
    quoted = bare_quotes + quoted
    body_lines, signature_lines = _split_signature(kept)
    return SplitText(
        body=_tidy(body_lines),
        quoted=_tidy(_unquote(quoted)),
        signature=_tidy(signature_lines),
    )


def _quote_start(lines: list[str]) -> int:
    """Index of the first line of a quoted earlier message, or ``len(lines)``."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line) or _is_attribution(line):
            return i
        # Gmail wraps a long attribution over two lines.
        if i + 1 < len(lines) and not _QUOTED_LINE.match(line) and line.strip():
            joined = line.rstrip() + " " + lines[i + 1].strip()
            if _is_attribution(joined) and not _ATTRIBUTION_END.search(line):
                return i
        if _is_header_block(lines, i):
            return i - 1 if i > 0 and _UNDERSCORES.match(lines[i - 1]) else i
    return len(lines)


def _is_attribution(line: str) -> bool:
    stripped = line.strip().lstrip(">").strip()
    return (
        len(stripped) < 300
        and bool(_ATTRIBUTION_END.search(stripped))
        and bool(_ATTRIBUTION_EVIDENCE.search(stripped))
    )


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style "From: … / Sent: … / To: …" block starting at line ``i``."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1 : i + 5] if line.strip()]
    return sum(1 for line in following if _HEADER_OTHER.match(line)) >= 1


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, line in enumerate(lines):
        if _SIG_DASHES.match(line) or _SENT_FROM.match(line):
            return lines[:i], lines[i:]
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return lines, []
    tail = content[-_MAX_SIGNOFF_LINES:]
    for i in tail:
        if i == content[0] or not _CLOSINGS.match(lines[i]):
            continue
        after = [lines[j] for j in content if j > i]
        if all(len(line.strip()) <= _MAX_SIGNOFF_LINE_LENGTH for line in after):
            return lines[:i], lines[i:]
    return lines, []


def _unquote(lines: list[str]) -> list[str]:
    return [re.sub(r"^\s*(> ?)+", "", line) for line in lines]


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- HTML -----------------------------------------------------------------

_QUOTE_XPATH = (
    "//blockquote[not(ancestor::blockquote)]"
    " | //div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    "[not(ancestor::blockquote)]"
    " | //div[@id='divRplyFwdMsg' or @id='appendonsend']"
)
_MARK = "TRIAGEQUOTEMARK{}X"


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body; quoted blocks come out as "> " lines."""
    if not markup.strip():
        return ""
    try:
        root = lxml.html.fromstring(markup)
    except (lxml.etree.ParserError, ValueError):
        return ""
    quotes: list[str] = []
    for element in root.xpath(_QUOTE_XPATH):
        if element.getparent() is None or _inside_marked(element):
            continue
        quoted = html_text.extract_text(element, guess_layout=True)
        quotes.append("\n".join("> " + line for line in quoted.split("\n")))
        marker = lxml.html.Element("p")
        marker.text = _MARK.format(len(quotes) - 1)
        marker.set("data-triage-mark", "1")
        # Outlook's reply header div is followed by the old message: mark the rest too.
        if element.get("id") in ("divRplyFwdMsg", "appendonsend"):
            _absorb_following(element, quotes)
        element.getparent().replace(element, marker)
    text = html_text.extract_text(root, guess_layout=True)
    for n, quoted in enumerate(quotes):
        text = text.replace(_MARK.format(n), "\n" + quoted + "\n")
    return text.strip()


def _inside_marked(element: lxml.html.HtmlElement) -> bool:
    return any(a.get("data-triage-mark") for a in element.iterancestors())


def _absorb_following(element: lxml.html.HtmlElement, quotes: list[str]) -> None:
    """Move everything after an Outlook reply header into its quote."""
    rest: list[str] = []
    for sibling in list(element.itersiblings()):
        rest.append(html_text.extract_text(sibling, guess_layout=True))
        sibling.getparent().remove(sibling)
    if rest:
        extra = "\n".join("> " + line for line in "\n".join(rest).split("\n"))
        quotes[-1] = quotes[-1] + "\n" + extra
