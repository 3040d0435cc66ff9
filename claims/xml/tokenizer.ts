// A small streaming XML tokenizer (SAX style) for claim files, including files from other software.
// It is deliberately narrow: it knows the five predefined entities and character references, and
// nothing else. A DOCTYPE (and with it every entity declaration) is refused outright, so external
// entities are never resolved and entity expansion ("billion laughs") cannot happen. Input arrives
// in chunks of any size; text is handed on in pieces, so a 50 MB base64 element never has to be
// held as one string by the tokenizer.

export class XmlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'XmlSyntaxError';
  }
}

/** The XML declaration names an encoding other than UTF-8. */
export class DeclaredEncodingError extends XmlSyntaxError {
  constructor(reason: string, line: number, column: number) {
    super(reason, line, column);
    this.name = 'DeclaredEncodingError';
  }
}

export interface XmlEvents {
  /** `name` is the local name (prefix removed); attributes keep their qualified names. */
  open(name: string, attributes: Record<string, string> | undefined, line: number): void;
  /** Character data (entities already replaced). Called one or more times per text node. */
  text(text: string): void;
  close(name: string): void;
  /** The XML declaration, if present (checked for version and encoding before this is called). */
  declaration?(attributes: Record<string, string>): void;
}

export interface TokenizerOptions {
  /** Longest tag, comment or processing instruction accepted (a guard against unbounded buffering). */
  maxMarkupLength?: number;
  maxDepth?: number;
}

const defaultMaxMarkup = 1 << 20;
const illegalChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const namePattern = /^[A-Za-z_:][A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFD]*$/;

export class XmlTokenizer {
  private buf = '';
  private pos = 0;
  /** Absolute character offset of buf[0] in the whole input. */
  private bufOffset = 0;
  private line = 1;
  /** Absolute character offset where the current line starts. */
  private lineStartAbs = 0;
  private readonly stack: string[] = [];
  private rootSeen = false;
  private rootClosed = false;
  private sawAnything = false;
  private readonly maxMarkup: number;
  private readonly maxDepth: number;

  constructor(
    private readonly events: XmlEvents,
    options: TokenizerOptions = {},
  ) {
    this.maxMarkup = options.maxMarkupLength ?? defaultMaxMarkup;
    this.maxDepth = options.maxDepth ?? 64;
  }

  get depth(): number {
    return this.stack.length;
  }

  /** Current line (for callers that want to say where they are). */
  get currentLine(): number {
    return this.line;
  }

  write(chunk: string): void {
    if (this.pos < this.buf.length) {
      this.bufOffset += this.pos;
      this.buf = this.buf.slice(this.pos) + chunk;
    } else {
      this.bufOffset += this.buf.length;
      this.buf = chunk;
    }
    this.pos = 0;
    this.nlNext = -1;
    this.run(false);
  }

  end(): void {
    this.run(true);
    if (!this.sawAnything || !this.rootSeen) this.fail('the document is empty: no root element');
    if (this.stack.length > 0) this.fail(`the document ends inside <${this.stack[this.stack.length - 1]}> (unclosed elements: ${this.stack.join(' > ')})`);
  }

  /** Index of the next newline in buf at or after the last position counted (-1 unknown, Infinity none). */
  private nlNext = -1;

  private countLines(from: number, to: number): void {
    const buf = this.buf;
    // Cache the next newline: rescanning a newline-free megabyte for every token would be quadratic.
    if (this.nlNext === -1 || this.nlNext < from) {
      const i = buf.indexOf('\n', from);
      this.nlNext = i < 0 ? Infinity : i;
    }
    while (this.nlNext < to) {
      this.line++;
      this.lineStartAbs = this.bufOffset + this.nlNext + 1;
      const i = buf.indexOf('\n', this.nlNext + 1);
      this.nlNext = i < 0 ? Infinity : i;
    }
  }

