#!/usr/bin/env python3
"""Regenerate the raw e-mail fixtures in this directory and expected.json.

Every fixture is built byte by byte (explicit headers, explicit
quoted-printable / base64 / 8bit encoding of the body in the declared
charset), so the files look like what a mail server stores on disk.
The script is deterministic: no clock, no randomness without a fixed seed,
no dependency on dict ordering of anything external.

    python3 tests/data/mail/make_fixtures.py

All names, companies, addresses and texts are invented.  Domains use the
reserved .example TLD (or example.com) so nothing points at a real mailbox.
"""
import base64
import hashlib
import json
import os
import quopri
import struct
import zlib
from datetime import timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime

HERE = os.path.dirname(os.path.abspath(__file__))

ANA = 'Ana Ruiz <ana@agency.example>'
ANA_ADDR = 'ana@agency.example'
BILLING = 'billing@agency.example'

FIXTURES = {}  # file name -> (bytes, manifest entry)


def add(name, data, **meta):
    assert name not in FIXTURES, name
    assert name.endswith('.eml'), name
    meta.setdefault('unreadable', False)
    FIXTURES[name] = (data, meta)


# ---------------------------------------------------------------------------
# deterministic identifiers
# ---------------------------------------------------------------------------

def _digest(seed):
    return hashlib.sha256(seed.encode('utf-8')).digest()


def _hex(seed, n):
    return hashlib.sha256(seed.encode('utf-8')).hexdigest()[:n]


def gmail_id(seed):
    d = _digest(seed) + _digest(seed + '/2')[:10]
    s = base64.b64encode(d).decode('ascii').rstrip('=').replace('/', '_')
    return '<CA%s@mail.gmail.com>' % s[:54]


def outlook_id(seed, host='AM9PR06MB7341', region='eurprd06'):
    return '<%s%s@%s.%s.prod.outlook.com>' % (
        host, _hex(seed, 32).upper(), host, region)


def uuid_id(seed, domain, upper=False):
    h = _hex(seed, 32)
    u = '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
    if upper:
        u = u.upper()
    return '<%s@%s>' % (u, domain)


def ana_id(seed):
    """Message-ID of the agency's original message in a thread."""
    return '<20261103090200.%s@agency.example>' % _hex('agency/' + seed, 12).upper()


# ---------------------------------------------------------------------------
# encoding helpers
# ---------------------------------------------------------------------------

def encode_body(text, charset, cte):
    raw = text.encode(charset) if isinstance(text, str) else text
    if cte == '7bit':
        assert all(b < 128 for b in raw), 'non-ASCII in 7bit body'
        return raw
    if cte in ('8bit', 'binary'):
        return raw
    if cte == 'quoted-printable':
        return quopri.encodestring(raw)
    if cte == 'base64':
        return base64.encodebytes(raw)
    raise ValueError(cte)


def _q_tokens(s, charset):
    toks = []
    for ch in s:
        enc = ''
        for b in ch.encode(charset):
            c = chr(b)
            if b < 128 and (c.isalnum() or c in '!*+-/'):
                enc += c
            elif c == ' ':
                enc += '_'
            else:
                enc += '=%02X' % b
        toks.append(enc)
    return toks


def ew_q(s, charset='utf-8', label='UTF-8', maxlen=75):
    """RFC 2047 Q encoded-word(s), folded with CRLF-SPACE (written as LF)."""
    prefix, suffix = '=?%s?Q?' % label, '?='
    words, cur = [], ''
    for t in _q_tokens(s, charset):
        if cur and len(prefix) + len(cur) + len(t) + len(suffix) > maxlen:
            words.append(prefix + cur + suffix)
            cur = ''
        cur += t
    words.append(prefix + cur + suffix)
    return '\n '.join(words)


def ew_b(s, charset='utf-8', label='UTF-8', maxlen=75):
    """RFC 2047 B encoded-word(s)."""
    prefix, suffix = '=?%s?B?' % label, '?='

    def word(x):
        return prefix + base64.b64encode(x.encode(charset)).decode('ascii') + suffix

    words, cur = [], ''
    for ch in s:
        if cur and len(word(cur + ch)) > maxlen:
            words.append(word(cur))
            cur = ''
        cur += ch
    words.append(word(cur))
    return '\n '.join(words)


def subj(s, **kw):
    """Subject value: raw if ASCII, otherwise Q encoded-words."""
    if all(ord(c) < 128 for c in s):
        return s
    return ew_q(s, **kw)


def addr(name, address, enc=None, **kw):
    if name is None:
        return address
    if enc == 'q':
        return '%s <%s>' % (ew_q(name, **kw), address)
    if enc == 'b':
        return '%s <%s>' % (ew_b(name, **kw), address)
    assert all(ord(c) < 128 for c in name)
    if any(c in name for c in ',.;:()"@'):
        return '"%s" <%s>' % (name.replace('"', '\\"'), address)
    return '%s <%s>' % (name, address)


# ---------------------------------------------------------------------------
# message assembly
# ---------------------------------------------------------------------------

CET = timezone(timedelta(hours=1))


def received_date(date_value, delay=3):
    dt = parsedate_to_datetime(date_value) + timedelta(seconds=delay)
    return format_datetime(dt.astimezone(CET)) + ' (CET)'


def trace(sender, helo, ip, rdate, rcpt=ANA_ADDR, seed=''):
    """Return-Path / Delivered-To / Received as added by the agency's MX."""
    qid = _hex(seed or sender + rdate, 10).upper()
    return [
        ('Return-Path', '<%s>' % sender),
        ('Delivered-To', rcpt),
        ('Received', 'from %s (%s [%s])\n\tby mx.agency.example (Postfix) '
                     'with ESMTPS id %s\n\tfor <%s>; %s'
         % (helo, helo, ip, qid, rcpt, rdate)),
    ]


def headers_bytes(headers):
    lines = []
    for name, value in headers:
        if name is None:          # a raw (possibly broken) header line
            lines.append(value)
        else:
            lines.append('%s: %s' % (name, value))
    data = '\n'.join(lines) + '\n'
    return data.encode('ascii')


def part(headers, body):
    return headers_bytes(headers) + b'\n' + body


def multipart(boundary, parts, preamble=None, closed=True):
    b = boundary.encode('ascii')
    out = b''
    if preamble is not None:
        out += preamble.encode('ascii') + b'\n'
    for i, p in enumerate(parts):
        out += b'\n--' + b + b'\n' if (i or preamble is not None) else b'--' + b + b'\n'
        out += p
    if closed:
        out += b'\n--' + b + b'--\n'
    return out


def message(headers, body, crlf=False):
    data = headers_bytes(headers) + b'\n' + body
    if crlf:
        assert b'\r' not in data
        data = data.replace(b'\n', b'\r\n')
    return data


def text_headers(subtype='plain', charset='UTF-8', cte='quoted-printable', extra=''):
    return [('Content-Type', 'text/%s; charset="%s"%s' % (subtype, charset, extra)),
            ('Content-Transfer-Encoding', cte)]


def single_text(headers, text, charset='utf-8', label='UTF-8', cte='quoted-printable',
                subtype='plain', crlf=False, mime_version='1.0'):
    hs = list(headers) + [('MIME-Version', mime_version)] + text_headers(subtype, label, cte)
    return message(hs, encode_body(text, charset, cte), crlf=crlf)


# ---------------------------------------------------------------------------
# small deterministic binary attachments
# ---------------------------------------------------------------------------

def fake_pdf(title):
    t = title.encode('ascii')
    stream = b'BT /F1 18 Tf 72 720 Td (' + t + b') Tj ET'
    body = (b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'
            b'1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'
            b'2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n'
            b'3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] '
            b'/Contents 4 0 R >>\nendobj\n'
            b'4 0 obj\n<< /Length ' + str(len(stream)).encode() + b' >>\nstream\n'
            + stream + b'\nendstream\nendobj\n'
            b'trailer\n<< /Root 1 0 R >>\n%%EOF\n')
    return body


def tiny_png(w=8, h=6, rgb=(200, 40, 40)):
    raw = b''.join(b'\x00' + bytes(rgb) * w for _ in range(h))
    # zlib stream with a single stored (uncompressed) block: fully deterministic
    z = (b'\x78\x01' + b'\x01' + struct.pack('<HH', len(raw), len(raw) ^ 0xFFFF)
         + raw + struct.pack('>I', zlib.adler32(raw) & 0xFFFFFFFF))

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', z) + chunk(b'IEND', b''))


def fake_jpeg(seed):
    filler = b''.join(_digest(seed + str(i)) for i in range(8))
    return (b'\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
            + b'\xff\xfe\x00\x0efake capture' + filler + b'\xff\xd9')


def garbage(seed, n):
    out = b''
    i = 0
    while len(out) < n:
        out += _digest('%s:%d' % (seed, i))
        i += 1
    return out[:n]


# ===========================================================================
# SPANISH
# ===========================================================================

def es_plain_utf8_8bit():
    date = 'Wed, 4 Nov 2026 08:47:12 +0100'
    mid = uuid_id('es_plain_utf8_8bit', 'panaderiagil.example')
    text = """\
Hola Ana:

Os escribo porque la página de la panadería lleva caída desde las siete
de la mañana. Al entrar sale un error 502 y los clientes no pueden hacer
pedidos para el fin de semana.

Es la segunda vez este mes y la verdad es que estoy bastante molesta.
Pagamos el mantenimiento precisamente para que esto no pase.

¿Podéis mirarlo hoy mismo y decirme qué ha ocurrido?

Gracias,
Marta Gil
Panadería Gil
"""
    hs = trace('marta@panaderiagil.example', 'smtp.panaderiagil.example', '198.51.100.23',
               received_date(date)) + [
        ('Message-ID', mid),
        ('Date', date),
        ('MIME-Version', '1.0'),
        ('User-Agent', 'Mozilla Thunderbird'),
        ('Content-Language', 'es-ES'),
        ('To', ANA),
        ('From', 'Marta Gil <marta@panaderiagil.example>'),
        ('Subject', subj('La web sigue caída desde esta mañana')),
        ('Content-Type', 'text/plain; charset=UTF-8'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('es_plain_utf8_8bit.eml', message(hs, text.encode('utf-8')),
        **{'from': 'marta@panaderiagil.example',
           'subject': 'La web sigue caída desde esta mañana',
           'message_id': mid,
           'date': '2026-11-04T07:47:12+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['lleva caída desde las siete', 'sale un error 502',
                             'estoy bastante molesta', '¿Podéis mirarlo hoy mismo'],
           'automated': False,
           'note': 'Baseline: single text/plain part, UTF-8, 8bit, LF line endings, complaint.'})


def es_latin1_qp():
    date = 'Thu, 5 Nov 2026 12:15:40 +0100'
    mid = outlook_id('es_latin1_qp', 'PAXPR02MB7712', 'eurprd02')
    text = """\
Buenos días:

Os escribo en relación con la factura 2026-118 de septiembre. Este mes
vamos muy justos de tesorería porque un cliente grande nos ha pagado con
dos meses de retraso, así que no podremos abonarla hasta el día 20.

Si os parece bien, pagamos la mitad la semana que viene y el resto a
finales de mes. Siento mucho las molestias; nunca nos había pasado.

Un saludo,
Javier Ortega
Talleres Ortega, S.L.
"""
    hs = trace('jortega@talleresortega.example', 'mail.talleresortega.example',
               '203.0.113.41', received_date(date), rcpt=BILLING) + [
        ('From', 'Javier Ortega <jortega@talleresortega.example>'),
        ('To', '<billing@agency.example>'),
        ('CC', ANA),
        ('Subject', 'Retraso en el pago de la factura 2026-118'),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
        ('Thread-Index', 'AdtOAbcdEfGh1234IjKlMnOpQrStUv=='),
        ('Content-Language', 'es'),
    ]
    add('es_latin1_qp.eml',
        single_text(hs, text, 'iso-8859-1', 'iso-8859-1', 'quoted-printable'),
        **{'from': 'jortega@talleresortega.example',
           'subject': 'Retraso en el pago de la factura 2026-118',
           'message_id': mid,
           'date': '2026-11-05T11:15:40+00:00',
           'to': [BILLING], 'cc': [ANA_ADDR],
           'body_contains': ['vamos muy justos de tesorería',
                             'no podremos abonarla hasta el día 20',
                             'pagamos la mitad la semana que viene'],
           'automated': False,
           'note': 'ISO-8859-1 text/plain, quoted-printable (=E1 style escapes), payment excuse, Cc header.'})


def es_cp1252_8bit_curly_euro():
    date = 'Wed, 4 Nov 2026 16:20:03 +0100'
    mid = outlook_id('es_cp1252', 'DB7PR03MB4821', 'eurprd03')
    text = """\
Hola Ana,

He revisado el presupuesto que nos mandasteis y hay una línea que no
entiendo: “mantenimiento evolutivo” por 1.250 € al año. En la reunión
hablamos de 600 € como máximo…

Además, el apartado ‘hosting premium’ aparece dos veces – una en la
página 2 y otra en la 4. ¿Es un error o son dos cosas distintas?

Antes de firmar necesito que me lo aclaréis, por favor.

Lucía Fernández
Clínica Dental Sonrisa
"""
    subject = 'Duda sobre el presupuesto de 1.250 €'
    hs = trace('lucia@clinicasonrisa.example', 'mail.clinicasonrisa.example',
               '198.51.100.77', received_date(date)) + [
        ('From', addr('Lucía Fernández', 'lucia@clinicasonrisa.example', 'q',
                      charset='cp1252', label='windows-1252')),
        ('To', '"Ana Ruiz" <ana@agency.example>'),
        ('Subject', ew_q(subject, charset='cp1252', label='windows-1252')),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
    ]
    add('es_cp1252_8bit_curly_euro.eml',
        single_text(hs, text, 'cp1252', 'windows-1252', '8bit', crlf=True),
        **{'from': 'lucia@clinicasonrisa.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-04T15:20:03+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['“mantenimiento evolutivo” por 1.250 € al año',
                             'hablamos de 600 € como máximo…',
                             'el apartado ‘hosting premium’ aparece dos veces'],
           'automated': False,
           'note': 'windows-1252 8bit body with curly quotes (0x93/0x94/0x91/0x92), euro 0x80, '
                   'ellipsis and en dash; windows-1252 Q-encoded Subject and From name; CRLF.'})


