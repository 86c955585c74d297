"""What the sender wrote, kept apart from the quote and the signature."""

from __future__ import annotations

import pytest

from triage.textsplit import html_to_text, split_reply

QUOTE_STYLES = {
    "gmail_es": "El mar, 3 nov 2026 a las 10:02, Ana Ruiz <ana@agency.example> escribió:",
    "gmail_es_no_accent": "El mar, 3 nov 2026 a las 10:02, Ana Ruiz <ana@agency.example> escribio:",
    "apple_es": "El 3 nov 2026, a las 10:02, Ana Ruiz <ana@agency.example> escribió:",
    "gmail_pt": "Em ter., 3 de nov. de 2026 às 10:02, Ana Ruiz <ana@agency.example> escreveu:",
    "gmail_en": "On Tue, Nov 3, 2026 at 10:02 AM Ana Ruiz <ana@agency.example> wrote:",
    "outlook_en": "-----Original Message-----\nFrom: Ana Ruiz <ana@agency.example>\n"
                  "Sent: Tuesday, November 3, 2026 10:02 AM",
    "outlook_es_separator": "-----Mensaje original-----\nDe: Ana Ruiz",
    "outlook_pt_separator": "-----Mensagem original-----\nDe: Ana Ruiz",
    "outlook_block_es": "________________________________\nDe: Ana Ruiz <ana@agency.example>\n"
                        "Enviado el: martes, 3 de noviembre de 2026 10:02\n"
                        "Para: cliente@empresa.example\nAsunto: Mantenimiento",
    "outlook_block_pt": "De: Ana Ruiz <ana@agency.example>\nEnviada em: terça-feira, 3 de "
                        "novembro de 2026 10:02\nPara: cliente@empresa.example\nAssunto: Aviso",
    "outlook_block_en": "From: Ana Ruiz <ana@agency.example>\nSent: Tuesday, 3 November 2026 "
                        "10:02\nTo: client@company.example\nSubject: Maintenance",
}


@pytest.mark.parametrize("style", sorted(QUOTE_STYLES))
def test_quote_styles_are_split_off(style: str) -> None:
    text = (
        "Nadie nos avisó del corte de anoche.\nQueremos una explicación.\n\n"
        + QUOTE_STYLES[style]
        + "\n\n> Les informamos de una ventana de mantenimiento programado.\n> Un saludo\n"
    )
    split = split_reply(text)
    assert split.body == "Nadie nos avisó del corte de anoche.\nQueremos una explicación."
    assert "ventana de mantenimiento programado" in split.quoted
    assert "ventana de mantenimiento" not in split.body


def test_gmail_wraps_a_long_attribution_over_two_lines() -> None:
    text = (
        "You said this was fixed last week.\n\n"
        "On Tue, Nov 3, 2026 at 10:02 AM Ana Ruiz from the Agency Support Team <\n"
        "ana@agency.example> wrote:\n\n> The fix is deployed.\n"
    )
    split = split_reply(text)
    assert split.body == "You said this was fixed last week."
    assert "The fix is deployed." in split.quoted
    assert "Agency Support Team" in split.quoted


def test_bare_quoting_keeps_text_written_below_and_between() -> None:
    text = "> When will the invoice be paid?\nNext week, I am travelling.\n> Thanks\nSorry."
    split = split_reply(text)
    assert split.body == "Next week, I am travelling.\nSorry."
    assert split.quoted == "When will the invoice be paid?\nThanks"


def test_a_sentence_ending_in_wrote_is_not_a_quote() -> None:
    text = "Look at what your colleague wrote:\nit says the site would be up."
    assert split_reply(text).body == text


@pytest.mark.parametrize("line", [
    "Sent from my iPhone", "Enviado desde mi iPhone", "Enviado do meu iPhone",
    "Sent from Outlook for Android", "Obtener Outlook para Android",
])
def test_mobile_signatures(line: str) -> None:
    split = split_reply(f"Please call me back today.\n\n{line}")
    assert split.body == "Please call me back today."
    assert split.signature == line


def test_dash_dash_signature() -> None:
    split = split_reply("O site caiu de novo.\n\n-- \nJoão Silva\nLoja Boa Vista\n(11) 5555-0000")
    assert split.body == "O site caiu de novo."
    assert split.signature.startswith("--")
    assert "Loja Boa Vista" in split.signature


@pytest.mark.parametrize(("closing", "lang"), [
    ("Saludos,", "es"), ("Atenciosamente,", "pt"), ("Best regards,", "en"), ("Abraços", "pt"),
])
def test_sign_off_blocks(closing: str, lang: str) -> None:
    text = f"The invoice 2231 is wrong, it charges twice.\n\n{closing}\nMaria Lopes\nAcme Ltd"
    split = split_reply(text)
    assert split.body == "The invoice 2231 is wrong, it charges twice."
    assert split.signature.splitlines()[0] == closing


def test_a_closing_followed_by_long_prose_is_not_a_signature() -> None:
    text = ("Hello,\nThanks,\nbut this is a long sentence that goes on well past what any "
            "signature line would ever be, so it is the client's text.")
    assert split_reply(text).signature == ""


def test_a_message_that_is_only_a_closing_is_kept_as_body() -> None:
    assert split_reply("Thanks!").body == "Thanks!"


def test_html_paragraphs_entities_and_scripts() -> None:
    markup = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
        "<body><p>Buenos d&iacute;as,</p><p>La factura es de 120&nbsp;&euro;.</p>"
        "<table><tr><td>Total</td><td>120</td></tr></table></body></html>"
    )
    text = html_to_text(markup)
    assert "Buenos días," in text
    assert "120\xa0€" in text or "120 €" in text
    assert "alert" not in text and "color" not in text
    assert "Total" in text


def test_html_blockquote_becomes_a_quote() -> None:
    markup = (
        "<div>Ya pagué, revisen.</div>"
        "<div class='gmail_quote'><div class='gmail_attr'>El lun, 2 nov 2026 a las 9:00, "
        "Billing &lt;billing@agency.example&gt; escribió:</div>"
        "<blockquote>Le recordamos que la factura FAC-77 vence hoy.</blockquote></div>"
    )
    split = split_reply(html_to_text(markup))
    assert split.body == "Ya pagué, revisen."
    assert "la factura FAC-77 vence hoy" in split.quoted


def test_broken_html_gives_text_or_nothing_but_never_raises() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<<<>>>") in ("", "<<<>>>")
    assert "hola" in html_to_text("<p>hola<div><b>sin cerrar")