  private fail(reason: string, at = this.pos): never {
    if (at > this.pos) this.countLines(this.pos, at);
    throw new XmlSyntaxError(reason, this.line, Math.max(1, this.bufOffset + at - this.lineStartAbs + 1));
  }

  private consume(to: number): void {
    this.countLines(this.pos, to);
    this.pos = to;
  }

  private run(final: boolean): void {
    const buf = this.buf;
    const len = buf.length;
    while (this.pos < len) {
      const start = this.pos;
      if (buf.charCodeAt(start) !== 60 /* < */) {
        let end = buf.indexOf('<', start);
        if (end < 0) end = len;
        let stop = end;
        if (end === len && !final) {
          // Keep a possibly unfinished entity reference for the next chunk.
          const amp = buf.lastIndexOf('&', end - 1);
          if (amp >= start && buf.indexOf(';', amp) < 0 && end - amp < 16) stop = amp;
        }
        if (stop > start) this.emitText(buf.slice(start, stop), start);
        this.consume(stop);
        if (stop < end || end === len) break;
        continue;
      }
      if (start + 1 >= len) {
        if (final) this.fail("the document ends with '<'");
        break;
      }
      const c = buf.charCodeAt(start + 1);
      if (c === 47 /* / */) {
        const gt = buf.indexOf('>', start + 2);
        if (gt < 0) {
          if (!this.waitFor(start, final, 'end tag')) break;
        }
        const raw = buf.slice(start + 2, gt);
        const name = plainName.test(raw) ? raw : localName(raw.trim());
        const open = this.stack.pop();
        if (open === undefined) this.fail(`end tag </${name}> without a start tag`, start);
        if (open !== name) this.fail(`end tag </${name}> does not match <${open}>`, start);
        if (this.stack.length === 0) this.rootClosed = true;
        this.consume(gt + 1);
        this.events.close(name);
        continue;
      }
      if (c === 63 /* ? */) {
        const endPi = buf.indexOf('?>', start + 2);
        if (endPi < 0) {
          if (!this.waitFor(start, final, 'processing instruction')) break;
        }
        this.processingInstruction(buf.slice(start + 2, endPi), start);
        this.consume(endPi + 2);
        continue;
      }
      if (c === 33 /* ! */) {
        if (len - start < 9 && !final && '<![CDATA['.startsWith(buf.slice(start, Math.min(len, start + 9))) && !buf.startsWith('<!--', start)) break;
        if (buf.startsWith('<!--', start)) {
          const endC = buf.indexOf('-->', start + 4);
          if (endC < 0) {
            if (!this.waitFor(start, final, 'comment')) break;
          }
          this.sawAnything = true;
          this.consume(endC + 3);
          continue;
        }
        if (buf.startsWith('<![CDATA[', start)) {
          if (this.stack.length === 0) this.fail('CDATA section outside the root element', start);
          const endC = buf.indexOf(']]>', start + 9);
          if (endC < 0) {
            // Hand on what we have so big CDATA blocks stream too, but keep the opening marker.
            if (final) this.fail('unterminated CDATA section', start);
            if (len - start > this.maxMarkup) {
              // Emit what we have, keep the last two characters (a split "]]>") behind a fresh marker.
              const keep = Math.max(start + 9, len - 2);
              this.emitRaw(buf.slice(start + 9, keep), start);
              this.consume(keep);
              this.buf = `<![CDATA[${buf.slice(keep)}`;
              this.bufOffset += keep - 9;
              this.pos = 0;
              this.nlNext = -1;
            }
            break;
          }
          this.emitRaw(buf.slice(start + 9, endC), start);
          this.consume(endC + 3);
          continue;
        }
        if (len - start < 9 && !final) break;
        if (/^<!DOCTYPE/i.test(buf.slice(start, start + 9))) {
          this.fail('DOCTYPE declarations are not allowed (they can declare external entities or entity expansion: XXE / "billion laughs")', start);
        }
        if (buf.startsWith('<!ENTITY', start)) this.fail('entity declarations are not allowed', start);
        this.fail(`unexpected markup "${buf.slice(start, start + 12)}"`, start);
      }
      // Fast path for the common tag: a plain name straight followed by '>' or '/>'.
      let i = start + 1;
      while (i < len && isPlainNameChar(buf.charCodeAt(i))) i++;
      if (i > start + 1 && i < len) {
        const ch = buf.charCodeAt(i);
        if (ch === 62 /* > */ || (ch === 47 && i + 1 < len && buf.charCodeAt(i + 1) === 62)) {
          this.simpleStartTag(start, buf.slice(start + 1, i), ch === 47, ch === 47 ? i + 2 : i + 1);
          continue;
        }
      }
      // Start tag: scan honouring quoted attribute values (which may contain '>').
      const tagEnd = this.findTagEnd(start + 1);
      if (tagEnd < 0) {
        if (!this.waitFor(start, final, 'start tag')) break;
      }
      this.startTag(start, tagEnd);
    }
  }

