// The streaming reader on hostile and odd input: external entities are never resolved, entity
// expansion cannot happen, wrong encodings get a clear error, chunk boundaries do not matter, and a
// huge file is read in bounded memory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buildEpisode } from '../../claims/builder/build';
import { type Episode, type Finding, formatFinding } from '../../claims/model';
import { validateBuffer, validateFile, validateStream } from '../../claims/validator/validate';
import { ClaimFileReader } from '../../claims/xml/reader';
import { Base64Decoder, findInvalidUtf8, Utf8Stage } from '../../claims/xml/streams';
import { XmlTokenizer } from '../../claims/xml/tokenizer';
import { buildEnvelope, episodeFiles, envelopeForUpload } from '../../claims/xml/writer';
import { emergencySource, inpatientSource } from './sources';

function read(bytes: Buffer, chunk = bytes.length): { episodes: Episode[]; findings: Finding[] } {
  const episodes: Episode[] = [];
  const findings: Finding[] = [];
  const r = new ClaimFileReader({ episode: (e) => episodes.push(e), finding: (f) => findings.push(f) }, { version: '3176' });
  for (let i = 0; i < bytes.length; i += chunk) r.write(bytes.subarray(i, i + chunk));
  r.end();
  return { episodes, findings };
}

const envelope = () => buildEnvelope({ maCskcb: '01999', ngayLap: '20250314', hoso: [episodeFiles(buildEpisode(inpatientSource(), { signerHealthId: '0101234567' }).episode), episodeFiles(buildEpisode(emergencySource(), { signerHealthId: '0101234567' }).episode)] });

