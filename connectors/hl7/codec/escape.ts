// HL7 escape sequences (v2.5 §2.7): \F\ \S\ \T\ \R\ \E\ for the delimiters, \Xhh…\ for raw bytes,
// and the formatted-text commands (\.br\, \.sp\, \H\, \N\ …). Values are stored escaped; they are
// unescaped only when read, so a message that is never looked at costs nothing here.
import type { Delimiters } from './delimiters';

export type BytesDecoder = (bytes: Buffer) => string;

const utf8Decoder: BytesDecoder = (bytes) => bytes.toString('utf8');

/** Turns an escaped value into text. Unknown or unterminated sequences are kept as written. */
export function unescapeValue(raw: string, d: Delimiters, decodeBytes: BytesDecoder = utf8Decoder): string {
  const esc = d.escape;
  let i = raw.indexOf(esc);
  if (i < 0 || esc === '\u0000') return raw;
  let out = '';
  let last = 0;
  while (i >= 0) {
    const close = raw.indexOf(esc, i + 1);
    if (close < 0) break;
    const body = raw.slice(i + 1, close);
    const replacement = expand(body, d, decodeBytes);
    if (replacement === undefined) {
      // Not an escape sequence we know: keep the escape character literally and look further on.
      i = raw.indexOf(esc, i + 1);
      continue;
    }
    out += raw.slice(last, i) + replacement;
    last = close + 1;
    i = raw.indexOf(esc, last);
  }
  return out + raw.slice(last);
}

function expand(body: string, d: Delimiters, decodeBytes: BytesDecoder): string | undefined {
  switch (body) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation || undefined;
    case '.br':
      return '\n';
    case 'H': // start highlighting
    case 'N': // normal text
    case '.fi':
    case '.nf':
      return '';
  }
  const first = body.charAt(0);
  if (first === 'X' && body.length > 1 && body.length % 2 === 1 && /^X[0-9A-Fa-f]+$/.test(body)) {
    return decodeBytes(Buffer.from(body.slice(1), 'hex'));
  }
  if (first === '.') {
    // .sp <n>: n line breaks; .in/.ti/.sk/.ce are layout hints with no meaning in plain text.
    const m = /^\.(sp|in|ti|sk|ce)\s*([+-]?\d*)$/.exec(body);
    if (m) return m[1] === 'sp' ? '\n'.repeat(Math.max(1, Number(m[2] || '1'))) : '';
    return undefined;
  }
  // \Cxxyy\ and \Mxxyyzz\ switch ISO 2022 character sets: the bytes around them are already decoded.
  if ((first === 'C' && /^C[0-9A-Fa-f]{4}$/.test(body)) || (first === 'M' && /^M[0-9A-Fa-f]{4}([0-9A-Fa-f]{2})?$/.test(body))) return '';
  return undefined;
}

/** Escapes text for writing into a field (or component / subcomponent) of a message with these delimiters. */
const specials = new WeakMap<Delimiters, RegExp>();

let lastDelimiters: Delimiters | undefined;
let lastSpecials: RegExp | undefined;

function specialsOf(d: Delimiters): RegExp {
  if (d === lastDelimiters) return lastSpecials!;
  let re = specials.get(d);
  if (!re) {
    const chars = [d.field, d.component, d.repetition, d.escape, d.subcomponent, d.truncation, '\r', '\n'].filter((c) => c !== '' && c !== '\u0000');
    re = new RegExp(`[${chars.map((c) => '\\' + c).join('')}]`);
    specials.set(d, re);
  }
  lastDelimiters = d;
  lastSpecials = re;
  return re;
}

export function escapeValue(text: string, d: Delimiters): string {
  if (!specialsOf(d).test(text)) return text;
  const e = d.escape;
  if (e === '\u0000') throw new Error(`cannot write ${JSON.stringify(text)}: the message declares no escape character in MSH-2`);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === e) out += `${e}E${e}`;
    else if (ch === d.field) out += `${e}F${e}`;
    else if (ch === d.component) out += `${e}S${e}`;
    else if (ch === d.subcomponent) out += `${e}T${e}`;
    else if (ch === d.repetition) out += `${e}R${e}`;
    else if (d.truncation !== '' && ch === d.truncation) out += `${e}P${e}`;
    else if (ch === '\n') out += `${e}.br${e}`;
    else if (ch === '\r') {
      // CRLF becomes one line break; a lone CR would end the segment, so it is written as hex.
      if (text.charAt(i + 1) === '\n') {
        out += `${e}.br${e}`;
        i++;
      } else out += `${e}X0D${e}`;
    } else out += ch;
  }
  return out;
}
