import assert from 'node:assert/strict';
import { acknowledgementFor, buildAck, headerOf, readAck, scrapeHeader } from '../../connectors/hl7/codec/ack';
import { Hl7ErrorCodes } from '../../connectors/hl7/codec/errors';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { fixture } from './helpers';

describe('hl7 ACK/NAK', () => {
  it('AA in original mode: swapped sender/receiver, own unique MSH-10, MSA-2 = the original MSH-10 (standards.md §3.4 shape)', () => {
    const original = Hl7Message.parse(fixture('vn-oru-r01-enhanced.hl7').toString().replace('|||AL|NE|', '|||||'));
    const a = buildAck(original, { code: 'AA', timestamp: new Date('2025-01-15T01:35:01Z') });
    const b = buildAck(original, { code: 'AA' });
    const text = a.toString();
    assert.match(text, /^MSH\|\^~\\&\|HIS\|BV_A\|LIS\|BV_A\|20250115083501\+0700\|\|ACK\^R01\^ACK\|[A-Z0-9]{1,20}\|P\|2\.5\.1\|\|\|\|\|VNM\|UNICODE UTF-8\r/);
    assert.match(text, /\rMSA\|AA\|MSG00001\r$/);
    assert.notEqual(a.controlId, b.controlId);
    assert.notEqual(a.controlId, original.controlId);
    const reference = Hl7Message.parse(fixture('ack-aa-example.hl7'));
    assert.deepEqual(
      [a.get('MSH-3'), a.get('MSH-5'), a.get('MSH-9'), a.get('MSH-9.2'), a.get('MSA-1'), a.get('MSA-2')],
      [reference.get('MSH-3'), reference.get('MSH-5'), reference.get('MSH-9'), reference.get('MSH-9.2'), reference.get('MSA-1'), reference.get('MSA-2')],
    );
  });

  it('AE with an ERR naming segment, sequence, field, the 0357 code and the problem (v2.5 ERR-2/3/4/7/8)', () => {
    const original = Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7'));
    const ack = buildAck(original, {
      code: 'AE',
      error: { problem: 'OBX-5 "abc" is not a number', location: { segment: 'OBX', sequence: 1, field: 5 }, code: Hl7ErrorCodes.dataTypeError },
    });
    assert.equal(ack.get('MSA-1'), 'AE');
    assert.equal(ack.get('MSA-2'), 'NIST-100929110701660');
    assert.equal(ack.getRaw('ERR-2'), 'OBX^1^5');
    assert.equal(ack.getRaw('ERR-3'), '102^Data type error^HL70357');
    assert.equal(ack.get('ERR-4'), 'E');
    assert.equal(ack.get('ERR-8'), 'OBX-5 "abc" is not a number');
    assert.equal(readAck(ack).error, 'OBX-5 "abc" is not a number');
    // Receivers parse our ACK with their own delimiters: the original's (here the standard ones) are reused.
    assert.equal(Hl7Message.parse(ack.toBuffer()).get('ERR-2.3'), '5');
  });

  it('v2.3/2.4 receivers get ERR-1 (ELD) instead', () => {
    const original = Hl7Message.parse(fixture('orm-o01-imaging.hl7'));
    const ack = buildAck(original, { code: 'AR', error: { problem: 'unknown procedure', location: { segment: 'OBR', sequence: 1, field: 4 }, code: Hl7ErrorCodes.tableValueNotFound } });
    assert.equal(ack.getRaw('ERR-1'), 'OBR^1^4^103&unknown procedure&HL70357');
    assert.equal(ack.get('MSH-12'), '2.3.1');
  });

  it('enhanced mode: CA/CE/CR, sent or not as MSH-15 asks (AL/NE/ER/SU)', () => {
    const base = fixture('vn-oru-r01-enhanced.hl7').toString();
    const withAccept = (v: string) => headerOf(Hl7Message.parse(base.replace('|||AL|NE|', `|||${v}|NE|`)));
    assert.deepEqual(acknowledgementFor(withAccept('AL'), 'accept'), { code: 'CA', send: true });
    assert.deepEqual(acknowledgementFor(withAccept('AL'), 'error'), { code: 'CE', send: true });
    assert.deepEqual(acknowledgementFor(withAccept('AL'), 'reject'), { code: 'CR', send: true });
    assert.deepEqual(acknowledgementFor(withAccept('NE'), 'accept'), { code: 'CA', send: false });
    assert.deepEqual(acknowledgementFor(withAccept('ER'), 'accept'), { code: 'CA', send: false });
    assert.deepEqual(acknowledgementFor(withAccept('ER'), 'error'), { code: 'CE', send: true });
    assert.deepEqual(acknowledgementFor(withAccept('SU'), 'accept'), { code: 'CA', send: true });
    assert.deepEqual(acknowledgementFor(withAccept('SU'), 'reject'), { code: 'CR', send: false });
    assert.deepEqual(acknowledgementFor(headerOf(Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7'))), 'error'), { code: 'AE', send: true });
    const commit = buildAck(withAccept('AL'), { code: 'CA' });
    assert.equal(commit.get('MSA-1'), 'CA');
    assert.equal(commit.get('MSH-15'), 'NE', 'an ACK is not itself acknowledged');
  });

  it('a NAK for input that did not parse still names its control id when MSH-10 is readable', () => {
    const broken = Buffer.concat([Buffer.from('MSH|^~\\&|HIS|BV_A|LIS|BV_A|2025||ORU^R01|CTRL42|P|2.5.1\rPID|1||'), Buffer.from([0xff, 0xfe]), Buffer.from('\r')]);
    const header = scrapeHeader(broken);
    assert.equal(header?.controlId, 'CTRL42');
    const nak = buildAck(header, { code: 'AE', error: { problem: 'byte 0xff is not valid utf-8', location: { segment: 'PID', sequence: 1, field: 3, byteOffset: 60 } } });
    assert.equal(nak.get('MSA-2'), 'CTRL42');
    assert.equal(nak.get('MSH-5'), 'HIS');
    assert.equal(scrapeHeader(Buffer.from([0, 1, 2, 3])), undefined);
    const blind = buildAck(undefined, { code: 'AR', error: { problem: 'no MSH' }, application: 'HISBRIDGE' });
    assert.equal(blind.get('MSA-2'), '');
    assert.equal(blind.get('MSH-3'), 'HISBRIDGE');
  });

  it('text written back to an 8859/1 sender is folded to ASCII rather than failing to encode', () => {
    const original = Hl7Message.parse(Buffer.from('MSH|^~\\&|A|B|C|D|2025||ADT^A04|9|P|2.5|||||FRA|8859/1\rPID|1\r', 'latin1'));
    const nak = buildAck(original, { code: 'AE', error: { problem: 'tên "Nguyễn" không hợp lệ' } });
    assert.match(nak.toBuffer().toString('latin1'), /MSA\|AE\|9\|ten "Nguyen" khong hop le/);
  });
});
