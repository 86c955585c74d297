#!/usr/bin/env python3
"""Sanity-check the mail fixtures against expected.json.

Decodes every fixture with Python's own email package
(email.policy.default) and checks that the manifest is consistent with what
is really in the files.  It does NOT test triage; it tests the test data.

    python3 tests/data/mail/check_fixtures.py        # exit status 1 on failure
"""
import email
import email.policy
import email.utils
import html
import html.parser
import json
import os
import re
import sys
from datetime import timezone

HERE = os.path.dirname(os.path.abspath(__file__))

# Files where Python's stdlib parser is known to see less than a tolerant
# parser should; header comparisons for these are reported, not failed.
STDLIB_LIMITS = {
    'es_header_without_colon.eml': 'stdlib stops reading headers at the line without a colon',
    'pt_no_headers.eml': 'no headers at all',
}
# Files whose declared charset is deliberately wrong / unknown.
BAD_CHARSET = {'pt_utf8_declared_latin1_bytes.eml', 'en_unknown_charset.eml',
               'es_header_without_colon.eml', 'pt_no_headers.eml'}

ALLOWED_KEYS = {'from', 'subject', 'message_id', 'date', 'in_reply_to', 'references', 'to', 'cc',
                'bcc', 'reply_to', 'body_contains', 'body_excludes', 'quoted_contains',
                'signature_contains', 'attachments', 'automated', 'unreadable', 'note'}

errors, notes = [], []
stats = {'files': 0, 'phrases': 0, 'header_checks': 0}


def err(name, msg):
    errors.append('%s: %s' % (name, msg))