describe('claims reader: hostile and unusual input', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-reader-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('never resolves an external entity (the secret file is not read into any value)', async () => {
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET-VALUE');
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE TONG_HOP [<!ENTITY xxe SYSTEM "file://${secret}">]>\n<TONG_HOP><MA_LK>&xxe;</MA_LK></TONG_HOP>`;
    const r = await validateBuffer(xml);
    assert.equal(r.fatal, true);
    assert.equal(r.episodes.length, 0);
    assert.ok(!JSON.stringify(r).includes('TOP-SECRET-VALUE'));
    assert.equal(formatFinding(r.findings[0]), 'ERROR FILE line 2 [file.xml]: not well-formed XML at line 2, column 1: DOCTYPE declarations are not allowed (they can declare external entities or entity expansion: XXE / "billion laughs")');
  });

  it('refuses a billion-laughs document at once, in bounded time', async () => {
    const lol = ['<!DOCTYPE lolz [<!ENTITY lol "lol">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const xml = `${lol.join('')}]><lolz>&lol9;</lolz>`;
    const started = Date.now();
    const r = await validateBuffer(xml);
    assert.ok(Date.now() - started < 1000);
    assert.equal(r.findings[0].rule, 'file.xml');
    assert.match(r.findings[0].message, /DOCTYPE declarations are not allowed/);
  });

  it('refuses a DOCTYPE hidden inside a base64 NOIDUNGFILE too', async () => {
    const inner = Buffer.from('<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY a "b">]><TONG_HOP/>').toString('base64');
    const env = `<GIAMDINHHS><THONGTINDONVI><MACSKCB>01999</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>${inner}</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>`;
    const r = await validateBuffer(env);
    assert.equal(
      formatFinding(r.findings[0]),
      'ERROR HOSO 1 FILE line 1 [file.xml]: NOIDUNGFILE of the FILEHOSO at envelope line 1 is not well-formed XML at line 1, column 22: DOCTYPE declarations are not allowed (they can declare external entities or entity expansion: XXE / "billion laughs")',
    );
  });

  it('reads the same episodes whatever the chunk size (1 byte, 7 bytes, whole)', () => {
    const bytes = Buffer.from(envelope(), 'utf8');
    const whole = read(bytes);
    assert.equal(whole.episodes.length, 2);
    for (const chunk of [1, 7, 4096]) {
      const r = read(bytes, chunk);
      assert.deepEqual(r.episodes, whole.episodes, `chunk ${chunk}`);
      assert.deepEqual(r.findings, whole.findings);
    }
  });

  it('reads the base64 upload form of an envelope, and keeps Vietnamese text intact', () => {
    const r = read(Buffer.from(envelopeForUpload(envelope())), 333);
    assert.equal(r.episodes.length, 2);
    assert.equal(r.episodes[0].tables.XML1![0].fields.HO_TEN, 'Nguyễn Văn An');
    assert.equal(r.episodes[0].tables.XML2![0].fields.TEN_THUOC, 'Ceftriaxon 1g');
  });

  it('decodes entities, character references and CDATA (text from other software)', () => {
    const xml = '<TONG_HOP><MA_LK>A&amp;B &#x1EA1;&#7841;</MA_LK><DIA_CHI><![CDATA[Số 5 <ngõ> & phố]]></DIA_CHI></TONG_HOP>';
    const r = read(Buffer.from(xml), 3);
    assert.deepEqual(r.episodes[0].tables.XML1![0].fields, { MA_LK: 'A&B ạạ', DIA_CHI: 'Số 5 <ngõ> & phố' });
  });

  it('names the byte offset of an invalid UTF-8 sequence even across chunks', () => {
    const bytes = Buffer.concat([Buffer.from('<TONG_HOP><HO_TEN>Tr'), Buffer.from([0xc3]), Buffer.from('n</HO_TEN></TONG_HOP>')]);
    const r = read(bytes, 5);
    assert.equal(r.findings[0].rule, 'file.encoding');
    assert.match(r.findings[0].message, /^byte 0xC3 0x6E 0x3C at offset 20 is not valid UTF-8/);
    assert.equal(findInvalidUtf8(Buffer.from([0x61, 0xff])), 1);
  });

  it('accepts a character split across chunks', () => {
    const stage = new Utf8Stage();
    const bytes = Buffer.from('ệ');
    assert.equal(stage.write(bytes.subarray(0, 1)) + stage.write(bytes.subarray(1)) + stage.end(), 'ệ');
  });

  it('decodes base64 split at any position and reports a bad character with its position', () => {
    const data = Buffer.from('Bảng kê chi phí khám bệnh');
    const text = data.toString('base64');
    for (let cut = 0; cut <= text.length; cut++) {
      const d = new Base64Decoder();
      assert.deepEqual(Buffer.concat([d.write(text.slice(0, cut)), d.write(text.slice(cut)), d.end()]), data);
    }
    assert.throws(() => new Base64Decoder().write('QUJD$'), /character "\$" at position 4 is not base64/);
  });

  it('keeps memory bounded on a large file: an oversized NOIDUNGFILE is refused as it streams', async () => {
    const head = '<GIAMDINHHS><THONGTINDONVI><MACSKCB>01999</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE>';
    const pad3 = (s: string) => s + ' '.repeat((3 - (s.length % 3)) % 3);
    const open = Buffer.from(pad3('<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>')).toString('base64');
    const record = Buffer.from(pad3('<CHI_TIET_THUOC><MA_LK>LK</MA_LK></CHI_TIET_THUOC>')).toString('base64');
    const block = Buffer.from(record.repeat(Math.floor((1 << 20) / record.length)));
    // About 24 MB of base64, generated as a stream: the test never holds the file in memory either.
    const body = Readable.from(
      (function* () {
        yield Buffer.from(head + open);
        for (let i = 0; i < 24; i++) yield block;
        yield Buffer.from('</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>');
      })(),
    );
    const r = await validateStream(body, { maxInnerFileBytes: 4 * 1024 * 1024 });
    assert.deepEqual(r.findings.map(formatFinding), [
      'ERROR HOSO 1 XML2 [file.too-large]: NOIDUNGFILE of the FILEHOSO at envelope line 1: decoded content is larger than 4194304 bytes; the episode is not validated',
      'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing',
    ]);
  });

  it('validates a file from disk and reports each episode', async () => {
    const file = path.join(dir, 'env.xml');
    writeFileSync(file, envelope());
    const r = await validateFile(file, { facilityLevel: 'central' });
    assert.deepEqual(
      r.episodes.map((e) => [e.hoso, e.maLk, e.errors]),
      [
        [1, 'LK-IN-1', 0],
        [2, 'LK-ER-1', 0],
      ],
    );
    assert.deepEqual(r.findings.map((f) => f.rule), ['envelope.one-per-file', 'envelope.not-signed']);
  });

  it('tokenizer: attribute values may hold ">", a tag may not be split badly', () => {
    const events: string[] = [];
    const t = new XmlTokenizer({ open: (n, a) => events.push(`<${n}${a ? JSON.stringify(a) : ''}>`), text: (s) => events.push(s), close: (n) => events.push(`</${n}>`) });
    for (const ch of '<a x="1>2"><b/>t&lt;</a>') t.write(ch);
    t.end();
    assert.deepEqual(events.join(''), '<a{"x":"1>2"}><b></b>t<</a>');
    const bad = new XmlTokenizer({ open() {}, text() {}, close() {} });
    assert.throws(() => {
      bad.write('<a></a><b/>');
      bad.end();
    }, /element <b> after the end of the root element/);
  });
});