def es_html_only_entities():
    date = 'Wed, 4 Nov 2026 17:30:05 +0100'
    mid = uuid_id('es_html_only', 'floristeriaazahar.example')
    html = """\
<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css">
body { font-family: Arial, sans-serif; font-size: 14px; }
.precio { color: #c0392b; font-weight: bold; }
/* estilos internos del editor de correo */
</style>
<script type="text/javascript">
var nota = "seguimiento interno del editor";
document.write("contenido generado por script");
</script>
</head>
<body>
<p>Hola Ana,</p>
<p>Te paso los precios nuevos para la p&aacute;gina de ramos. Por favor,
cambiadlos antes del viernes porque empezamos la campa&ntilde;a de oto&ntilde;o.</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Producto</th><th>Precio</th></tr>
<tr><td>Ramo de temporada</td><td class="precio">35&nbsp;&euro;</td></tr>
<tr><td>Centro de mesa</td><td class="precio">48&nbsp;&euro;</td></tr>
<tr><td>Corona de flores secas</td><td class="precio">120&nbsp;&euro;</td></tr>
</table>
<p>Tambi&eacute;n quiero quitar la secci&oacute;n de &laquo;bodas&raquo;,<br>
ya no trabajamos con ese servicio.<br>
Muchísimas gracias por todo.</p>
<p>Roc&iacute;o<br>Floristería Azahar</p>
</body></html>
"""
    hs = trace('rocio.martin@floristeriaazahar.example', 'webmail.floristeriaazahar.example',
               '203.0.113.9', received_date(date)) + [
        ('Date', date),
        ('From', addr('Rocío Martín', 'rocio.martin@floristeriaazahar.example', 'q')),
        ('To', ANA_ADDR),
        ('Subject', 'Cambios en la tabla de precios de la web'),
        ('Message-ID', mid),
        ('X-Mailer', 'Webmail 8.2'),
    ]
    add('es_html_only_entities.eml',
        single_text(hs, html, 'utf-8', 'utf-8', 'quoted-printable', subtype='html'),
        **{'from': 'rocio.martin@floristeriaazahar.example',
           'subject': 'Cambios en la tabla de precios de la web',
           'message_id': mid,
           'date': '2026-11-04T16:30:05+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['cambiadlos antes del viernes', 'empezamos la campaña de otoño',
                             'quitar la sección de «bodas»', 'ya no trabajamos con ese servicio',
                             'Ramo de temporada', 'Muchísimas gracias por todo'],
           'body_excludes': ['seguimiento interno del editor', 'contenido generado por script',
                             'estilos internos del editor', 'font-family: Arial, sans-serif'],
           'automated': False,
           'note': 'HTML-only (no text/plain), QP UTF-8: <p>, <br>, <table>, entities '
                   '(&aacute; &ntilde; &euro; &laquo; &nbsp;), raw UTF-8 too; <style>/<script> must be dropped.'})


def es_mixed_pdf_jpg_rfc2231():
    date = 'Thu, 5 Nov 2026 09:41:27 +0100'
    mid = uuid_id('es_mixed', 'navarroabogados.example')
    boundary = '------------Xp3QmT0rWbYc8sLnVd2hKe4u'
    text = """\
Hola Ana,

Adjunto la factura que nos enviasteis con los datos fiscales corregidos a
mano. El CIF que aparece no es el nuestro y la dirección es la antigua.

También os mando una captura del error que sale en el formulario de
contacto al pulsar «Enviar».

¿Me podéis mandar la factura rectificada esta semana?

Sergio Navarro
"""
    pdf_name_enc = "UTF-8''factura_oto%C3%B1o_2026.pdf"
    parts = [
        part(text_headers('plain', 'UTF-8', 'quoted-printable'),
             encode_body(text, 'utf-8', 'quoted-printable')),
        part([('Content-Type', "application/pdf; name*=%s" % pdf_name_enc),
              ('Content-Disposition', "attachment; filename*=%s" % pdf_name_enc),
              ('Content-Transfer-Encoding', 'base64')],
             base64.encodebytes(fake_pdf('Factura 2026-121 corregida'))),
        part([('Content-Type', 'image/jpeg; name="captura_error.jpg"'),
              ('Content-Disposition', 'attachment; filename="captura_error.jpg"'),
              ('Content-Transfer-Encoding', 'base64')],
             base64.encodebytes(fake_jpeg('captura'))),
    ]
    body = multipart(boundary, parts, preamble='This is a multi-part message in MIME format.')
    hs = trace('sergio@navarroabogados.example', 'smtp.navarroabogados.example',
               '198.51.100.140', received_date(date)) + [
        ('Content-Type', 'multipart/mixed; boundary="%s"' % boundary),
        ('Message-ID', mid),
        ('Date', date),
        ('MIME-Version', '1.0'),
        ('User-Agent', 'Mozilla Thunderbird'),
        ('Content-Language', 'es-ES'),
        ('To', ANA),
        ('From', 'Sergio Navarro <sergio@navarroabogados.example>'),
        ('Subject', 'Factura rectificada y foto del error'),
    ]
    add('es_mixed_pdf_jpg_rfc2231.eml', message(hs, body),
        **{'from': 'sergio@navarroabogados.example',
           'subject': 'Factura rectificada y foto del error',
           'message_id': mid,
           'date': '2026-11-05T08:41:27+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['El CIF que aparece no es el nuestro', 'captura del error que sale',
                             'la factura rectificada esta semana'],
           'attachments': ['factura_otoño_2026.pdf', 'captura_error.jpg'],
           'automated': False,
           'note': 'multipart/mixed: QP text + PDF with RFC 2231 UTF-8 filename* + JPEG; preamble text.'})


def es_gmail_reply_qp():
    date = 'Tue, 3 Nov 2026 13:25:48 +0100'
    mid = gmail_id('es_gmail_reply_qp')
    orig = gmail_id('es_gmail_reply_qp/original')
    ana = ana_id('es_gmail_reply_qp')
    text = """\
Hola Ana,

Me gusta mucho la segunda propuesta, pero el verde del menú es demasiado
chillón. ¿Se podría probar con un tono más oscuro, tipo botella?

Lo del carrito en una sola página me parece perfecto. Adelante con eso.

Un abrazo,
Carlos

El mar, 3 nov 2026 a las 10:02, Ana Ruiz <ana@agency.example> escribió:

> Hola Carlos:
>
> Te envío las dos propuestas de diseño para la tienda. La primera mantiene
> la estructura actual y la segunda reorganiza el catálogo por categorías.
>
> Si te encaja alguna, la semana que viene empezamos a maquetar.
>
> Un saludo,
> Ana Ruiz
> agency.example
>
"""
    hs = trace('carlos.mendez.obras@example.com', 'mail-ej1-f52.example.com', '192.0.2.52',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('References', '%s %s' % (orig, ana)),
        ('In-Reply-To', ana),
        ('From', addr('Carlos Méndez', 'carlos.mendez.obras@example.com', 'q')),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', subj('Re: Propuesta de rediseño de la tienda')),
        ('To', ANA),
        ('Content-Type', 'text/plain; charset="UTF-8"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('es_gmail_reply_qp.eml', message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'carlos.mendez.obras@example.com',
           'subject': 'Re: Propuesta de rediseño de la tienda',
           'message_id': mid,
           'date': '2026-11-03T12:25:48+00:00',
           'in_reply_to': ana, 'references': [orig, ana],
           'to': [ANA_ADDR],
           'body_contains': ['el verde del menú es demasiado', 'tono más oscuro, tipo botella',
                             'carrito en una sola página'],
           'body_excludes': ['Te envío las dos propuestas de diseño',
                             'la semana que viene empezamos a maquetar'],
           'quoted_contains': ['Te envío las dos propuestas de diseño',
                               'reorganiza el catálogo por categorías'],
           'automated': False,
           'note': 'Gmail plain-text reply in Spanish, QP UTF-8, "El mar, 3 nov 2026 a las 10:02, ... escribió:" '
                   'attribution (QP soft-wrapped) followed by "> " quote.'})


def es_outlook_mensaje_original():
    date = 'Tue, 3 Nov 2026 17:58:02 +0100'
    mid = outlook_id('es_outlook_mensaje_original', 'VI1PR08MB5533', 'eurprd08')
    ana = ana_id('es_outlook_mensaje_original')
    text = """\
Ana, buenas tardes:

Sigo sin poder entrar al panel. He probado a restablecer la contraseña
tres veces y el correo de recuperación no llega, ni siquiera a spam.

Mañana a primera hora tenemos que publicar la circular de la renta, así
que es urgente.

Teresa Lozano
Asesoría Lozano
Tel. 91 000 00 00

-----Mensaje original-----
De: Ana Ruiz <ana@agency.example>
Enviado el: martes, 3 de noviembre de 2026 10:02
Para: Teresa Lozano <tlozano@asesorialozano.example>
Asunto: Acceso al panel de administración

Hola Teresa:

Ya hemos creado tu usuario en el panel. Puedes entrar con tu correo y la
contraseña provisional que te llegará en un mensaje aparte.

Un saludo,
Ana
"""
    hs = trace('tlozano@asesorialozano.example', 'mail.asesorialozano.example',
               '203.0.113.120', received_date(date)) + [
        ('From', 'Teresa Lozano <tlozano@asesorialozano.example>'),
        ('To', "'Ana Ruiz' <ana@agency.example>"),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Subject', subj('RE: Acceso al panel de administración')),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
        ('Thread-Index', 'AQHbTgXkQ2r1lW0ZbE6cV1tq5sYx3A=='),
        ('Content-Language', 'es'),
    ]
    add('es_outlook_mensaje_original.eml',
        single_text(hs, text, 'utf-8', 'utf-8', 'quoted-printable', crlf=True),
        **{'from': 'tlozano@asesorialozano.example',
           'subject': 'RE: Acceso al panel de administración',
           'message_id': mid,
           'date': '2026-11-03T16:58:02+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['Sigo sin poder entrar al panel',
                             'el correo de recuperación no llega',
                             'publicar la circular de la renta'],
           'body_excludes': ['Ya hemos creado tu usuario en el panel',
                             'contraseña provisional que te llegará'],
           'quoted_contains': ['Ya hemos creado tu usuario en el panel',
                               'contraseña provisional que te llegará'],
           'automated': False,
           'note': 'Outlook desktop reply: "-----Mensaje original-----" then De:/Enviado el:/Para:/Asunto: '
                   'block (no underscore line); CRLF; single-quoted display name in To.'})


def es_outlook_underscore_headers():
    date = 'Tue, 3 Nov 2026 10:47:19 +0000'
    mid = outlook_id('es_outlook_underscore', 'AS8PR04MB8920', 'eurprd04')
    ana = ana_id('es_outlook_underscore')
    text = """\
Perfecto, gracias.

Entonces quedamos el jueves 12 a las 11:00 en vuestra oficina para
revisar la web nueva. Llevaré el logo en alta resolución en un USB.

Diego

________________________________
De: Ana Ruiz <ana@agency.example>
Enviado el: martes, 3 de noviembre de 2026 10:02
Para: Diego Sanz <diego@sanzfisioterapia.example>
Asunto: Reunión de revisión de la web

Hola Diego:

¿Te viene bien el jueves 12 de noviembre a las 11:00 para revisar juntos
la versión de pruebas?

Ana
"""
    hs = trace('diego@sanzfisioterapia.example', 'EUR05-AM6-obe.outbound.example.net',
               '192.0.2.199', received_date(date)) + [
        ('From', 'Diego Sanz <diego@sanzfisioterapia.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', subj('RE: Reunión de revisión de la web')),
        ('Thread-Topic', subj('Reunión de revisión de la web')),
        ('Thread-Index', 'AQHbTmt0c2FuemZpc2lvQUdFTkNZ'),
        ('Date', date),
        ('Message-ID', mid),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Accept-Language', 'es-ES, en-US'),
        ('Content-Language', 'es-ES'),
        ('X-MS-Has-Attach', ''),
    ]
    add('es_outlook_underscore_headers.eml',
        single_text(hs, text, 'utf-8', 'utf-8', 'base64', crlf=True),
        **{'from': 'diego@sanzfisioterapia.example',
           'subject': 'RE: Reunión de revisión de la web',
           'message_id': mid,
           'date': '2026-11-03T10:47:19+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['quedamos el jueves 12 a las 11:00',
                             'Llevaré el logo en alta resolución'],
           'body_excludes': ['¿Te viene bien el jueves 12 de noviembre', 'la versión de pruebas'],
           'quoted_contains': ['¿Te viene bien el jueves 12 de noviembre', 'la versión de pruebas'],
           'automated': False,
           'note': 'Outlook web reply, base64 UTF-8 body: "________________________________" line then '
                   'De:/Enviado el:/Para:/Asunto: block; CRLF; empty header value (X-MS-Has-Attach).'})