class _Text(html.parser.HTMLParser):
    BLOCK = {'p', 'div', 'br', 'tr', 'table', 'blockquote', 'h1', 'h2', 'h3', 'li', 'ul', 'ol'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style', 'head'):
            self.skip += 1
        elif tag in self.BLOCK:
            self.out.append('\n')
        elif tag in ('td', 'th'):
            self.out.append(' ')

    def handle_endtag(self, tag):
        if tag in ('script', 'style', 'head'):
            self.skip -= 1
        elif tag in self.BLOCK:
            self.out.append('\n')

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_to_text(src):
    p = _Text()
    p.feed(src)
    p.close()
    text = ''.join(p.out).replace('\xa0', ' ')
    return re.sub(r'[ \t\r\n]+', ' ', text)


def decode_part(part):
    """get_content() with a fallback for unknown charsets."""
    try:
        return part.get_content(), None
    except LookupError as exc:
        raw = part.get_payload(decode=True) or b''
        return raw.decode('utf-8', 'replace'), 'LookupError(%s) -> utf-8 fallback' % exc


def addresses(msg, header):
    values = msg.get_all(header) or []
    return [a.lower() for _, a in email.utils.getaddresses([str(v) for v in values]) if a]


def check_headers(name, msg, exp):
    soft = name in STDLIB_LIMITS

    def cmp(key, got):
        stats['header_checks'] += 1
        if got != exp[key]:
            line = '%s: %s expected %r, stdlib gives %r' % (name, key, exp[key], got)
            if soft:
                notes.append(line + '  [expected divergence: %s]' % STDLIB_LIMITS[name])
            else:
                errors.append(line)

    if 'from' in exp:
        got = addresses(msg, 'from')
        cmp('from', got[0] if got else None)
    if 'subject' in exp:
        cmp('subject', None if msg['subject'] is None else str(msg['subject']))
    if 'message_id' in exp:
        mid = msg['message-id']
        cmp('message_id', str(mid).strip() if mid is not None else 'synthetic')
    if 'date' in exp:
        hdr = msg['date']
        got = 'flagged'
        if hdr is not None and getattr(hdr, 'datetime', None) is not None:
            dt = hdr.datetime
            if dt.tzinfo is not None:
                got = dt.astimezone(timezone.utc).isoformat()
                # weekday (if any) must agree with the date
                m = re.match(r'\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun),', str(hdr))
                if m and m.group(1) != dt.strftime('%a'):
                    err(name, 'weekday %s does not match %s' % (m.group(1), dt.date()))
        cmp('date', got)
    if 'in_reply_to' in exp:
        v = msg['in-reply-to']
        cmp('in_reply_to', str(v).strip() if v is not None else None)
    if 'references' in exp:
        v = msg['references']
        cmp('references', str(v).split() if v is not None else [])
    for key, header in (('to', 'to'), ('cc', 'cc'), ('bcc', 'bcc'), ('reply_to', 'reply-to')):
        if key in exp:
            cmp(key, addresses(msg, header))
        elif msg[header] is not None and not soft:
            err(name, 'file has %s header but manifest has no %r' % (header, key))


def check_file(name, exp):
    path = os.path.join(HERE, name)
    if not os.path.isfile(path):
        err(name, 'file missing')
        return
    data = open(path, 'rb').read()
    stats['files'] += 1
    if len(data) >= 20 * 1024:
        err(name, 'too large (%d bytes)' % len(data))
    unknown = set(exp) - ALLOWED_KEYS
    if unknown:
        err(name, 'unknown manifest keys %s' % sorted(unknown))
    if not exp.get('note'):
        err(name, 'missing note')
    if exp.get('unreadable'):
        return

    # consistent line endings
    crlf = data.count(b'\r\n')
    bare_lf = data.count(b'\n') - crlf
    if crlf and bare_lf:
        err(name, 'mixed line endings (%d CRLF, %d LF)' % (crlf, bare_lf))

    msg = email.message_from_bytes(data, policy=email.policy.default)
    check_headers(name, msg, exp)

    # --- body text as the stdlib decodes it
    body = msg.get_body(preferencelist=('plain', 'html'))
    if body is None:
        err(name, 'no text body found')
        return
    chosen, fallback = decode_part(body)
    if fallback:
        notes.append('%s: %s' % (name, fallback))
    if body.get_content_subtype() == 'html':
        chosen = html_to_text(chosen)
        norm = lambda s: re.sub(r'\s+', ' ', s)
    else:
        norm = lambda s: s

    # every text part, raw, plus html-unescaped html, for the "trap exists" checks
    everything = []
    for p in msg.walk():
        if p.is_multipart() or p.get_content_maintype() != 'text':
            continue
        try:
            t, _ = decode_part(p)
        except Exception:  # noqa: BLE001 - defects in broken parts
            continue
        everything.append(t)
        if p.get_content_subtype() == 'html':
            everything.append(html.unescape(t))
            everything.append(html_to_text(t))
    everything = '\n'.join(everything)

    # --- charsets really match the declarations
    if name not in BAD_CHARSET:
        for p in msg.walk():
            if p.get_content_maintype() != 'text' or p.is_multipart():
                continue
            cs = p.get_content_charset() or 'us-ascii'
            raw = p.get_payload(decode=True) or b''
            try:
                raw.decode(cs)
            except UnicodeDecodeError as exc:
                if name != 'es_truncated_multipart.eml':
                    err(name, 'part %s does not decode as %s: %s' % (p.get_content_type(), cs, exc))

    bc = exp.get('body_contains', [])
    ex = exp.get('body_excludes', [])
    qc = exp.get('quoted_contains', [])
    sc = exp.get('signature_contains', [])
    for ph in bc + ex:
        if len(ph.split()) < 3:
            err(name, 'phrase not distinctive (<3 words): %r' % ph)
    for a in bc:
        for b in ex:
            if a in b or b in a:
                err(name, 'body_contains %r overlaps body_excludes %r' % (a, b))

    later = [p for p in qc + sc + ex if norm(p) in chosen]
    split = min((chosen.index(norm(p)) for p in later), default=len(chosen))
    for ph in bc:
        stats['phrases'] += 1
        n = chosen.count(norm(ph))
        if n == 0:
            err(name, 'body_contains phrase not in decoded body: %r' % ph)
        elif n > 1:
            err(name, 'body_contains phrase occurs %d times (also in quote/signature?): %r' % (n, ph))
        elif chosen.index(norm(ph)) >= split:
            err(name, 'body_contains phrase %r is not above the quote/signature' % ph)
    for ph in qc + sc + ex:
        stats['phrases'] += 1
        if ph not in everything and norm(ph) not in everything:
            err(name, 'quoted/signature/excluded phrase absent from the message: %r' % ph)

    # --- attachments
    names = [p.get_filename() for p in msg.walk() if p.get_filename()]
    if names != exp.get('attachments', []):
        err(name, 'attachments %r, manifest %r' % (names, exp.get('attachments', [])))


def main():
    raw = open(os.path.join(HERE, 'expected.json'), 'rb').read()
    manifest = json.loads(raw.decode('utf-8'))
    assert isinstance(manifest, dict)
    on_disk = sorted(f for f in os.listdir(HERE) if f.endswith('.eml'))
    for f in on_disk:
        if f not in manifest:
            err(f, 'file on disk but not in manifest')
    for name in sorted(manifest):
        check_file(name, manifest[name])
    unread = [n for n, e in manifest.items() if e.get('unreadable')]
    print('manifest: valid JSON, %d entries, %d .eml files on disk' % (len(manifest), len(on_disk)))
    print('checked %d files, %d header comparisons, %d phrases; unreadable: %s'
          % (stats['files'], stats['header_checks'], stats['phrases'], ', '.join(sorted(unread))))
    for n in notes:
        print('NOTE  ' + n)
    for e in errors:
        print('ERROR ' + e)
    print('OK' if not errors else '%d error(s)' % len(errors))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