  /** Returns true when the caller must report an error (final), false to wait for more input. */
  private waitFor(start: number, final: boolean, what: string): false {
    if (final) this.fail(`unterminated ${what}`, start);
    if (this.buf.length - start > this.maxMarkup) this.fail(`${what} longer than ${this.maxMarkup} characters`, start);
    return false;
  }

  private findTagEnd(from: number): number {
    const buf = this.buf;
    let quote = 0;
    for (let i = from; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (quote) {
        if (ch === quote) quote = 0;
      } else if (ch === 34 || ch === 39) quote = ch;
      else if (ch === 62 /* > */) return i;
      else if (ch === 60 /* < */) this.fail("'<' inside a tag", i);
    }
    return -1;
  }

  private startTag(start: number, end: number): void {
    const buf = this.buf;
    let inner = buf.slice(start + 1, end);
    const selfClosing = inner.endsWith('/');
    if (selfClosing) inner = inner.slice(0, -1);
    const m = /^([^\s/>]+)/.exec(inner);
    if (!m) this.fail('a start tag without a name', start);
    const qname = m[1];
    if (!namePattern.test(qname)) this.fail(`"${qname}" is not a valid element name`, start);
    const attributes = inner.length > qname.length ? this.parseAttributes(inner.slice(qname.length), start) : undefined;
    if (this.rootClosed) this.fail(`element <${qname}> after the end of the root element`, start);
    if (this.stack.length >= this.maxDepth) this.fail(`elements nested deeper than ${this.maxDepth}`, start);
    const name = localName(qname);
    this.rootSeen = true;
    this.sawAnything = true;
    this.consume(end + 1);
    this.events.open(name, attributes, this.line);
    if (selfClosing) {
      if (this.stack.length === 0) this.rootClosed = true;
      this.events.close(name);
    } else this.stack.push(name);
  }

  private simpleStartTag(start: number, qname: string, selfClosing: boolean, next: number): void {
    const first = qname.charCodeAt(0);
    if ((first >= 48 && first <= 57) || first === 45 || first === 46) this.fail(`"${qname}" is not a valid element name`, start);
    if (this.rootClosed) this.fail(`element <${qname}> after the end of the root element`, start);
    if (this.stack.length >= this.maxDepth) this.fail(`elements nested deeper than ${this.maxDepth}`, start);
    this.rootSeen = true;
    this.sawAnything = true;
    this.consume(next);
    this.events.open(qname, undefined, this.line);
    if (selfClosing) {
      if (this.stack.length === 0) this.rootClosed = true;
      this.events.close(qname);
    } else this.stack.push(qname);
  }