def es_apple_mail_reply_iphone():
    date = 'Tue, 3 Nov 2026 21:33:05 +0100'
    mid = uuid_id('es_apple', 'hotelmirador.example', upper=True)
    ana = ana_id('es_apple')
    text = """\
Vale, lo hablo con mi socio y te digo algo el lunes. Lo de las fotos de las habitaciones lo necesitamos sí o sí antes de Navidad, así que mejor el día 15 aunque no haya dron.

Enviado desde mi iPhone

El 3 nov 2026, a las 10:02, Ana Ruiz <ana@agency.example> escribió:

> Hola Nuria:
> 
> Para la sesión de fotos del hotel tenemos dos opciones: el día 15 con el fotógrafo de siempre o el día 22 con un equipo con dron (300 € más).
> 
> Dime qué prefieres.
> 
> Ana
"""
    hs = trace('nuria@hotelmirador.example', 'smtp.hotelmirador.example', '198.51.100.61',
               received_date(date)) + [
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
        ('From', 'Nuria Campos <nuria@hotelmirador.example>'),
        ('Mime-Version', '1.0 (1.0)'),
        ('Subject', subj('Re: Sesión de fotos del hotel')),
        ('Date', date),
        ('Message-Id', mid),
        ('References', ana),
        ('In-Reply-To', ana),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('X-Mailer', 'iPhone Mail (22B91)'),
    ]
    add('es_apple_mail_reply_iphone.eml',
        message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'nuria@hotelmirador.example',
           'subject': 'Re: Sesión de fotos del hotel',
           'message_id': mid,
           'date': '2026-11-03T20:33:05+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['lo hablo con mi socio', 'las fotos de las habitaciones',
                             'lo necesitamos sí o sí antes de Navidad'],
           'body_excludes': ['Enviado desde mi iPhone', 'el fotógrafo de siempre',
                             'un equipo con dron (300 € más)'],
           'quoted_contains': ['el fotógrafo de siempre', 'un equipo con dron (300 € más)'],
           'signature_contains': ['Enviado desde mi iPhone'],
           'automated': False,
           'note': 'Apple Mail (iPhone) reply: long unwrapped lines (QP soft breaks), "Enviado desde mi iPhone", '
                   'then "El 3 nov 2026, a las 10:02, ... escribió:" and "> " quote with "> " blank lines.'})


def es_html_reply_gmail_quote():
    date = 'Wed, 4 Nov 2026 10:05:55 +0100'
    mid = gmail_id('es_html_reply')
    ana = ana_id('es_html_reply')
    html = (
        '<div dir="ltr"><div>Hola Ana,</div><div><br></div><div>Os mando los textos corregidos. '
        'He quitado la parte de la historia familiar porque mi hermano prefiere que no salga.</div>'
        '<div><br></div><div>El resto lo podéis publicar tal cual.</div><div><br></div>'
        '<div>Saludos,</div><div>Alberto</div></div><br>\n'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">El mar, 3 nov 2026 a las 10:02, '
        'Ana Ruiz &lt;<a href="mailto:ana@agency.example">ana@agency.example</a>&gt; escribió:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        'rgb(204,204,204);padding-left:1ex"><div>Hola Alberto:<br><br>¿Nos puedes revisar los textos de '
        '«Quiénes somos» antes del jueves? Los necesitamos para cerrar la maqueta.<br><br>Gracias,<br>'
        'Ana</div></blockquote></div>\n')
    hs = trace('alberto.rios@example.com', 'mail-wm1-f41.example.com', '192.0.2.41',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('References', ana),
        ('In-Reply-To', ana),
        ('From', addr('Alberto Ríos', 'alberto.rios@example.com', 'q')),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', subj('Re: Textos para la sección «Quiénes somos»')),
        ('To', ANA),
    ]
    add('es_html_reply_gmail_quote.eml',
        single_text(hs, html, 'utf-8', 'UTF-8', 'quoted-printable', subtype='html'),
        **{'from': 'alberto.rios@example.com',
           'subject': 'Re: Textos para la sección «Quiénes somos»',
           'message_id': mid,
           'date': '2026-11-04T09:05:55+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['Os mando los textos corregidos', 'la parte de la historia familiar',
                             'lo podéis publicar tal cual'],
           'body_excludes': ['Los necesitamos para cerrar la maqueta'],
           'quoted_contains': ['Los necesitamos para cerrar la maqueta'],
           'automated': False,
           'note': 'HTML-only reply: quote inside <div class="gmail_quote"> + <blockquote>; '
                   'attribution has &lt;/&gt; entities; long QP lines.'})


