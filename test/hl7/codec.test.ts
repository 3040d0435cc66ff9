import assert from 'node:assert/strict';
import { charsetByName } from '../../connectors/hl7/codec/charset';
import { createMessage, newControlId } from '../../connectors/hl7/codec/builder';
import { parseHl7DateTime, toHl7DateTime } from '../../connectors/hl7/codec/datetime';
import { Hl7Error } from '../../connectors/hl7/codec/errors';
import { escapeValue, unescapeValue } from '../../connectors/hl7/codec/escape';
import { DEFAULT_DELIMITERS } from '../../connectors/hl7/codec/delimiters';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { splitBatch } from '../../connectors/hl7/codec/batch';
import { Hl7Group } from '../../connectors/hl7/codec/structure';
import { fixture, fixtureNames } from './helpers';

describe('hl7 codec', () => {
  describe('round trip', () => {
    it('every fixture parses and serialises to identical bytes, also when every segment is re-joined from its fields', () => {
      const names = fixtureNames().filter((n) => !n.startsWith('batch') && !n.startsWith('legacy-adt-') || n === 'legacy-adt-utf8.hl7');
      assert.ok(names.length >= 12, `expected the fixture set, found ${names.join(', ')}`);
      for (const name of names) {
        const bytes = fixture(name);
        const m = Hl7Message.parse(bytes);
        assert.ok(m.toBuffer().equals(bytes), `${name}: toBuffer`);
        assert.ok(m.toBuffer({ rebuild: true }).equals(bytes), `${name}: rebuilt from fields`);
        assert.equal(m.toString({ rebuild: true }), bytes.toString('utf8'), `${name}: text`);
      }
    });

    it('NIST ORU^R01 2.5.1 (standards.md §3.6): header, patient, observation and specimen values', () => {
      const m = Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7'));
      assert.equal(m.messageType, 'ORU^R01');
      assert.equal(m.structureId, 'ORU_R01');
      assert.equal(m.controlId, 'NIST-100929110701660');
      assert.equal(m.version, '2.5.1');
      assert.equal(m.get('MSH-3.2'), '2.16.840.1.113883.3.72.7.1');
      assert.equal(m.get('MSH-21.3'), '2.16.840.1.114222.4.10.3');
      assert.equal(m.get('PID-3.4.2'), '2.16.840.1.113883.19.3.2.1');
      assert.equal(m.get('PID-3.5'), 'MR');
      assert.equal(m.get('PID-5'), 'Johnson');
      assert.equal(m.get('PID-5.2'), 'Philip');
      assert.equal(m.get('PID-11.3'), 'Aurora');
      assert.equal(m.get('OBX-5'), '50');
      assert.equal(m.get('OBX-6.1'), 'ug/dL');
      assert.equal(m.get('OBX-7'), '<9 mcg/dL:  Acceptable background lead exposure');
      assert.equal(m.get('OBX-8'), 'H');
      assert.equal(m.get('SPM-4.2'), 'Capillary blood specimen');
      assert.equal(m.get('ZZZ-1'), '');
      assert.equal(m.get('OBX[2]-5'), '');
    });

    it('the Vietnamese ORU keeps its UTF-8 text and frames to the 308 bytes standards.md computes', () => {
      const bytes = fixture('vn-oru-r01-enhanced.hl7');
      assert.equal(bytes.length + 3, 308);
      const m = Hl7Message.parse(bytes);
      assert.equal(m.charset.name, 'utf-8');
      assert.equal(m.get('PID-5.1'), 'Nguyễn');
      assert.equal(m.get('PID-5.2'), 'Văn An');
      assert.deepEqual([...Buffer.from('Nguyễn Văn An')].slice(0, 6), [0x4e, 0x67, 0x75, 0x79, 0xe1, 0xbb]);
    });

    it('a changed message re-serialises with its own terminators and unchanged segments byte for byte', () => {
      const bytes = fixture('batch-adt.hl7');
      const first = splitBatch(bytes).messages[0].bytes;
      const m = Hl7Message.parse(first);
      m.set('PID-5.2', 'Văn Một Mới');
      const out = m.toString();
      assert.ok(out.includes('\r\n'));
      assert.equal(out, first.toString('utf8').replace('Văn Một', 'Văn Một Mới'));
    });
  });

  describe('paths and values', () => {
    const m = Hl7Message.parse(fixture('adt-a01-vn.hl7'));

    it('reads repetitions, components and subcomponents by path', () => {
      assert.equal(m.get('PID-3'), 'BN0001234');
      assert.equal(m.get('PID-3[2]'), '079085001234');
      assert.equal(m.get('PID-3[2].4'), 'BCA');
      assert.equal(m.get('PID-3[3].5'), 'HC');
      assert.equal(m.get('PID.3.1'), 'BN0001234');
      assert.deepEqual(m.getAll('PID-3.5'), ['MR', 'NNVNM', 'HC']);
      assert.equal(m.getRaw('PID-5'), 'Nguyễn^Văn An^^^^^L');
      assert.equal(m.getRaw('PID-3[2]'), '079085001234^^^BCA^NNVNM');
      assert.equal(m.segment('PID')!.repetitionCount(3), 3);
      assert.deepEqual(m.segment('PID')!.components(5), ['Nguyễn', 'Văn An', '', '', '', '', 'L']);
      assert.equal(m.get('MSH-1'), '|');
      assert.equal(m.get('MSH-2'), '^~\\&');
      assert.equal(m.get('MSH-9.3'), 'ADT_A01');
    });

    it('addresses the n-th segment: OBX[3]-5, and getAll spans segments', () => {
      const oru = Hl7Message.parse(fixture('oru-r01-analyser-lf.hl7'));
      assert.equal(oru.get('OBX[3]-5'), '65');
      assert.equal(oru.get('OBX[3]-3.2'), 'HGB');
      assert.equal(oru.getAll('OBX-3.2').length, 11);
      assert.equal(oru.segmentsNamed('OBX').length, 11);
      assert.equal(oru.get('PID-5.1'), 'Lê', 'LF-terminated file');
    });

    it('refuses malformed paths with an example of a good one', () => {
      assert.throws(() => m.get('pid-3'), /not an HL7 path.*PID-3\[2\]\.1/);
      assert.throws(() => m.get('PID-0'), /field must be 1 or more/);
    });

    it('unescapes every standard sequence and keeps unknown ones literally', () => {
      const e = Hl7Message.parse(fixture('escapes.hl7'));
      assert.equal(e.get('PID-5'), 'O&Brien');
      assert.equal(e.get('OBX-5'), 'Line 1\nLine 2 has a | bar, a ^ caret, a ~ tilde, an \\ backslash and bold text; hex Người end');
      assert.equal(unescapeValue('C:\\temp\\x', DEFAULT_DELIMITERS), 'C:\\temp\\x');
      assert.equal(unescapeValue('a\\.sp 2\\b\\.in+4\\c', DEFAULT_DELIMITERS), 'a\n\nbc');
      assert.equal(unescapeValue('unterminated \\F', DEFAULT_DELIMITERS), 'unterminated \\F');
    });

    it('escaping is the inverse of unescaping for any text', () => {
      const samples = ['a|b^c~d\\e&f', 'Nguyễn\r\nVăn\nAn', '\\F\\ literal', 'plain', 'lone\rcr'];
      for (const s of samples) {
        const escaped = escapeValue(s, DEFAULT_DELIMITERS);
        assert.ok(!/[|^~&\r\n]/.test(escaped), escaped);
        assert.equal(unescapeValue(escaped, DEFAULT_DELIMITERS), s.replace('\r\n', '\n'));
      }
    });

    it('custom delimiters from MSH-1/MSH-2 drive splitting and escapes', () => {
      const c = Hl7Message.parse(fixture('custom-delimiters.hl7'));
      assert.deepEqual({ ...c.delimiters }, { field: '#', component: '$', repetition: '%', escape: '!', subcomponent: '@', truncation: '', encodingCharacters: '$%!@' });
      assert.equal(c.messageType, 'ORU^R01');
      assert.equal(c.get('PID-3[2].5'), 'NN');
      assert.equal(c.get('PID-5.2'), 'Thị Mai');
      assert.equal(c.get('OBX-5'), 'a#b$c@d%e!f');
      c.set('OBX-5', 'x#y');
      assert.equal(c.getRaw('OBX-5'), 'x!F!y');
    });
  });

  describe('builder', () => {
    it('builds a message by path and by field list, escaping values', () => {
      const m = createMessage({
        messageType: 'ORU^R01^ORU_R01',
        controlId: 'B0001',
        sendingApplication: 'LIS',
        sendingFacility: 'BV_A',
        receivingApplication: 'HIS',
        receivingFacility: 'BV_A',
        timestamp: '20250115083500',
        countryCode: 'VNM',
      });
      m.addSegment('PID', ['1', '', { raw: '079085001234^^^BV_A^MR' }, '', { raw: 'Nguyễn^Văn An' }, '', '19850315', 'M']);
      m.set('OBR-1', '1');
      m.set('OBR-4.1', '2345-7');
      m.set('OBR-4.3', 'LN');
      m.set('OBX-5', 'a|b');
      m.set('OBX[2]-5', '6.4');
      m.set('PID-3[2].1', 'CCCD1');
      assert.equal(
        m.toString(),
        'MSH|^~\\&|LIS|BV_A|HIS|BV_A|20250115083500||ORU^R01^ORU_R01|B0001|P|2.5.1|||||VNM|UNICODE UTF-8\r' +
          'PID|1||079085001234^^^BV_A^MR~CCCD1||Nguyễn^Văn An||19850315|M\r' +
          'OBR|1|||2345-7^^LN\r' +
          'OBX|||||a\\F\\b\r' +
          'OBX|||||6.4\r',
      );
      const again = Hl7Message.parse(m.toBuffer());
      assert.equal(again.get('OBX-5'), 'a|b');
      assert.equal(again.get('PID-5.1'), 'Nguyễn');
    });

    it('control ids are unique, at most 20 characters', () => {
      const ids = new Set(Array.from({ length: 10_000 }, () => newControlId()));
      assert.equal(ids.size, 10_000);
      for (const id of ids) assert.ok(id.length <= 20, id);
    });

    it('refuses to change the delimiters through MSH-1/2', () => {
      const m = createMessage({ messageType: 'ADT^A01' });
      assert.throws(() => m.set('MSH-2', 'x'), /holds the delimiters/);
    });
  });

  describe('groups', () => {
    it('ORU_R01: PATIENT_RESULT → ORDER_OBSERVATION → OBSERVATION', () => {
      const m = Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7'));
      const root = m.structure();
      const results = root.groups('PATIENT_RESULT');
      assert.equal(results.length, 1);
      assert.equal(results[0].group('PATIENT')!.get('PID-5'), 'Johnson');
      const orders = results[0].groups('ORDER_OBSERVATION');
      assert.equal(orders.length, 1);
      assert.deepEqual(orders[0].segments().map((s) => s.name), ['ORC', 'OBR']);
      assert.equal(orders[0].groups('OBSERVATION')[0].get('OBX-3.1'), '10368-9');
      assert.equal(orders[0].group('SPECIMEN')!.get('SPM-4.1'), '122554006');
    });

    it('OUL_R22: SPECIMEN → ORDER → RESULT, with a trailing NTE inside its RESULT', () => {
      const m = Hl7Message.parse(fixture('oul-r22-analyser.hl7'));
      const specimens = m.structure().groups('SPECIMEN');
      assert.equal(specimens.length, 1);
      const orders = specimens[0].groups('ORDER');
      assert.equal(orders.length, 2);
      assert.equal(orders[1].group('RESULT')!.get('NTE-3'), 'Mẫu hơi tán huyết');
      assert.equal(orders[0].group('RESULT')!.get('OBX-5'), '7.8');
    });

    it('segments that fit nowhere stay where they appeared and are listed as unexpected', () => {
      const text = 'MSH|^~\\&|A|B|C|D|2025||ORU^R01|1|P|2.5.1\rPID|1\rOBR|1\rOBX|1\rZXY|1\rOBX|2\r';
      const root = Hl7Message.parse(text).structure();
      const obs = root.descendants('OBSERVATION');
      assert.equal(obs.length, 2);
      assert.deepEqual(obs[0].unexpected.map((s) => s.name), ['ZXY']);
      assert.ok(root instanceof Hl7Group);
    });

    it('messages of structures without a definition give a flat root group', () => {
      const m = Hl7Message.parse('MSH|^~\\&|A|B|C|D|2025||QBP^Q11^QBP_Q11|1|P|2.5.1\rQPD|1\rRCP|I\r');
      assert.deepEqual(m.structure().segments().map((s) => s.name), ['MSH', 'QPD', 'RCP']);
    });
  });

  describe('charsets', () => {
    const reference = Hl7Message.parse(fixture('legacy-adt-utf8.hl7'));
    for (const [file, charset] of [
      ['legacy-adt-windows-1258.hl7', 'windows-1258'],
      ['legacy-adt-tcvn5712-1.hl7', 'tcvn3'],
      ['legacy-adt-viscii.hl7', 'viscii'],
    ] as const) {
      it(`decodes ${charset} bytes written by glibc iconv when the source is configured for it`, () => {
        const bytes = fixture(file);
        const m = Hl7Message.parse(bytes, { charset });
        assert.equal(m.get('PID-5.1'), 'Nguyễn');
        assert.equal(m.get('PID-5.2'), 'Thị Hằng');
        assert.equal(m.get('PID-11.1'), 'Số 5 Đường Hàm Nghi');
        assert.equal(m.toString(), reference.toString());
        assert.ok(m.toBuffer().equals(bytes), 'untouched: the same bytes');
        assert.ok(m.toBuffer({ rebuild: true }).equals(bytes), `re-encoding in ${charset} gives the bytes iconv wrote`);
      });
    }

    it('uses MSH-18 when the message declares its charset (8859/1)', () => {
      const text = 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5|||||FRA|8859/1\rPID|1||X||Müller^José\r';
      const bytes = Buffer.from(text, 'latin1');
      const m = Hl7Message.parse(bytes);
      assert.equal(m.charset.name, 'iso-8859-1');
      assert.equal(m.get('PID-5.2'), 'José');
      assert.ok(m.toBuffer({ rebuild: true }).equals(bytes));
    });

    it('invalid UTF-8 is refused naming the byte, segment and field', () => {
      const good = fixture('vn-oru-r01-enhanced.hl7');
      const bad = Buffer.from(good);
      const at = good.indexOf(Buffer.from('Nguy')) + 4;
      bad[at] = 0xff;
      assert.throws(
        () => Hl7Message.parse(bad),
        (err: unknown) => err instanceof Hl7Error && err.location.segment === 'PID' && err.location.field === 5 && err.location.byteOffset === at && /byte 0xff is not valid utf-8/.test(err.message),
      );
    });

    it('an unsupported MSH-18 is refused naming MSH-18; a configured charset overrides it', () => {
      const text = 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5|||||VNM|KLINGON\rPID|1\r';
      assert.throws(() => Hl7Message.parse(Buffer.from(text)), (e: unknown) => e instanceof Hl7Error && e.location.field === 18 && /KLINGON/.test(e.message));
      assert.equal(Hl7Message.parse(Buffer.from(text), { charset: 'utf-8' }).get('MSH-18'), 'KLINGON');
    });

    it('encoding names the character a charset cannot hold', () => {
      const m = Hl7Message.parse(Buffer.from('MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5|||||FRA|8859/1\rPID|1||X||Y\r', 'latin1'));
      m.set('PID-5', 'Nguyễn');
      assert.throws(() => m.toBuffer(), /"ễ".*segment PID.*iso-8859-1/);
      const folded = charsetByName('ascii-folded')!.encode('Nguyễn Đức');
      assert.ok(Buffer.isBuffer(folded) && folded.toString() === 'Nguyen Duc');
    });
  });

  describe('bad input is refused with the place named', () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['empty', '', /empty/],
      ['no MSH', 'PID|1||X\r', /must start with MSH, found "PID"/],
      ['MSH without delimiters', 'MSH', /ends before MSH-1/],
      ['letter as field separator', 'MSHA^~\\&A', /field separator "A" is not allowed/],
      ['empty MSH-2', 'MSH||A|B\r', /MSH-2 .* is empty/],
      ['repeated delimiter', 'MSH|^^\\&|A\r', /used twice/],
      ['truncated segment id', 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5\rPI\r', /segment 2 does not start with a segment ID/],
      ['lower-case segment id', 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5\rpid|1\r', /segment 2 does not start with a segment ID/],
      ['two messages in one', 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5\rMSH|^~\\&|A|B|C|D|2025||ADT^A04|2|P|2.5\r', /second MSH/],
      ['binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0b]), /not valid utf-8|must start with MSH/],
    ];
    for (const [name, input, pattern] of cases) {
      it(name, () => {
        assert.throws(() => Hl7Message.parse(input), (e: unknown) => e instanceof Hl7Error && pattern.test(e.message));
      });
    }

    it('a header problem is a reject (AR); a body problem an error (AE)', () => {
      assert.throws(() => Hl7Message.parse('PID|1\r'), (e: unknown) => (e as Hl7Error).reject === true);
      assert.throws(() => Hl7Message.parse('MSH|^~\\&|A\rPI\r'), (e: unknown) => (e as Hl7Error).reject === false && (e as Hl7Error).location.byteOffset === 11);
    });
  });

  describe('date/time', () => {
    it('converts HL7 TS to ISO 8601 with the declared offset or hospital time', () => {
      assert.equal(parseHl7DateTime('20250115083500'), '2025-01-15T08:35:00+07:00');
      assert.equal(parseHl7DateTime('200808151030-0700'), '2008-08-15T10:30:00-07:00');
      assert.equal(parseHl7DateTime('20250115083500.12+0000'), '2025-01-15T08:35:00.120+00:00');
      assert.equal(parseHl7DateTime('19850315'), '1985-03-15');
      assert.equal(parseHl7DateTime('1985'), '1985');
      assert.equal(parseHl7DateTime(''), undefined);
      assert.throws(() => parseHl7DateTime('2025-01-15'), /not an HL7 date\/time/);
      assert.throws(() => parseHl7DateTime('20251315'), /month 13/);
      assert.equal(toHl7DateTime('2025-01-15T08:35:00+07:00'), '20250115083500+0700');
      assert.equal(toHl7DateTime('1985-03-15'), '19850315');
    });
  });

  describe('batch files', () => {
    it('splits FHS/BHS/BTS/FTS into messages with their exact bytes and checks the counts', () => {
      const bytes = fixture('batch-adt.hl7');
      const split = splitBatch(bytes);
      assert.equal(split.messages.length, 3);
      assert.deepEqual(split.messages.map((m) => m.batch), [1, 1, 2]);
      assert.deepEqual(split.problems, []);
      assert.equal(Hl7Message.parse(split.messages[2].bytes).get('PID-5.1'), 'Đặng');
      assert.ok(split.messages[0].bytes.equals(bytes.subarray(split.messages[0].offset, split.messages[1].offset)));
    });

    it('reports a BTS count that does not match and segments outside any message', () => {
      const text = 'FHS|^~\\&\rBHS|^~\\&\rPID|1\rMSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5\rBTS|5\rFTS|1\r';
      const split = splitBatch(Buffer.from(text));
      assert.equal(split.messages.length, 1);
      assert.equal(split.problems.length, 2);
      assert.match(split.problems[0], /"PID" at byte \d+ is outside any message/);
      assert.match(split.problems[1], /BTS-1 at byte \d+ says 5 messages, batch 1 holds 1/);
    });
  });
});