  private parseAttributes(text: string, at: number): Record<string, string> | undefined {
    const attrs: Record<string, string> = {};
    const re = /\s+([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/y;
    let i = 0;
    let any = false;
    while (i < text.length) {
      if (/^\s*$/.test(text.slice(i))) break;
      re.lastIndex = i;
      const m = re.exec(text);
      if (!m) this.fail(`malformed attribute near "${text.slice(i, i + 30).trim()}"`, at);
      const name = m[1];
      if (name in attrs) this.fail(`attribute ${name} appears twice`, at);
      const raw = m[3] ?? m[4] ?? '';
      if (raw.includes('<')) this.fail(`'<' in the value of attribute ${name}`, at);
      attrs[name] = decodeEntities(raw, (reason) => this.fail(reason, at));
      any = true;
      i = re.lastIndex;
    }
    return any ? attrs : undefined;
  }

  private processingInstruction(body: string, at: number): void {
    const target = /^([^\s?]+)/.exec(body)?.[1] ?? '';
    if (target.toLowerCase() !== 'xml') {
      this.sawAnything = true;
      return;
    }
    if (target !== 'xml' || this.sawAnything || at !== 0) this.fail('the XML declaration must come first and be written <?xml …?>', at);
    this.sawAnything = true;
    const attrs: Record<string, string> = {};
    for (const m of body.slice(3).matchAll(/([A-Za-z]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[m[1]] = m[3] ?? m[4] ?? '';
    if (attrs.version && !/^1\.[0-9]$/.test(attrs.version)) this.fail(`unsupported XML version "${attrs.version}"`, at);
    if (attrs.encoding && !/^utf-?8$/i.test(attrs.encoding)) {
      throw new DeclaredEncodingError(`the document declares encoding "${attrs.encoding}"; BHYT XML must be UTF-8 (QĐ 130 Điều 1): convert the file to UTF-8 and declare encoding="utf-8"`, this.line, 1);
    }
    this.events.declaration?.(attrs);
  }

  private emitText(text: string, at: number): void {
    if (this.stack.length === 0) {
      if (/^\s*$/.test(text)) return;
      this.fail(this.rootClosed ? 'text after the end of the root element' : 'text before the root element', at);
    }
    if (illegalChars.test(text)) this.failIllegal(text, at);
    const decoded = text.indexOf('&') < 0 ? text : decodeEntities(text, (reason, offset) => this.fail(reason, at + offset));
    this.events.text(decoded);
  }

  private emitRaw(text: string, at: number): void {
    if (illegalChars.test(text)) this.failIllegal(text, at);
    if (text) this.events.text(text);
  }

  private failIllegal(text: string, at: number): never {
    const i = text.search(illegalChars);
    const code = text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
    this.fail(`character U+${code} is not allowed in XML 1.0`, at + i);
  }
}

const plainName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** ASCII letters, digits, '_', '-', '.': names without a prefix (all BHYT element names). */
function isPlainNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46;
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Replaces the five predefined entities and character references; anything else is an error. */
export function decodeEntities(text: string, fail: (reason: string, offset: number) => never): string {
  let out = '';
  let last = 0;
  for (let amp = text.indexOf('&'); amp >= 0; amp = text.indexOf('&', last)) {
    const semi = text.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) fail("'&' must be written &amp; (or start an entity reference ending with ';')", amp);
    const ref = text.slice(amp + 1, semi);
    let value: string | undefined;
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : /^#[0-9]+$/.test(ref) ? Number.parseInt(ref.slice(1), 10) : Number.NaN;
      if (!Number.isFinite(code) || !/^#(x[0-9A-Fa-f]+|[0-9]+)$/.test(ref) || code > 0x10ffff || !isXmlChar(code)) fail(`&${ref}; is not a valid character reference`, amp);
      value = String.fromCodePoint(code);
    } else {
      value = predefined[ref];
      if (value === undefined) fail(`undeclared entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; are allowed; DOCTYPE and entity declarations are refused)`, amp);
    }
    out += text.slice(last, amp) + value;
    last = semi + 1;
  }
  return out + text.slice(last);
}

function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
}