def es_sig_saludos_block():
    date = 'Mon, 9 Nov 2026 13:02:18 +0100'
    mid = uuid_id('es_sig_saludos', 'ferreteriavidal.example')
    text = """\
Hola Ana,

Solo quería daros las gracias por el trabajo con la tienda online. En la
primera semana hemos recibido 43 pedidos, más que en todo el mes pasado
en la tienda física. Mi padre no se lo podía creer.

El mes que viene os llamo para hablar de la campaña de Navidad.

Saludos,
Carmen Vidal
Gerente
Ferretería Vidal e Hijos, S.L.
C/ Mayor 14, 50001 Zaragoza
Tel. 976 00 00 00 · www.ferreteriavidal.example
"""
    hs = trace('carmen@ferreteriavidal.example', 'mail.ferreteriavidal.example',
               '203.0.113.88', received_date(date)) + [
        ('Message-ID', mid),
        ('Date', date),
        ('MIME-Version', '1.0'),
        ('User-Agent', 'Mozilla Thunderbird'),
        ('To', ANA),
        ('From', 'Carmen Vidal <carmen@ferreteriavidal.example>'),
        ('Subject', 'Gracias por el trabajo con la tienda online'),
        ('Content-Type', 'text/plain; charset=UTF-8'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('es_sig_saludos_block.eml', message(hs, text.encode('utf-8')),
        **{'from': 'carmen@ferreteriavidal.example',
           'subject': 'Gracias por el trabajo con la tienda online',
           'message_id': mid,
           'date': '2026-11-09T12:02:18+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['hemos recibido 43 pedidos', 'Mi padre no se lo podía creer',
                             'la campaña de Navidad'],
           'automated': False,
           'note': 'Thanks mail; "Saludos," + name/role/company/address/phone block with no "-- " '
                   'delimiter (signature split not asserted: ambiguous).'})


def es_no_date():
    mid = uuid_id('es_no_date', 'autoescuelaprieto.example')
    text = """\
Buenas,

En la página de contacto sigue saliendo el horario de verano. Desde el
lunes abrimos de 9:00 a 14:00 y de 16:30 a 20:30.

¿Lo podéis cambiar? Gracias.

Iván
"""
    hs = trace('ivan@autoescuelaprieto.example', 'mail.autoescuelaprieto.example',
               '198.51.100.15', 'Fri, 06 Nov 2026 12:40:02 +0100 (CET)') + [
        ('From', addr('Iván Prieto', 'ivan@autoescuelaprieto.example', 'q',
                      charset='iso-8859-1', label='ISO-8859-1')),
        ('To', 'ana@agency.example'),
        ('Subject', 'Cambiar el horario que sale en la web'),
        ('Message-ID', mid),
        ('X-Mailer', 'OldMailer 1.4'),
    ]
    add('es_no_date.eml',
        single_text(hs, text, 'iso-8859-1', 'ISO-8859-1', '8bit'),
        **{'from': 'ivan@autoescuelaprieto.example',
           'subject': 'Cambiar el horario que sale en la web',
           'message_id': mid,
           'date': 'flagged',
           'to': [ANA_ADDR],
           'body_contains': ['sigue saliendo el horario de verano', 'de 16:30 a 20:30',
                             '¿Lo podéis cambiar?'],
           'automated': False,
           'note': 'No Date header at all (only the Received trace has a date, which must not be '
                   'used silently); ISO-8859-1 8bit body; ISO-8859-1 Q-encoded From name.'})


def es_rfc2047_utf8_q_latin1_b():
    date = 'Thu, 5 Nov 2026 18:44:00 +0100'
    mid = uuid_id('es_rfc2047', 'sidreriaetxeberria.example')
    subject = 'Reclamación: cobro duplicado en la cuota de mantenimiento de octubre'
    text = """\
Kaixo Ana,

Revisando el extracto del banco he visto que nos habéis cobrado dos veces
la cuota de mantenimiento de octubre (dos cargos de 89,00 € el día 2).

Os agradecería que devolvierais uno de los dos cargos cuanto antes.

Iñaki
"""
    hs = trace('inaki@sidreriaetxeberria.example', 'mail.sidreriaetxeberria.example',
               '203.0.113.66', received_date(date), rcpt=BILLING) + [
        ('Date', date),
        ('From', addr('Iñaki Etxeberria Muñoz', 'inaki@sidreriaetxeberria.example', 'b',
                      charset='iso-8859-1', label='ISO-8859-1')),
        ('To', 'billing@agency.example'),
        ('Subject', ew_q(subject, maxlen=60)),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=UTF-8'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('es_rfc2047_utf8_q_latin1_b.eml', message(hs, text.encode('utf-8')),
        **{'from': 'inaki@sidreriaetxeberria.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-05T17:44:00+00:00',
           'to': [BILLING],
           'body_contains': ['nos habéis cobrado dos veces', 'dos cargos de 89,00 € el día 2',
                             'devolvierais uno de los dos cargos'],
           'automated': False,
           'note': 'Subject as several folded UTF-8 Q encoded-words (whitespace between words must '
                   'vanish); From display name ISO-8859-1 B-encoded ("Iñaki Etxeberria Muñoz").'})


def es_cc_bcc_replyto():
    date = 'Fri, 6 Nov 2026 08:15:09 +0100'
    mid = uuid_id('es_cc_bcc', 'inmobiliaria-gomez.example')
    text = """\
Hola Ana,

Necesitamos dar de alta a dos personas nuevas en la intranet: Pablo
Herrera y Sofía López, que os pongo en copia. Empiezan el lunes 9.

Las facturas de este servicio enviadlas a partir de ahora a
administracion@inmobiliaria-gomez.example, que he puesto como dirección
de respuesta.

Un saludo,
Luis
"""
    hs = trace('Luis.Gomez@Inmobiliaria-Gomez.example', 'mail.inmobiliaria-gomez.example',
               '198.51.100.200', received_date(date)) + [
        ('From', '"Gómez, Luis" <Luis.Gomez@Inmobiliaria-Gomez.example>'.replace(
            '"Gómez, Luis"', ew_q('Gómez, Luis'))),
        ('To', 'Ana Ruiz <ana@agency.example>, billing@agency.example'),
        ('Cc', '"Pablo Herrera" <pherrera@inmobiliaria-gomez.example>,\n %s'
         % addr('Sofía López', 'SLopez@inmobiliaria-gomez.example', 'q')),
        ('Bcc', 'gerencia@inmobiliaria-gomez.example'),
        ('Reply-To', addr('Administración', 'administracion@inmobiliaria-gomez.example', 'q')),
        ('Subject', 'Alta de dos usuarios nuevos en la intranet'),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="utf-8"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('es_cc_bcc_replyto.eml', message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'luis.gomez@inmobiliaria-gomez.example',
           'subject': 'Alta de dos usuarios nuevos en la intranet',
           'message_id': mid,
           'date': '2026-11-06T07:15:09+00:00',
           'to': [ANA_ADDR, BILLING],
           'cc': ['pherrera@inmobiliaria-gomez.example', 'slopez@inmobiliaria-gomez.example'],
           'bcc': ['gerencia@inmobiliaria-gomez.example'],
           'reply_to': ['administracion@inmobiliaria-gomez.example'],
           'body_contains': ['dar de alta a dos personas nuevas', 'Empiezan el lunes 9',
                             'que he puesto como dirección'],
           'automated': False,
           'note': 'Address headers: mixed-case From with encoded name containing a comma, two To, '
                   'folded Cc with an encoded name, Bcc, Reply-To with encoded name.'})


def es_autoreply_auto_submitted():
    date = 'Tue, 3 Nov 2026 10:02:31 +0100'
    mid = gmail_id('es_autoreply_auto_submitted')
    ana = ana_id('es_autoreply_auto_submitted')
    text = """\
Hola:

Estaré fuera de la oficina hasta el martes 10 de noviembre, sin acceso
al correo. Para cualquier urgencia, podéis llamar a mi compañero Rubén
al 600 000 000.

Gracias,
Elena Castro
"""
    hs = trace('elena@estudiocastro.example', 'mail-sor-f69.example.com', '192.0.2.69',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('From', 'Elena Castro <elena@estudiocastro.example>'),
        ('Date', date),
        ('Message-ID', mid),
        ('In-Reply-To', ana),
        ('References', ana),
        ('Auto-Submitted', 'auto-replied'),
        ('Subject', 'Fuera de la oficina hasta el 10 de noviembre'),
        ('To', ANA),
        ('Content-Type', 'text/plain; charset="UTF-8"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('es_autoreply_auto_submitted.eml',
        message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'elena@estudiocastro.example',
           'subject': 'Fuera de la oficina hasta el 10 de noviembre',
           'message_id': mid,
           'date': '2026-11-03T09:02:31+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['Estaré fuera de la oficina', 'podéis llamar a mi compañero'],
           'automated': True,
           'note': 'Vacation responder: only signal is "Auto-Submitted: auto-replied" (subject has no '
                   '"automatic reply" marker).'})


def es_autoreply_x_autoreply():
    date = 'Fri, 6 Nov 2026 11:00:02 +0100'
    mid = uuid_id('es_autoreply_x', 'bodegassoler.example')
    inv = '<20261106095940.7C1D2E3F40@agency.example>'
    subject = 'Respuesta automática: Factura 2026-131'
    text = """\
Gracias por su mensaje. Nuestras oficinas permanecen cerradas por
inventario hasta el 16 de noviembre. Atenderemos su correo a la vuelta.

Bodegas Soler
"""
    hs = trace('fsoler@bodegassoler.example', 'mail.bodegassoler.example', '203.0.113.150',
               received_date(date), rcpt=BILLING) + [
        ('From', 'Francisco Soler <fsoler@bodegassoler.example>'),
        ('To', 'billing@agency.example'),
        ('Subject', subj(subject)),
        ('Date', date),
        ('Message-ID', mid),
        ('In-Reply-To', inv),
        ('X-Autoreply', 'yes'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', '7bit'),
    ]
    add('es_autoreply_x_autoreply.eml', message(hs, text.encode('ascii')),
        **{'from': 'fsoler@bodegassoler.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-06T10:00:02+00:00',
           'in_reply_to': inv,
           'to': [BILLING],
           'body_contains': ['Nuestras oficinas permanecen cerradas',
                             'Atenderemos su correo a la vuelta'],
           'automated': True,
           'note': 'Auto-reply marked only by "X-Autoreply: yes" and an encoded '
                   '"Respuesta automática:" subject (no Auto-Submitted).'})


def es_truncated_multipart():
    date = 'Wed, 4 Nov 2026 12:30:45 +0100'
    mid = gmail_id('es_truncated')
    boundary = '000000000000d3f1a2b4c5e60718293a'
    text = """\
Hola Ana,

Varios alumnos nos dicen que el formulario de inscripción se queda
cargando y no llega a enviarse. Lo he probado yo desde el móvil y me
pasa lo mismo.

Estamos en plena campaña de matrícula, ¿podéis revisarlo hoy?

Gloria
"""
    html = ('<div dir="ltr">Hola Ana,<div><br></div><div>Varios alumnos nos dicen que el formulario '
            'de inscripción se queda cargando y no llega a enviarse. Lo he probado yo desde el móvil '
            'y me pasa lo mismo.</div><div><br></div><div>Estamos en plena campaña de matrícula, '
            '¿podéis revisarlo hoy?</div><div><br></div><div>Gloria</div></div>\n')
    html_qp = encode_body(html, 'utf-8', 'quoted-printable')
    cut = html_qp[:150]  # the connection dropped in the middle of the HTML part
    parts = [
        part(text_headers('plain', 'UTF-8'), encode_body(text, 'utf-8', 'quoted-printable')),
        part(text_headers('html', 'UTF-8'), cut),
    ]
    body = multipart(boundary, parts, closed=False)
    hs = trace('gloria@academiaidiomas.example', 'mail-pl1-f170.example.com', '192.0.2.170',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('From', addr('Gloria Peña', 'gloria@academiaidiomas.example', 'q')),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', subj('Error en el formulario de inscripción')),
        ('To', ANA),
        ('Content-Type', 'multipart/alternative; boundary="%s"' % boundary),
    ]
    data = message(hs, body)
    assert not data.endswith(b'\n')
    add('es_truncated_multipart.eml', data,
        **{'from': 'gloria@academiaidiomas.example',
           'subject': 'Error en el formulario de inscripción',
           'message_id': mid,
           'date': '2026-11-04T11:30:45+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['el formulario de inscripción se queda',
                             'Lo he probado yo desde el móvil',
                             'en plena campaña de matrícula'],
           'automated': False,
           'note': 'Truncated multipart/alternative: HTML part cut mid-line, no closing boundary, no final '
                   'newline; the complete text/plain part must still be used.'})


def es_header_without_colon():
    date = 'Thu, 5 Nov 2026 19:03:44 +0100'
    mid = '<20261105180344.5521.cerrajeria@cerrajeriablanco.example>'
    text = """\
Hola Ana,

Queremos cambiar el dominio de la web a cerrajeriablanco.example y
mantener el antiguo redirigiendo. ¿Cuánto costaría y cuánto tiempo
estaría la web sin servicio?

Necesito el presupuesto antes del viernes para llevarlo a la junta.

Óscar
"""
    hs = trace('oscar@cerrajeriablanco.example', 'mail.cerrajeriablanco.example',
               '198.51.100.99', received_date(date)) + [
        ('From', addr('Óscar Blanco', 'oscar@cerrajeriablanco.example', 'q')),
        ('To', ANA),
        ('Date', date),
        ('X-Mailer', 'ComposeMail 2.3'),
        (None, 'Organization Cerrajeria Blanco S.L.'),
        ('Subject', 'Presupuesto para cambiar el dominio'),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('es_header_without_colon.eml', message(hs, text.encode('utf-8')),
        **{'from': 'oscar@cerrajeriablanco.example',
           'subject': 'Presupuesto para cambiar el dominio',
           'message_id': mid,
           'date': '2026-11-05T18:03:44+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['Queremos cambiar el dominio', 'mantener el antiguo redirigiendo',
                             'llevarlo a la junta'],
           'automated': False,
           'note': 'A header line without a colon ("Organization Cerrajeria Blanco S.L.") in the middle of '
                   'the header block: skip it and keep parsing (Subject, Message-ID, Content-Type come after).'})


# ===========================================================================
# PORTUGUESE
# ===========================================================================

def pt_plain_utf8_qp_sig():
    date = 'Wed, 4 Nov 2026 09:12:40 -0300'
    mid = uuid_id('pt_plain_qp', 'padariapaoquente.example')
    text = """\
Oi Ana, tudo bem?

Precisamos trocar o cardápio do site até sexta-feira. Entraram três
pães novos (brioche de laranja, pão de fermentação natural e ciabatta
integral) e saíram os croissants recheados.

Também queria saber se dá para colocar um botão de WhatsApp fixo no
canto da tela. Vários clientes pediram.

Obrigado!
João

-- 
João Pereira
Padaria Pão Quente Ltda.
(11) 90000-0000 | São Paulo
"""
    hs = trace('joao.pereira@padariapaoquente.example', 'smtp.padariapaoquente.example',
               '203.0.113.31', received_date(date)) + [
        ('Message-ID', mid),
        ('Date', date),
        ('MIME-Version', '1.0'),
        ('User-Agent', 'Mozilla Thunderbird'),
        ('Content-Language', 'pt-BR'),
        ('To', ANA),
        ('From', addr('João Pereira', 'joao.pereira@padariapaoquente.example', 'q')),
        ('Subject', subj('Pedido de alteração no cardápio do site')),
        ('Content-Type', 'text/plain; charset=UTF-8'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('pt_plain_utf8_qp_sig.eml', message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'joao.pereira@padariapaoquente.example',
           'subject': 'Pedido de alteração no cardápio do site',
           'message_id': mid,
           'date': '2026-11-04T12:12:40+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['Precisamos trocar o cardápio do site', 'brioche de laranja',
                             'um botão de WhatsApp fixo'],
           'body_excludes': ['Padaria Pão Quente Ltda.', '(11) 90000-0000 | São Paulo'],
           'signature_contains': ['Padaria Pão Quente Ltda.', '(11) 90000-0000 | São Paulo'],
           'automated': False,
           'note': 'text/plain QP UTF-8 request; signature after "-- " delimiter, which is "--=20" on the wire.'})


def pt_latin1_8bit():
    date = 'Thu, 5 Nov 2026 10:31:09 +0000'
    mid = uuid_id('pt_latin1_8bit', 'quintadosol.example')
    subject = 'Pagamento em atraso - peço desculpa'
    text = """\
Bom dia Ana,

Peço imensa desculpa pelo atraso no pagamento da fatura de outubro. A
nossa contabilista esteve de baixa e só agora reparámos que a
transferência não tinha sido feita.

Já dei ordem ao banco hoje de manhã; deve chegar à vossa conta até
quinta-feira. Se houver juros de mora, digam-me por favor.

Cumprimentos,
Luísa Gonçalves
Quinta do Sol
"""
    hs = trace('luisa@quintadosol.example', 'mail.quintadosol.example', '198.51.100.180',
               received_date(date), rcpt=BILLING) + [
        ('From', addr('Luísa Gonçalves', 'luisa@quintadosol.example', 'q',
                      charset='iso-8859-1', label='iso-8859-1')),
        ('To', 'billing@agency.example'),
        ('Subject', ew_q(subject, charset='iso-8859-1', label='iso-8859-1')),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=ISO-8859-1'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('pt_latin1_8bit.eml', message(hs, text.encode('iso-8859-1')),
        **{'from': 'luisa@quintadosol.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-05T10:31:09+00:00',
           'to': [BILLING],
           'body_contains': ['Peço imensa desculpa pelo atraso', 'contabilista esteve de baixa',
                             'deve chegar à vossa conta', 'Se houver juros de mora'],
           'automated': False,
           'note': 'ISO-8859-1 8bit body (raw 0xE7 0xE3 ...), European Portuguese payment excuse; '
                   'latin-1 Q-encoded Subject and From.'})


def pt_cp1252_qp_curly_euro():
    date = 'Wed, 4 Nov 2026 15:07:51 +0000'
    mid = outlook_id('pt_cp1252', 'DU2PR09MB6610', 'eurprd09')
    subject = 'Orçamento da loja online – 2.400 €'
    text = """\
Olá Ana,

Recebi o orçamento da loja online, mas 2.400 € parece-me muito acima do
que tínhamos falado ao telefone (cerca de 1.500 €).

Na proposta aparece uma linha “integração com ERP” que não pedimos – nós
nem temos ERP. Também não percebo o que é o ‘pacote SEO avançado’.

Consegue enviar-me uma versão sem esses dois itens?

Obrigado,
Rui Tavares
"""
    hs = trace('rui.tavares@tavaresmoveis.example', 'mail.tavaresmoveis.example',
               '203.0.113.210', received_date(date)) + [
        ('From', 'Rui Tavares <rui.tavares@tavaresmoveis.example>'),
        ('To', '"ana@agency.example" <ana@agency.example>'),
        ('Subject', ew_q(subject, charset='cp1252', label='Windows-1252')),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
        ('Content-Language', 'pt-pt'),
    ]
    add('pt_cp1252_qp_curly_euro.eml',
        single_text(hs, text, 'cp1252', 'Windows-1252', 'quoted-printable', crlf=True),
        **{'from': 'rui.tavares@tavaresmoveis.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-04T15:07:51+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['2.400 € parece-me muito acima',
                             'uma linha “integração com ERP” que não pedimos',
                             'percebo o que é o ‘pacote SEO avançado’'],
           'automated': False,
           'note': 'windows-1252 QP body (=80 euro, =93/=94 and =91/=92 curly quotes, =96 en dash), '
                   'windows-1252 Q-encoded Subject with euro; CRLF.'})


def pt_gmail_reply_alternative():
    date = 'Tue, 3 Nov 2026 14:20:11 -0300'
    mid = gmail_id('pt_gmail_reply')
    ana = ana_id('pt_gmail_reply')
    boundary = '0000000000007a1e3c0624b5f9d1'
    text = """\
Oi Ana,

Mandei as fotos pelo WeTransfer agora há pouco, são 86 no total. As do
apartamento da Rua das Flores ficaram escuras, talvez precise editar.

Sobre o prazo: conseguimos publicar tudo até o dia 20? Temos uma feira
de imóveis no fim do mês.

Beijos,
Fernanda

Em ter., 3 de nov. de 2026 às 10:02, Ana Ruiz <ana@agency.example> escreveu:

> Oi Fernanda,
>
> Para terminar a seção de imóveis precisamos das fotos em alta
> resolução. Pode mandar até quinta-feira?
>
> Abraço,
> Ana
>
"""
    html = (
        '<div dir="ltr">Oi Ana,<div><br></div><div>Mandei as fotos pelo WeTransfer agora há pouco, '
        'são 86 no total. As do apartamento da Rua das Flores ficaram escuras, talvez precise '
        'editar.</div><div><br></div><div>Sobre o prazo: conseguimos publicar tudo até o dia 20? '
        'Temos uma feira de imóveis no fim do mês.</div><div><br></div><div>Beijos,</div>'
        '<div>Fernanda</div></div><br>\n<div class="gmail_quote gmail_quote_container">'
        '<div dir="ltr" class="gmail_attr">Em ter., 3 de nov. de 2026 às 10:02, Ana Ruiz &lt;'
        '<a href="mailto:ana@agency.example">ana@agency.example</a>&gt; escreveu:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        'rgb(204,204,204);padding-left:1ex"><div dir="ltr">Oi Fernanda,<br><br>Para terminar a seção '
        'de imóveis precisamos das fotos em alta resolução. Pode mandar até quinta-feira?<br><br>'
        'Abraço,<br>Ana</div>\n</blockquote></div>\n')
    parts = [
        part(text_headers('plain', 'UTF-8'), encode_body(text, 'utf-8', 'quoted-printable')),
        part(text_headers('html', 'UTF-8'), encode_body(html, 'utf-8', 'quoted-printable')),
    ]
    hs = trace('fernanda.costa.imoveis@example.com', 'mail-qt1-f181.example.com', '192.0.2.181',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('References', ana),
        ('In-Reply-To', ana),
        ('From', 'Fernanda Costa <fernanda.costa.imoveis@example.com>'),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', subj('Re: Fotos dos imóveis para o site')),
        ('To', ANA),
        ('Content-Type', 'multipart/alternative; boundary="%s"' % boundary),
    ]
    add('pt_gmail_reply_alternative.eml', message(hs, multipart(boundary, parts)),
        **{'from': 'fernanda.costa.imoveis@example.com',
           'subject': 'Re: Fotos dos imóveis para o site',
           'message_id': mid,
           'date': '2026-11-03T17:20:11+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['Mandei as fotos pelo WeTransfer', 'apartamento da Rua das Flores',
                             'conseguimos publicar tudo até o dia 20'],
           'body_excludes': ['precisamos das fotos em alta', 'Pode mandar até quinta-feira?'],
           'quoted_contains': ['precisamos das fotos em alta', 'Pode mandar até quinta-feira?'],
           'automated': False,
           'note': 'Gmail multipart/alternative reply (pt-BR): text part with "Em ter., 3 de nov. de 2026 às '
                   '10:02, ... escreveu:" + "> "; HTML part with gmail_quote/blockquote.'})


def pt_outlook_mensagem_original():
    date = 'Wed, 4 Nov 2026 14:02:36 -0300'
    mid = outlook_id('pt_outlook_mensagem', 'CP4P284MB1873', 'BRAP284')
    ana = ana_id('pt_outlook_mensagem')
    text = """\
Ana, boa tarde.

Pode renovar sim, mas por favor emita a nota fiscal no CNPJ novo da
empresa, que mudou em setembro. Segue o número: 00.000.000/0001-00.

Quanto à hospedagem, preferimos manter o plano atual por mais um ano.

Att.,
Ricardo

-----Mensagem original-----
De: Ana Ruiz <ana@agency.example>
Enviada em: terça-feira, 3 de novembro de 2026 10:02
Para: Ricardo Almeida <ralmeida@almeidacontabil.example>
Assunto: Renovação do domínio e hospedagem

Olá Ricardo,

O domínio almeidacontabil.example vence no dia 30. Podemos renovar
junto com a hospedagem por mais 12 meses?

Abraço,
Ana
"""
    hs = trace('ralmeida@almeidacontabil.example', 'mail.almeidacontabil.example',
               '198.51.100.33', received_date(date)) + [
        ('From', 'Ricardo Almeida <ralmeida@almeidacontabil.example>'),
        ('To', ANA),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Subject', ew_q('RE: Renovação do domínio e hospedagem', charset='iso-8859-1',
                         label='iso-8859-1')),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
        ('Thread-Index', 'AQHbTqLm0bRpYWxtZWlkYUFHRU5DWQ=='),
        ('Content-Language', 'pt-br'),
    ]
    add('pt_outlook_mensagem_original.eml',
        single_text(hs, text, 'iso-8859-1', 'iso-8859-1', 'quoted-printable', crlf=True),
        **{'from': 'ralmeida@almeidacontabil.example',
           'subject': 'RE: Renovação do domínio e hospedagem',
           'message_id': mid,
           'date': '2026-11-04T17:02:36+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['emita a nota fiscal no CNPJ novo', 'preferimos manter o plano atual'],
           'body_excludes': ['vence no dia 30', 'junto com a hospedagem por mais 12 meses'],
           'quoted_contains': ['vence no dia 30', 'junto com a hospedagem por mais 12 meses'],
           'automated': False,
           'note': 'Outlook reply (pt-BR), ISO-8859-1 QP: "-----Mensagem original-----" then '
                   'De:/Enviada em:/Para:/Assunto: (no underscore line); CRLF.'})


def pt_outlook_underscore_headers():
    date = 'Thu, 5 Nov 2026 11:55:00 +0000'
    mid = outlook_id('pt_outlook_underscore', 'RO1P152MB2904', 'LAMP152')
    ana = ana_id('pt_outlook_underscore')
    text = """\
Ana, o problema voltou.

Desde ontem à noite as mensagens do formulário de orçamento não estão
chegando no nosso e-mail. Perdemos pelo menos dois pedidos de festa de
casamento por causa disso.

Preciso de uma resposta ainda hoje, por favor.

Camila

________________________________
De: Ana Ruiz <ana@agency.example>
Enviada em: terça-feira, 3 de novembro de 2026 10:02
Para: Camila Rocha <camila.rocha@rochaeventos.example>
Assunto: Problema com o formulário de orçamento

Oi Camila,

Corrigimos a configuração do servidor de e-mail e fizemos um envio de
teste. Tudo funcionando agora.

Ana
"""
    hs = trace('camila.rocha@rochaeventos.example', 'BRA01-CP2-obe.outbound.example.net',
               '192.0.2.220', received_date(date)) + [
        ('From', 'Camila Rocha <camila.rocha@rochaeventos.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', subj('RE: Problema com o formulário de orçamento')),
        ('Thread-Topic', subj('Problema com o formulário de orçamento')),
        ('Date', date),
        ('Message-ID', mid),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Accept-Language', 'pt-BR, en-US'),
        ('Content-Language', 'pt-BR'),
    ]
    add('pt_outlook_underscore_headers.eml',
        single_text(hs, text, 'utf-8', 'utf-8', '8bit', crlf=True),
        **{'from': 'camila.rocha@rochaeventos.example',
           'subject': 'RE: Problema com o formulário de orçamento',
           'message_id': mid,
           'date': '2026-11-05T11:55:00+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['Ana, o problema voltou', 'Perdemos pelo menos dois pedidos',
                             'Preciso de uma resposta ainda hoje'],
           'body_excludes': ['Corrigimos a configuração do servidor', 'Tudo funcionando agora'],
           'quoted_contains': ['Corrigimos a configuração do servidor', 'Tudo funcionando agora'],
           'automated': False,
           'note': 'Outlook web reply (pt-BR), UTF-8 8bit: "________________________________" then '
                   'De:/Enviada em:/Para:/Assunto:; CRLF; complaint.'})


def pt_bare_quote():
    date = 'Fri, 6 Nov 2026 16:40:22 +0000'
    mid = uuid_id('pt_bare_quote', 'martinsbicicletas.example')
    prev = '<20261106101500.9E8D7C6B5A@agency.example>'
    text = """\
Obrigado pela explicação, agora percebo a diferença de valor.

Fica então combinado pagar em duas prestações: metade agora e metade
em dezembro. Vou fazer a primeira transferência amanhã.

Tiago

> A fatura inclui o alojamento anual (180 €) e as horas extra de
> desenvolvimento da loja em outubro (6 horas).
>
> Se preferir, podemos dividir o pagamento em duas prestações.
"""
    hs = trace('tiago@martinsbicicletas.example', 'mail.martinsbicicletas.example',
               '203.0.113.14', received_date(date), rcpt=BILLING) + [
        ('Date', date),
        ('From', 'Tiago Martins <tiago@martinsbicicletas.example>'),
        ('To', 'Billing <billing@agency.example>'),
        ('Subject', subj('Re: Dúvida sobre a fatura 2026-140')),
        ('Message-ID', mid),
        ('In-Reply-To', prev),
        ('References', prev),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=utf-8; format=fixed'),
        ('Content-Transfer-Encoding', '8bit'),
        ('User-Agent', 'Mutt/2.2.12 (2023-09-09)'),
    ]
    add('pt_bare_quote.eml', message(hs, text.encode('utf-8')),
        **{'from': 'tiago@martinsbicicletas.example',
           'subject': 'Re: Dúvida sobre a fatura 2026-140',
           'message_id': mid,
           'date': '2026-11-06T16:40:22+00:00',
           'in_reply_to': prev, 'references': [prev],
           'to': [BILLING],
           'body_contains': ['agora percebo a diferença de valor', 'Fica então combinado pagar',
                             'Vou fazer a primeira transferência'],
           'body_excludes': ['o alojamento anual (180 €)', 'podemos dividir o pagamento'],
           'quoted_contains': ['o alojamento anual (180 €)', 'podemos dividir o pagamento'],
           'automated': False,
           'note': 'Bare "> " quote with no attribution line (mutt style), UTF-8 8bit.'})


def pt_iphone_enviado_do_meu():
    date = 'Tue, 3 Nov 2026 22:14:09 -0300'
    mid = uuid_id('pt_iphone', 'example.com', upper=True)
    text = """\
Ana, adorei o logo novo!! Só acho que a fonte do nome poderia ser um pouco maior no cartão de visita. O resto está perfeito, pode seguir.

Enviado do meu iPhone
"""
    hs = trace('beatriz.lima@example.com', 'smtp.example.com', '198.51.100.7',
               received_date(date)) + [
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
        ('From', 'Beatriz Lima <beatriz.lima@example.com>'),
        ('Mime-Version', '1.0 (1.0)'),
        ('Subject', 'Logo novo'),
        ('Date', date),
        ('Message-Id', mid),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('X-Mailer', 'iPhone Mail (22B91)'),
    ]
    add('pt_iphone_enviado_do_meu.eml', message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'beatriz.lima@example.com',
           'subject': 'Logo novo',
           'message_id': mid,
           'date': '2026-11-04T01:14:09+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['adorei o logo novo', 'a fonte do nome poderia',
                             'O resto está perfeito'],
           'body_excludes': ['Enviado do meu iPhone'],
           'signature_contains': ['Enviado do meu iPhone'],
           'automated': False,
           'note': 'Short iPhone mail, one long QP-wrapped line, "Enviado do meu iPhone"; local date '
                   'converts to the next day in UTC.'})


def pt_sig_atenciosamente_block():
    date = 'Mon, 9 Nov 2026 08:03:57 -0300'
    mid = uuid_id('pt_sig_atenciosamente', 'ribeiroadvocacia.example')
    subject = 'Reclamação: site fora do ar durante o fim de semana'
    text = """\
Prezada Ana,

Nosso site ficou fora do ar de sábado à tarde até domingo à noite, e
ninguém da agência respondeu aos nossos chamados. Pelo contrato, o
atendimento de urgência deveria funcionar também nos fins de semana.

Solicito um relatório do que aconteceu e o desconto proporcional na
mensalidade de novembro.

Atenciosamente,

Marcelo Ribeiro
Sócio-diretor
Ribeiro & Associados Advocacia
Tel.: +55 21 0000-0000
"""
    hs = trace('marcelo@ribeiroadvocacia.example', 'mail.ribeiroadvocacia.example',
               '203.0.113.77', received_date(date)) + [
        ('From', 'Marcelo Ribeiro <marcelo@ribeiroadvocacia.example>'),
        ('To', ANA),
        ('Cc', 'billing@agency.example'),
        ('Subject', ew_b(subject)),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="utf-8"'),
        ('Content-Transfer-Encoding', 'base64'),
    ]
    add('pt_sig_atenciosamente_block.eml', message(hs, encode_body(text, 'utf-8', 'base64')),
        **{'from': 'marcelo@ribeiroadvocacia.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-09T11:03:57+00:00',
           'to': [ANA_ADDR], 'cc': [BILLING],
           'body_contains': ['ficou fora do ar de sábado', 'ninguém da agência respondeu',
                             'Solicito um relatório do que aconteceu'],
           'automated': False,
           'note': 'Formal complaint, base64 UTF-8 body, UTF-8 B-encoded Subject; "Atenciosamente," + '
                   'name/role/firm/phone block (signature split not asserted: no delimiter).'})


def pt_garbage_date():
    mid = uuid_id('pt_garbage_date', 'nunesgrafica.example')
    text = """\
Oi Ana,

Recebemos os arquivos dos folhetos, mas as margens de sangria estão
faltando. A gráfica pediu 3 mm em cada lado.

Consegue mandar de novo até amanhã?

Paulo
"""
    hs = trace('paulo@nunesgrafica.example', 'mail.nunesgrafica.example', '198.51.100.45',
               'Thu, 05 Nov 2026 15:20:11 +0100 (CET)') + [
        ('From', 'Paulo Nunes <paulo@nunesgrafica.example>'),
        ('To', 'ana@agency.example'),
        ('Subject', 'Arquivos para a impressao dos folhetos'),
        ('Date', 'yesterday'),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('pt_garbage_date.eml', message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'paulo@nunesgrafica.example',
           'subject': 'Arquivos para a impressao dos folhetos',
           'message_id': mid,
           'date': 'flagged',
           'to': [ANA_ADDR],
           'body_contains': ['as margens de sangria', '3 mm em cada lado',
                             'Consegue mandar de novo'],
           'automated': False,
           'note': 'Invalid Date header ("Date: yesterday") must be flagged, not guessed.'})


def pt_rfc2047_latin1_q_utf8_b():
    date = 'Fri, 6 Nov 2026 19:25:13 +0000'
    mid = uuid_id('pt_rfc2047', 'ferreiraflores.example')
    subject = 'Agradecimento pela atenção no lançamento'
    text = """\
Olá Ana e equipa,

Queria agradecer a paciência e a atenção que tiveram connosco no
lançamento do site. Correu tudo muito bem e já recebemos encomendas
de Braga e do Porto logo no primeiro dia.

Um beijinho,
Conceição
"""
    hs = trace('conceicao@ferreiraflores.example', 'mail.ferreiraflores.example',
               '203.0.113.190', received_date(date)) + [
        ('Date', date),
        ('From', addr('Conceição Ferreira', 'conceicao@ferreiraflores.example', 'b')),
        ('To', ANA),
        ('Subject', ew_q(subject, charset='iso-8859-1', label='ISO-8859-1')),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=UTF-8'),
        ('Content-Transfer-Encoding', '8bit'),
    ]
    add('pt_rfc2047_latin1_q_utf8_b.eml', message(hs, text.encode('utf-8')),
        **{'from': 'conceicao@ferreiraflores.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-06T19:25:13+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['agradecer a paciência e a atenção', 'já recebemos encomendas',
                             'logo no primeiro dia'],
           'automated': False,
           'note': 'Subject ISO-8859-1 Q-encoded, From display name UTF-8 B-encoded; thank-you note.'})


def pt_autoreply_precedence():
    date = 'Fri, 6 Nov 2026 07:00:45 -0300'
    mid = uuid_id('pt_autoreply', 'duarteseguros.example')
    inv = '<20261106095810.1A2B3C4D5E@agency.example>'
    subject = 'Resposta automática: Fatura 2026-133'
    text = """\
Olá,

Estou de férias até 16/11 com acesso limitado ao e-mail. Assuntos
financeiros devem ser tratados com o setor financeiro pelo endereço
financeiro@duarteseguros.example.

Helena Duarte
"""
    hs = trace('helena.duarte@duarteseguros.example', 'mail.duarteseguros.example',
               '198.51.100.111', received_date(date), rcpt=BILLING) + [
        ('From', 'Helena Duarte <helena.duarte@duarteseguros.example>'),
        ('To', 'billing@agency.example'),
        ('Subject', ew_q(subject, charset='iso-8859-1', label='ISO-8859-1')),
        ('Date', date),
        ('Message-ID', mid),
        ('In-Reply-To', inv),
        ('Precedence', 'auto_reply'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=ISO-8859-1'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('pt_autoreply_precedence.eml', message(hs, encode_body(text, 'iso-8859-1', 'quoted-printable')),
        **{'from': 'helena.duarte@duarteseguros.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-06T10:00:45+00:00',
           'in_reply_to': inv,
           'to': [BILLING],
           'body_contains': ['Estou de férias até 16/11', 'devem ser tratados com o setor'],
           'automated': True,
           'note': 'Auto-reply marked by "Precedence: auto_reply" and a "Resposta automática:" subject only.'})


def pt_utf8_declared_latin1_bytes():
    date = 'Wed, 4 Nov 2026 11:48:20 -0300'
    mid = uuid_id('pt_utf8_latin1', 'moreiraestetica.example')
    text = """\
Oi Ana,

Por favor atualize os horários no site: agora atendemos de segunda a
sábado, das 9h às 19h. No domingo a clínica fica fechada.

Também mudou o telefone para (31) 3000-0000.

Obrigada,
Vanessa
"""
    hs = trace('vanessa@moreiraestetica.example', 'mail.moreiraestetica.example',
               '203.0.113.55', received_date(date)) + [
        ('From', 'Vanessa Moreira <vanessa@moreiraestetica.example>'),
        ('To', ANA),
        ('Subject', subj('Horários de atendimento no site')),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=utf-8'),
        ('Content-Transfer-Encoding', '8bit'),
        ('X-Mailer', 'BrokenMailer 0.9'),
    ]
    body = text.encode('iso-8859-1')   # mislabelled: declared utf-8, bytes are latin-1
    try:
        body.decode('utf-8')
        raise AssertionError('body must not be valid UTF-8')
    except UnicodeDecodeError:
        pass
    add('pt_utf8_declared_latin1_bytes.eml', message(hs, body),
        **{'from': 'vanessa@moreiraestetica.example',
           'subject': 'Horários de atendimento no site',
           'message_id': mid,
           'date': '2026-11-04T14:48:20+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['Por favor atualize os', 'agora atendemos de segunda',
                             'mudou o telefone para (31) 3000-0000'],
           'automated': False,
           'note': 'Part declares charset=utf-8 but the bytes are ISO-8859-1 (0xE1, 0xE9 ...): must not '
                   'crash; only ASCII phrases are asserted (a latin-1 fallback would also give "sábado").'})


def pt_no_headers():
    text = """\
Ana, segue o texto para a pagina "Sobre nós". Pode publicar assim que
puder, o cliente já aprovou.

A Casa Verde nasceu em 1998 como uma pequena loja de plantas no bairro
de Pinheiros e hoje atende paisagistas de toda a cidade.

Rodrigo
"""
    add('pt_no_headers.eml', text.encode('utf-8'),
        **{'from': None,
           'message_id': 'synthetic',
           'date': 'flagged',
           'body_contains': ['Pode publicar assim que', 'uma pequena loja de plantas',
                             'atende paisagistas de toda a cidade'],
           'automated': False,
           'note': 'No header block at all, just body text (UTF-8 bytes, no MIME declaration); '
                   'from null, synthetic Message-ID, flagged date.'})


# ===========================================================================
# ENGLISH
# ===========================================================================

def en_plain_utf8_base64():
    date = 'Mon, 2 Nov 2026 18:22:31 +0000'
    mid = uuid_id('en_plain_b64', 'oconnorbakery.example')
    subject = 'Thank you – the new booking page is brilliant'
    text = """\
Hi Ana,

Just a quick note to say thank you – the new booking page is brilliant.
We’ve had 27 cake orders through it since Friday, and not one customer
has rung up confused, which is a first for us.

Please pass on my thanks to whoever did the photos; the
“celebration cakes” gallery looks fantastic.

Cheers,
Sarah
"""
    hs = trace('sarah@oconnorbakery.example', 'smtp.oconnorbakery.example', '198.51.100.130',
               received_date(date)) + [
        ('From', "Sarah O'Connor <sarah@oconnorbakery.example>"),
        ('To', ANA),
        ('Subject', subj(subject)),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="UTF-8"'),
        ('Content-Transfer-Encoding', 'base64'),
    ]
    add('en_plain_utf8_base64.eml', message(hs, encode_body(text, 'utf-8', 'base64')),
        **{'from': 'sarah@oconnorbakery.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-02T18:22:31+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['We’ve had 27 cake orders', 'has rung up confused',
                             '“celebration cakes” gallery looks fantastic'],
           'automated': False,
           'note': 'text/plain UTF-8 base64 body (curly apostrophe/quotes, en dash); apostrophe in '
                   'unquoted display name.'})


def en_mixed_alternative_pdf_png():
    date = 'Thu, 5 Nov 2026 14:09:58 +0000'
    mid = outlook_id('en_mixed', 'LO2P265MB5120', 'GBRP265')
    outer = '_004_LO2P265MB5120INV20260412_'
    inner = '_000_LO2P265MB5120INV20260412_'
    text = """\
Hi Ana,

I've gone through invoice INV-2026-0412 and I can't agree with the 14
hours billed for "contact form fixes". Our own log shows the form was
broken for two days and fixed in one afternoon.

I've attached the invoice with my notes and a screenshot of the
timesheet you shared with us. Happy to pay for 5 hours, not 14.

Can we get on a call this week to sort it out?

Mark Bennett
Bennett Plumbing & Heating
"""
    html = """\
<html><head><meta http-equiv="Content-Type" content="text/html; charset=us-ascii"></head>
<body><div style="font-family: Calibri, sans-serif; font-size: 11pt;">
<p>Hi Ana,</p>
<p>I've gone through invoice INV-2026-0412 and I can't agree with the 14 hours billed for
&quot;contact form fixes&quot;. Our own log shows the form was broken for two days and fixed in one
afternoon.</p>
<p>I've attached the invoice with my notes and a screenshot of the timesheet you shared with us.
Happy to pay for 5 hours, not 14.</p>
<p>Can we get on a call this week to sort it out?</p>
<p>Mark Bennett<br>Bennett Plumbing &amp; Heating</p>
</div></body></html>
"""
    alt = multipart(inner, [
        part(text_headers('plain', 'us-ascii', 'quoted-printable'),
             encode_body(text, 'ascii', 'quoted-printable')),
        part(text_headers('html', 'us-ascii', 'quoted-printable'),
             encode_body(html, 'ascii', 'quoted-printable')),
    ])
    parts = [
        part([('Content-Type', 'multipart/alternative;\n\tboundary="%s"' % inner)], alt),
        part([('Content-Type', 'application/pdf; name="INV-2026-0412.pdf"'),
              ('Content-Description', 'INV-2026-0412.pdf'),
              ('Content-Disposition', 'attachment; filename="INV-2026-0412.pdf"; size=%d'
               % len(fake_pdf('Invoice INV-2026-0412'))),
              ('Content-Transfer-Encoding', 'base64')],
             base64.encodebytes(fake_pdf('Invoice INV-2026-0412'))),
        part([('Content-Type', 'image/png; name="screenshot-timesheet.png"'),
              ('Content-Description', 'screenshot-timesheet.png'),
              ('Content-Disposition', 'attachment; filename="screenshot-timesheet.png"'),
              ('Content-Transfer-Encoding', 'base64')],
             base64.encodebytes(tiny_png())),
    ]
    hs = trace('mark@bennettplumbing.example', 'GBR01-LO2-obe.outbound.example.net',
               '192.0.2.144', received_date(date), rcpt=BILLING) + [
        ('From', 'Mark Bennett <mark@bennettplumbing.example>'),
        ('To', 'billing@agency.example'),
        ('CC', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', subj('Invoice INV-2026-0412 – disputed hours')),
        ('Thread-Topic', subj('Invoice INV-2026-0412 – disputed hours')),
        ('Date', date),
        ('Message-ID', mid),
        ('Accept-Language', 'en-GB, en-US'),
        ('Content-Language', 'en-GB'),
        ('X-MS-Has-Attach', 'yes'),
        ('Content-Type', 'multipart/mixed;\n\tboundary="%s"' % outer),
        ('MIME-Version', '1.0'),
    ]
    add('en_mixed_alternative_pdf_png.eml', message(hs, multipart(outer, parts), crlf=True),
        **{'from': 'mark@bennettplumbing.example',
           'subject': 'Invoice INV-2026-0412 – disputed hours',
           'message_id': mid,
           'date': '2026-11-05T14:09:58+00:00',
           'to': [BILLING], 'cc': [ANA_ADDR],
           'body_contains': ["I can't agree with the 14", 'Happy to pay for 5 hours',
                             'get on a call this week'],
           'attachments': ['INV-2026-0412.pdf', 'screenshot-timesheet.png'],
           'automated': False,
           'note': 'Outlook multipart/mixed > multipart/alternative (text+HTML, us-ascii QP) + PDF + PNG '
                   'attachments; folded Content-Type boundary; CRLF; invoice dispute.'})


def en_gmail_reply():
    date = 'Tue, 3 Nov 2026 08:47:02 -0500'
    mid = gmail_id('en_gmail_reply')
    ana = ana_id('en_gmail_reply')
    text = """\
Hi Ana,

Yes, that's the final version. The only change is the last line of the
hero section: please use "Yoga for every body" instead of "Yoga for all".

Also, the studio address in the footer still shows our old unit number.
It should be Unit 4B, not 2A.

Thanks!
Priya

On Tue, Nov 3, 2026 at 10:02 AM Ana Ruiz <ana@agency.example> wrote:

> Hi Priya,
>
> Attached is what we believe is the final homepage copy. Could you
> confirm before we send it to the developer on Thursday?
>
> Best,
> Ana
>
"""
    hs = trace('priya.nair.studio@example.com', 'mail-yb1-f173.example.com', '192.0.2.173',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('References', ana),
        ('In-Reply-To', ana),
        ('From', 'Priya Nair <priya.nair.studio@example.com>'),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', 'Re: Homepage copy - final version?'),
        ('To', ANA),
        ('Content-Type', 'text/plain; charset="UTF-8"'),
    ]
    add('en_gmail_reply.eml', message(hs, text.encode('ascii')),
        **{'from': 'priya.nair.studio@example.com',
           'subject': 'Re: Homepage copy - final version?',
           'message_id': mid,
           'date': '2026-11-03T13:47:02+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['please use "Yoga for every body"', 'the studio address in the footer',
                             'It should be Unit 4B'],
           'body_excludes': ['what we believe is the final homepage copy',
                             'send it to the developer on Thursday'],
           'quoted_contains': ['what we believe is the final homepage copy',
                               'send it to the developer on Thursday'],
           'automated': False,
           'note': 'Gmail plain-text reply, no Content-Transfer-Encoding header (7bit default): '
                   '"On Tue, Nov 3, 2026 at 10:02 AM Ana Ruiz <...> wrote:" + "> " quote.'})


def en_gmail_reply_wrapped_attribution():
    date = 'Wed, 4 Nov 2026 19:51:40 +0000'
    mid = gmail_id('en_gmail_wrapped')
    ana = ana_id('en_gmail_wrapped')
    text = """\
Hi Ana,

Sorry for the slow reply, we've been flat out on a kitchen fit. The
quote looks fair. One question before I sign: does the monthly fee
include changing photos on the gallery page, or is that extra?

If it's included, we're good to go.

Tom

On Tue, Nov 3, 2026 at 10:02 AM Ana Ruiz (Agency Example project team) <
ana@agency.example> wrote:

> Hi Tom,
>
> Please find our quote for the new website below. The total is £2,150
> including the first year of hosting.
>
> Kind regards,
> Ana
>
"""
    hs = trace('tom@hughesjoinery.example', 'mail-lf1-f47.example.com', '192.0.2.47',
               received_date(date)) + [
        ('MIME-Version', '1.0'),
        ('References', ana),
        ('In-Reply-To', ana),
        ('From', 'Tom Hughes <tom@hughesjoinery.example>'),
        ('Date', date),
        ('Message-ID', mid),
        ('Subject', 'Re: Quote for the new website (Hughes Joinery)'),
        ('To', '"Ana Ruiz (Agency Example project team)" <ana@agency.example>'),
        ('Content-Type', 'text/plain; charset="UTF-8"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('en_gmail_reply_wrapped_attribution.eml',
        message(hs, encode_body(text, 'utf-8', 'quoted-printable')),
        **{'from': 'tom@hughesjoinery.example',
           'subject': 'Re: Quote for the new website (Hughes Joinery)',
           'message_id': mid,
           'date': '2026-11-04T19:51:40+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['flat out on a kitchen fit', 'changing photos on the gallery page',
                             "we're good to go"],
           'body_excludes': ['The total is £2,150', 'including the first year of hosting'],
           'quoted_contains': ['The total is £2,150', 'including the first year of hosting'],
           'automated': False,
           'note': 'Gmail reply whose attribution line is wrapped over two lines ("... <" / '
                   '"ana@agency.example> wrote:") because of a long display name; QP for the pound sign.'})


def en_outlook_original_message():
    date = 'Tue, 3 Nov 2026 11:36:14 +0000'
    mid = outlook_id('en_outlook_original', 'CWLP265MB3342', 'GBRP265')
    ana = ana_id('en_outlook_original')
    text = """\
Ana,

The reviews widget is showing reviews from a different dental practice
in another city. A patient pointed it out this morning and it is quite
embarrassing. Please take it down until it is fixed.

Emily Carter
Practice Manager

-----Original Message-----
From: Ana Ruiz <ana@agency.example>
Sent: Tuesday, November 3, 2026 10:02 AM
To: Emily Carter <ecarter@carterdental.example>
Subject: Google reviews widget

Hi Emily,

The Google reviews widget is now live on your homepage. It refreshes
automatically once a day.

Best regards,
Ana Ruiz
"""
    hs = trace('ecarter@carterdental.example', 'mail.carterdental.example', '203.0.113.101',
               received_date(date)) + [
        ('From', 'Emily Carter <ecarter@carterdental.example>'),
        ('To', "'Ana Ruiz' <ana@agency.example>"),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Subject', 'RE: Google reviews widget'),
        ('Date', date),
        ('Message-ID', mid),
        ('X-Mailer', 'Microsoft Outlook 16.0'),
        ('Thread-Index', 'AQJ0bXlfcmV2aWV3c193aWRnZXQ='),
        ('Content-Language', 'en-gb'),
    ]
    add('en_outlook_original_message.eml',
        single_text(hs, text, 'ascii', 'us-ascii', '7bit', crlf=True),
        **{'from': 'ecarter@carterdental.example',
           'subject': 'RE: Google reviews widget',
           'message_id': mid,
           'date': '2026-11-03T11:36:14+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR],
           'body_contains': ['reviews from a different dental practice', 'A patient pointed it out',
                             'Please take it down'],
           'body_excludes': ['The Google reviews widget is now live', 'automatically once a day'],
           'quoted_contains': ['The Google reviews widget is now live', 'automatically once a day'],
           'automated': False,
           'note': 'Outlook desktop reply: "-----Original Message-----" then From:/Sent:/To:/Subject: '
                   '(no underscore line); us-ascii 7bit; CRLF.'})


def en_outlook_android_underscore_headers():
    date = 'Tue, 3 Nov 2026 19:05:33 -0500'
    mid = outlook_id('en_outlook_android', 'BN8PR12MB3105', 'namprd12')
    ana = ana_id('en_outlook_android')
    text = """\
Hi, paid it just now from my phone. Sorry it was late, I was away on site all last week.

Sent from Outlook for Android
________________________________
From: Ana Ruiz <ana@agency.example>
Sent: Tuesday, November 3, 2026 10:02:11 AM
To: Daniel Brooks <dan.brooks@brookslandscaping.example>
Subject: Domain renewal invoice

Hi Daniel,

Just a reminder that the invoice for your domain renewal (INV-2026-0398) is now 7 days overdue.

Thanks,
Ana
"""
    hs = trace('dan.brooks@brookslandscaping.example', 'NAM12-BN8-obe.outbound.example.net',
               '192.0.2.105', received_date(date), rcpt=BILLING) + [
        ('From', 'Daniel Brooks <dan.brooks@brookslandscaping.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('CC', 'Billing <billing@agency.example>'),
        ('Subject', 'Re: Domain renewal invoice'),
        ('Thread-Topic', 'Domain renewal invoice'),
        ('Date', date),
        ('Message-ID', mid),
        ('References', ana),
        ('In-Reply-To', ana),
        ('Content-Language', 'en-US'),
        ('X-MS-Has-Attach', ''),
    ]
    add('en_outlook_android_underscore_headers.eml',
        single_text(hs, text, 'utf-8', 'utf-8', 'quoted-printable', crlf=True),
        **{'from': 'dan.brooks@brookslandscaping.example',
           'subject': 'Re: Domain renewal invoice',
           'message_id': mid,
           'date': '2026-11-04T00:05:33+00:00',
           'in_reply_to': ana, 'references': [ana],
           'to': [ANA_ADDR], 'cc': [BILLING],
           'body_contains': ['paid it just now from my phone', 'I was away on site'],
           'body_excludes': ['Sent from Outlook for Android', 'is now 7 days overdue'],
           'quoted_contains': ['is now 7 days overdue'],
           'signature_contains': ['Sent from Outlook for Android'],
           'automated': False,
           'note': 'Outlook for Android: "Sent from Outlook for Android" immediately followed by the '
                   'underscore line and From:/Sent:/To:/Subject: block; QP; CRLF; date rolls to next day in UTC.'})


def en_sig_dashdash():
    date = 'Fri, 6 Nov 2026 10:12:00 +0000'
    mid = uuid_id('en_sig_dashdash', 'grantarchitects.example')
    text = """\
Hi Ana,

Could you reorder the projects on the portfolio page so the Harbour
Library comes first? It won the regional award last week and we'd like
it to be the first thing people see.

Also please remove the Elm Street house entirely, the client asked us
to take it down.

Thanks,
Oliver

-- 
Oliver Grant RIBA
Grant Architects Ltd
+44 20 0000 0000 | grantarchitects.example
"""
    hs = trace('oliver@grantarchitects.example', 'mail.grantarchitects.example', '198.51.100.19',
               received_date(date)) + [
        ('From', 'Oliver Grant <oliver@grantarchitects.example>'),
        ('To', 'ana@agency.example'),
        ('Subject', 'Portfolio page - project order'),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=us-ascii'),
        ('Content-Transfer-Encoding', '7bit'),
        ('User-Agent', 'Mutt/2.2.12 (2023-09-09)'),
    ]
    add('en_sig_dashdash.eml', message(hs, text.encode('ascii')),
        **{'from': 'oliver@grantarchitects.example',
           'subject': 'Portfolio page - project order',
           'message_id': mid,
           'date': '2026-11-06T10:12:00+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['reorder the projects on the portfolio page', 'It won the regional award',
                             'remove the Elm Street house'],
           'body_excludes': ['Grant Architects Ltd', 'Oliver Grant RIBA'],
           'signature_contains': ['Grant Architects Ltd', 'Oliver Grant RIBA'],
           'automated': False,
           'note': 'Classic "-- " (dash dash space) signature delimiter, 7bit us-ascii.'})


def en_iphone_no_message_id():
    date = 'Sat, 7 Nov 2026 09:30:41 +0000'
    text = """\
Yes please add them. 23rd Dec open till 8pm, closed 25th and 26th, back to normal on the 27th.

Sent from my iPhone
"""
    hs = trace('hannah@lewisflorist.example', 'smtp.lewisflorist.example', '203.0.113.3',
               received_date(date)) + [
        ('Content-Type', 'text/plain; charset=us-ascii'),
        ('Content-Transfer-Encoding', '7bit'),
        ('From', 'Hannah Lewis <hannah@lewisflorist.example>'),
        ('Mime-Version', '1.0 (1.0)'),
        ('Subject', 'Re: Christmas opening hours'),
        ('Date', date),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('X-Mailer', 'iPhone Mail (22B91)'),
    ]
    add('en_iphone_no_message_id.eml', message(hs, text.encode('ascii')),
        **{'from': 'hannah@lewisflorist.example',
           'subject': 'Re: Christmas opening hours',
           'message_id': 'synthetic',
           'date': '2026-11-07T09:30:41+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['Yes please add them', 'closed 25th and 26th',
                             'back to normal on the 27th'],
           'body_excludes': ['Sent from my iPhone'],
           'signature_contains': ['Sent from my iPhone'],
           'automated': False,
           'note': 'No Message-ID header (parser must synthesise one); "Sent from my iPhone"; '
                   '"Re:" subject without In-Reply-To.'})


def en_sig_best_regards_block():
    date = 'Mon, 9 Nov 2026 09:00:17 +0000'
    mid = uuid_id('en_sig_best_regards', 'whitfieldlogistics.example')
    text = """\
Dear Ana,

We are onboarding three new account managers on 16 November and they
will each need a login for the client portal. Their details are:

  - Laura Kent, laura.kent@whitfieldlogistics.example
  - Sam Osei, sam.osei@whitfieldlogistics.example
  - Rachel Moore, rachel.moore@whitfieldlogistics.example

Could you also confirm whether there is an extra cost per user?

Best regards,

James Whitfield
Operations Director
Whitfield Logistics Ltd
Tel: +44 161 000 0000
"""
    hs = trace('j.whitfield@whitfieldlogistics.example', 'mail.whitfieldlogistics.example',
               '198.51.100.240', received_date(date)) + [
        ('From', 'James Whitfield <j.whitfield@whitfieldlogistics.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', 'Request: staff logins for the client portal'),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="us-ascii"'),
        ('Content-Transfer-Encoding', '7bit'),
    ]
    add('en_sig_best_regards_block.eml', message(hs, text.encode('ascii')),
        **{'from': 'j.whitfield@whitfieldlogistics.example',
           'subject': 'Request: staff logins for the client portal',
           'message_id': mid,
           'date': '2026-11-09T09:00:17+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['three new account managers', 'need a login for the client portal',
                             'an extra cost per user'],
           'automated': False,
           'note': 'Request with an indented list; "Best regards," + name/title/company/phone block, no '
                   'delimiter (signature split not asserted).'})


def en_odd_date_format():
    date = '3 Nov 26 10:02 EST'
    mid = '<Pine.LNX.4.64.2611031002.K7W@walshroofing.example>'
    text = """\
Hello,

The quote requests from our website contact form are going to my old
personal email instead of the office inbox. Can you change it to
office@walshroofing.example please?

Thanks
Kevin
"""
    hs = trace('KWalsh@WalshRoofing.example', 'mail.walshroofing.example', '203.0.113.250',
               'Tue, 03 Nov 2026 16:02:09 +0100 (CET)') + [
        ('Date', date),
        ('From', '"Kevin Walsh" <KWalsh@WalshRoofing.example>'),
        ('To', 'ANA@AGENCY.EXAMPLE'),
        ('Subject', 'Contact form going to the wrong inbox'),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'TEXT/PLAIN; charset=US-ASCII; format=flowed'),
    ]
    add('en_odd_date_format.eml', message(hs, text.encode('ascii')),
        **{'from': 'kwalsh@walshroofing.example',
           'subject': 'Contact form going to the wrong inbox',
           'message_id': mid,
           'date': '2026-11-03T15:02:00+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['going to my old', 'instead of the office inbox',
                             'Can you change it to'],
           'automated': False,
           'note': 'Odd but valid Date "3 Nov 26 10:02 EST" (no weekday, 2-digit year, no seconds, '
                   'obsolete zone name); upper-case addresses and MIME type.'})


def en_long_subject_unfolded():
    date = 'Fri, 27 Nov 2026 07:45:03 +0000'
    mid = uuid_id('en_long_subject', 'pricehomewares.example')
    subject = ("URGENT - website down again, checkout page throwing errors, customers cannot pay, "
               "phone number in the header still redirecting to the old shop, and the Black Friday "
               "banner is showing last year's prices - please call me as soon as you read this")
    text = """\
Ana,

Everything is in the subject line. I have tried calling the office twice
this morning. Please call me on my mobile as soon as you can.

Natalie
"""
    hs = trace('natalie@pricehomewares.example', 'mail.pricehomewares.example', '198.51.100.84',
               received_date(date)) + [
        ('From', 'Natalie Price <natalie@pricehomewares.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', subject),
        ('Date', date),
        ('Message-ID', mid),
        ('Importance', 'high'),
        ('X-Priority', '1'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset=us-ascii'),
        ('Content-Transfer-Encoding', '7bit'),
    ]
    data = message(hs, text.encode('ascii'))
    assert len(('Subject: ' + subject)) > 200
    add('en_long_subject_unfolded.eml', data,
        **{'from': 'natalie@pricehomewares.example',
           'subject': subject,
           'message_id': mid,
           'date': '2026-11-27T07:45:03+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['Everything is in the subject line', 'tried calling the office twice',
                             'call me on my mobile'],
           'automated': False,
           'note': 'Very long Subject (over 250 characters) on one single unfolded header line.'})


def en_autoreply_outlook():
    date = 'Thu, 5 Nov 2026 16:00:08 +0000'
    mid = outlook_id('en_autoreply', 'LO4P265MB6017', 'GBRP265')
    inv = '<20261105155900.0F1E2D3C4B@agency.example>'
    text = """\
Thank you for your email. I am out of the office until Monday 16 November
with no access to email. For invoices and payments please contact
accounts@halefinance.example.
"""
    hs = trace('rhale@halefinance.example', 'GBR01-LO4-obe.outbound.example.net', '192.0.2.16',
               received_date(date), rcpt=BILLING) + [
        ('From', 'Richard Hale <rhale@halefinance.example>'),
        ('To', 'billing@agency.example'),
        ('Subject', 'Automatic reply: Invoice INV-2026-0420'),
        ('Thread-Topic', 'Invoice INV-2026-0420'),
        ('Date', date),
        ('Message-ID', mid),
        ('In-Reply-To', inv),
        ('References', inv),
        ('Auto-Submitted', 'auto-generated'),
        ('X-Auto-Response-Suppress', 'All'),
        ('Content-Language', 'en-GB'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="us-ascii"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('en_autoreply_outlook.eml', message(hs, encode_body(text, 'ascii', 'quoted-printable'), crlf=True),
        **{'from': 'rhale@halefinance.example',
           'subject': 'Automatic reply: Invoice INV-2026-0420',
           'message_id': mid,
           'date': '2026-11-05T16:00:08+00:00',
           'in_reply_to': inv, 'references': [inv],
           'to': [BILLING],
           'body_contains': ['I am out of the office', 'with no access to email',
                             'For invoices and payments'],
           'automated': True,
           'note': 'Exchange out-of-office: "Automatic reply:" subject, Auto-Submitted: auto-generated, '
                   'X-Auto-Response-Suppress; CRLF.'})


def en_newsletter_list():
    date = 'Tue, 10 Nov 2026 14:00:00 +0000'
    mid = '<news.2026-11.a8f3k2@hostbay.example>'
    boundary = '==hb-news-2026-11-a8f3k2=='
    text = """\
Hostbay customer news - November 2026

PHP 8.4 rollout
From 17 November all shared hosting plans will default to PHP 8.4.
Sites pinned to an older version will keep it until March.

New control panel
The redesigned control panel is now available to everyone. You can
switch back to the classic view from your account settings.

You are receiving this because you have a Hostbay account.
Unsubscribe: https://hostbay.example/unsubscribe/a8f3k2
"""
    html = """\
<html><body style="margin:0;background:#f4f4f4">
<table width="600" align="center" style="background:#ffffff"><tr><td>
<h1>Hostbay customer news &ndash; November 2026</h1>
<h2>PHP 8.4 rollout</h2>
<p>From 17 November all shared hosting plans will default to PHP 8.4.
Sites pinned to an older version will keep it until March.</p>
<h2>New control panel</h2>
<p>The redesigned control panel is now available to everyone. You can
switch back to the classic view from your account settings.</p>
<p style="font-size:11px;color:#888">You are receiving this because you have a Hostbay account.
<a href="https://hostbay.example/unsubscribe/a8f3k2">Unsubscribe</a></p>
</td></tr></table>
<img src="https://hostbay.example/o/a8f3k2.gif" width="1" height="1" alt="">
</body></html>
"""
    parts = [
        part(text_headers('plain', 'utf-8', '7bit'), text.encode('ascii')),
        part(text_headers('html', 'utf-8', '7bit'), html.encode('ascii')),
    ]
    hs = trace('bounces+a8f3k2@mailer.hostbay.example', 'mailer.hostbay.example', '198.51.100.250',
               received_date(date)) + [
        ('From', 'Hostbay News <news@hostbay.example>'),
        ('To', 'ana@agency.example'),
        ('Subject', 'November update: PHP 8.4 rollout and new control panel'),
        ('Date', date),
        ('Message-ID', mid),
        ('List-Id', 'Hostbay customer news <news.hostbay.example>'),
        ('List-Unsubscribe', '<mailto:unsubscribe+a8f3k2@hostbay.example>,\n'
                             ' <https://hostbay.example/unsubscribe/a8f3k2>'),
        ('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'),
        ('Precedence', 'bulk'),
        ('Feedback-ID', 'news-2026-11:hostbay'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'multipart/alternative; boundary="%s"' % boundary),
    ]
    add('en_newsletter_list.eml', message(hs, multipart(boundary, parts)),
        **{'from': 'news@hostbay.example',
           'subject': 'November update: PHP 8.4 rollout and new control panel',
           'message_id': mid,
           'date': '2026-11-10T14:00:00+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['all shared hosting plans will default',
                             'The redesigned control panel'],
           'automated': True,
           'note': 'Newsletter / list mail: List-Id, List-Unsubscribe (+Post), Precedence: bulk, '
                   'multipart/alternative.'})


def en_bounce_dsn():
    date = 'Wed, 4 Nov 2026 09:15:01 +0100 (CET)'
    qid = '8C3B21C0042'
    mid = '<20261104081501.%s@mx.agency.example>' % qid
    boundary = '%s.1793781301/mx.agency.example' % qid
    orig_mid = '<20261104081458.5D6E7F8091@agency.example>'
    notice = """\
This is the mail system at host mx.agency.example.

Your message could not be delivered to the recipient listed below.
The remote server reported that the mailbox does not exist.

If you need help, write to postmaster and include this report. The
headers of the original message are attached.

                   The mail system

<pedidos@antiguocliente.example>: host mx.antiguocliente.example[203.0.113.25]
    said: 550 5.1.1 <pedidos@antiguocliente.example>: mailbox not found
    here (in reply to RCPT TO command)
"""
    status = """\
Reporting-MTA: dns; mx.agency.example
X-Postfix-Queue-ID: 8C3B21C0042
X-Postfix-Sender: rfc822; billing@agency.example
Arrival-Date: Wed,  4 Nov 2026 09:14:58 +0100 (CET)

Final-Recipient: rfc822; pedidos@antiguocliente.example
Original-Recipient: rfc822;pedidos@antiguocliente.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.antiguocliente.example
Diagnostic-Code: smtp; 550 5.1.1 <pedidos@antiguocliente.example>: mailbox not
    found here
"""
    orig_headers = """\
Return-Path: <billing@agency.example>
Received: from app.agency.example (app.agency.example [192.0.2.10])
	by mx.agency.example (Postfix) with ESMTPSA id 8C3B21C0042
	for <pedidos@antiguocliente.example>; Wed,  4 Nov 2026 09:14:58 +0100 (CET)
From: Billing <billing@agency.example>
To: pedidos@antiguocliente.example
Subject: Factura 2026-127
Date: Wed, 4 Nov 2026 09:14:58 +0100
Message-ID: %s
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inv-2026-127"
""" % orig_mid
    parts = [
        part([('Content-Description', 'Notification'),
              ('Content-Type', 'text/plain; charset=us-ascii')], notice.encode('ascii')),
        part([('Content-Description', 'Delivery report'),
              ('Content-Type', 'message/delivery-status')], status.encode('ascii')),
        part([('Content-Description', 'Undelivered Message Headers'),
              ('Content-Type', 'text/rfc822-headers')], orig_headers.encode('ascii')),
    ]
    hs = [
        ('Return-Path', '<>'),
        ('X-Original-To', 'billing@agency.example'),
        ('Delivered-To', 'billing@agency.example'),
        ('Received', 'by mx.agency.example (Postfix)\n\tid %s; %s' % (qid, date)),
        ('Date', date),
        ('From', 'MAILER-DAEMON@mx.agency.example (Mail Delivery System)'),
        ('Subject', 'Undelivered Mail Returned to Sender'),
        ('To', 'billing@agency.example'),
        ('Auto-Submitted', 'auto-replied'),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'multipart/report; report-type=delivery-status;\n'
                         '\tboundary="%s"' % boundary),
        ('Content-Transfer-Encoding', '8bit'),
        ('Message-Id', mid),
    ]
    add('en_bounce_dsn.eml',
        message(hs, multipart(boundary, parts, preamble='This is a MIME-encapsulated message.\n')),
        **{'from': 'mailer-daemon@mx.agency.example',
           'subject': 'Undelivered Mail Returned to Sender',
           'message_id': mid,
           'date': '2026-11-04T08:15:01+00:00',
           'to': [BILLING],
           'body_contains': ['could not be delivered to the recipient',
                             'the mailbox does not exist'],
           'automated': True,
           'note': 'Bounce: multipart/report; report-type=delivery-status from MAILER-DAEMON with '
                   'text/plain notice, message/delivery-status and text/rfc822-headers parts.'})


def en_unknown_charset():
    date = 'Wed, 4 Nov 2026 20:10:10 -0800'
    mid = uuid_id('en_unknown_charset', 'kimyogastudio.example')
    text = """\
Hi Ana,

Can you swap the Wednesday and Thursday evening classes on the
timetable page? Vinyasa moves to Thursday at 7pm and Yin moves to
Wednesday at 7pm, starting next week.

Thank you so much,
Grace
"""
    hs = trace('grace@kimyogastudio.example', 'mail.kimyogastudio.example', '203.0.113.199',
               received_date(date)) + [
        ('From', 'Grace Kim <grace@kimyogastudio.example>'),
        ('To', 'Ana Ruiz <ana@agency.example>'),
        ('Subject', 'Class timetable update'),
        ('Date', date),
        ('Message-ID', mid),
        ('MIME-Version', '1.0'),
        ('Content-Type', 'text/plain; charset="x-unknown-charset"'),
        ('Content-Transfer-Encoding', 'quoted-printable'),
    ]
    add('en_unknown_charset.eml', message(hs, encode_body(text, 'ascii', 'quoted-printable')),
        **{'from': 'grace@kimyogastudio.example',
           'subject': 'Class timetable update',
           'message_id': mid,
           'date': '2026-11-05T04:10:10+00:00',
           'to': [ANA_ADDR],
           'body_contains': ['swap the Wednesday and Thursday', 'Vinyasa moves to Thursday',
                             'starting next week'],
           'automated': False,
           'note': 'charset="x-unknown-charset" (LookupError in Python codecs): must fall back '
                   '(ASCII/UTF-8/latin-1) instead of failing.'})


# ===========================================================================
# UNREADABLE
# ===========================================================================

def xx_unreadable():
    add('xx_empty.eml', b'',
        unreadable=True,
        note='Empty file (0 bytes): nothing to parse, must be reported as unreadable without crashing.')
    junk = garbage('triage-binary-garbage', 2048)
    # make sure it is not accidentally text-like: force some NULs and high bytes
    junk = b'\x00\x8f\xff\x1b' + junk[4:]
    add('xx_binary_garbage.eml', junk,
        unreadable=True,
        note='2 KiB of deterministic binary garbage (SHA-256 stream, contains NULs): unreadable.')


BUILDERS = [
    es_plain_utf8_8bit, es_latin1_qp, es_cp1252_8bit_curly_euro, es_html_only_entities,
    es_mixed_pdf_jpg_rfc2231, es_gmail_reply_qp, es_outlook_mensaje_original,
    es_outlook_underscore_headers, es_apple_mail_reply_iphone, es_html_reply_gmail_quote,
    es_sig_saludos_block, es_no_date, es_rfc2047_utf8_q_latin1_b, es_cc_bcc_replyto,
    es_autoreply_auto_submitted, es_autoreply_x_autoreply, es_truncated_multipart,
    es_header_without_colon,
    pt_plain_utf8_qp_sig, pt_latin1_8bit, pt_cp1252_qp_curly_euro, pt_gmail_reply_alternative,
    pt_outlook_mensagem_original, pt_outlook_underscore_headers, pt_bare_quote,
    pt_iphone_enviado_do_meu, pt_sig_atenciosamente_block, pt_garbage_date,
    pt_rfc2047_latin1_q_utf8_b, pt_autoreply_precedence, pt_utf8_declared_latin1_bytes,
    pt_no_headers,
    en_plain_utf8_base64, en_mixed_alternative_pdf_png, en_gmail_reply,
    en_gmail_reply_wrapped_attribution, en_outlook_original_message,
    en_outlook_android_underscore_headers, en_sig_dashdash, en_iphone_no_message_id,
    en_sig_best_regards_block, en_odd_date_format, en_long_subject_unfolded, en_autoreply_outlook,
    en_newsletter_list, en_bounce_dsn, en_unknown_charset,
    xx_unreadable,
]

KEY_ORDER = ['from', 'subject', 'message_id', 'date', 'in_reply_to', 'references', 'to', 'cc',
             'bcc', 'reply_to', 'body_contains', 'body_excludes', 'quoted_contains',
             'signature_contains', 'attachments', 'automated', 'unreadable', 'note']


def main():
    for build in BUILDERS:
        build()
    manifest = {}
    for name in sorted(FIXTURES):
        data, meta = FIXTURES[name]
        unknown = set(meta) - set(KEY_ORDER)
        assert not unknown, (name, unknown)
        assert len(data) < 20 * 1024, (name, len(data))
        with open(os.path.join(HERE, name), 'wb') as fh:
            fh.write(data)
        manifest[name] = {k: meta[k] for k in KEY_ORDER if k in meta}
    with open(os.path.join(HERE, 'expected.json'), 'w', encoding='utf-8', newline='\n') as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.write('\n')
    print('wrote %d fixtures + expected.json to %s' % (len(manifest), HERE))


if __name__ == '__main__':
    main()
