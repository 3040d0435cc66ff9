import assert from 'node:assert/strict';
import { PduError, PduFramer, readPdvs, writePDataTf } from '../../connectors/dicom/dimse/pdu-framer';
import { CommandCodecError, decodeCommand, encodeCommand } from '../../connectors/dicom/dimse/command-codec';
import { buildFileMetaHeader, readPart10Layout } from '../../connectors/dicom/dataset/part10';
import { DatasetParseError, parseDataset, readInstanceHeader } from '../../connectors/dicom/dataset/metadata';
import { decodeDicomText } from '../../connectors/dicom/dataset/charset';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { isValidUid, newUid } from '../../connectors/dicom/dataset/uid';
import { IdentifierError, matchesIdentifier, projectReturnKeys, validateWorklistIdentifier } from '../../connectors/dicom/worklist/matching';
import { foldItemToAscii, personName, studyUidForOrder } from '../../connectors/dicom/worklist/items';
import { renderThumbnail, ThumbnailError } from '../../connectors/dicom/thumbnail/render';
import { addressMatches } from '../../connectors/dicom/ae-policy';
import { TransferSyntax } from '../../connectors/dicom/dimse/uids';

describe('dicom: PDU framing', () => {
  const pdu = (type: number, body: Buffer) => {
    const h = Buffer.alloc(6);
    h[0] = type;
    h.writeUInt32BE(body.length, 2);
    return Buffer.concat([h, body]);
  };

  it('splits PDUs whatever the read boundaries (byte by byte, coalesced)', () => {
    const a = pdu(4, Buffer.from('hello world'));
    const b = pdu(5, Buffer.alloc(4));
    const c = pdu(4, Buffer.alloc(70000, 7));
    const stream = Buffer.concat([a, b, c]);
    const oneByOne = new PduFramer({ maxPDataLength: 100000 });
    const got = [];
    for (let i = 0; i < stream.length; i++) got.push(...oneByOne.push(stream.subarray(i, i + 1)));
    assert.deepEqual(got.map((p) => p.bytes), [a, b, c]);
    const together = new PduFramer({ maxPDataLength: 100000 }).push(stream);
    assert.deepEqual(together.map((p) => p.type), [4, 5, 4]);
    const odd = new PduFramer({ maxPDataLength: 100000 });
    const chunks = [stream.subarray(0, 3), stream.subarray(3, 20), stream.subarray(20, 40000), stream.subarray(40000)];
    assert.deepEqual(chunks.flatMap((ch) => odd.push(ch)).map((p) => p.bytes.length), [a.length, b.length, c.length]);
  });

  it('refuses a P-DATA-TF larger than negotiated before buffering it, and unknown PDU types', () => {
    const framer = new PduFramer({ maxPDataLength: 1000 });
    const header = Buffer.from([4, 0, 0, 0, 0x10, 0]); // 4096 bytes declared
    assert.throws(() => framer.push(header), (e: PduError) => e instanceof PduError && e.abortReason === 6 && /4096 bytes, above the negotiated maximum of 1000/.test(e.message));
    assert.throws(() => new PduFramer({ maxPDataLength: 1000 }).push(Buffer.from([9, 0, 0, 0, 0, 0])), (e: PduError) => e.abortReason === 1 && /unrecognised PDU type 0x09/.test(e.message));
  });

  it('writes and reads PDV items with command/last bits, splitting at the peer maximum', () => {
    const value = Buffer.alloc(1000, 3);
    const parts = writePDataTf(5, false, value, 256);
    const pdus = [];
    for (let i = 0; i < parts.length; i += 2) pdus.push(Buffer.concat([parts[i], parts[i + 1]]));
    assert.ok(pdus.every((p) => p.readUInt32BE(2) <= 256));
    const pdvs = pdus.flatMap((p) => readPdvs(p));
    assert.deepEqual(Buffer.concat(pdvs.map((p) => p.value)), value);
    assert.deepEqual(pdvs.map((p) => p.isLast), [...Array(pdvs.length - 1).fill(false), true]);
    assert.ok(pdvs.every((p) => p.contextId === 5 && !p.isCommand));
    const bad = Buffer.from([4, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 3, 0, 0]);
    assert.throws(() => readPdvs(bad), /declares length 9/);
  });
});

describe('dicom: command sets', () => {
  it('round-trips a C-STORE request and an error response', () => {
    const bytes = encodeCommand({ CommandField: 1, MessageID: 7, AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', AffectedSOPInstanceUID: '1.2.3', Priority: 0, CommandDataSetType: 0 });
    assert.equal(bytes.readUInt32LE(8), bytes.length - 12, 'group length');
    assert.deepEqual(decodeCommand(bytes), {
      CommandGroupLength: bytes.length - 12,
      CommandField: 1,
      MessageID: 7,
      AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      AffectedSOPInstanceUID: '1.2.3',
      Priority: 0,
      CommandDataSetType: 0,
    });
    const rsp = decodeCommand(encodeCommand({ CommandField: 0x8120, MessageIDBeingRespondedTo: 3, Status: 0x0110, ErrorID: 0xa710, ErrorComment: 'Không còn cập nhật được', OffendingElement: ['00400252'] }));
    assert.equal(rsp.ErrorComment, 'Khong con cap nhat duoc', 'error comments are folded to ASCII');
    assert.deepEqual(rsp.OffendingElement, ['00400252']);
    assert.equal(rsp.ErrorID, 0xa710);
  });

  it('names the element of a malformed command', () => {
    const good = encodeCommand({ CommandField: 0x30, MessageID: 1, AffectedSOPClassUID: '1.2.840.10008.1.1' });
    const truncated = good.subarray(0, good.length - 3);
    assert.throws(() => decodeCommand(truncated), (e: CommandCodecError) => /beyond the/.test(e.message) || /truncated/.test(e.message));
    const wrongGroup = Buffer.from(good);
    wrongGroup.writeUInt16LE(0x0008, 12);
    assert.throws(() => decodeCommand(wrongGroup), /only group 0000/);
  });
});

describe('dicom: Part 10, metadata, character sets', () => {
  const study = { patientId: 'BN1', patientName: 'Nguyễn^Văn An', studyInstanceUid: newUid(), accessionNumber: 'ACC1', modality: 'CT', studyDate: '20261122' };

  it('reads back what it writes, Vietnamese intact in ISO_IR 192', () => {
    const image = syntheticImage(study, { seriesInstanceUid: newUid(), instanceNumber: 4, rows: 32, columns: 32 });
    const layout = readPart10Layout(image.bytes);
    assert.equal(layout.meta.transferSyntax, TransferSyntax.ExplicitVRLittleEndian);
    assert.equal(layout.meta.sopInstanceUid, image.sopInstanceUid);
    const header = readInstanceHeader(parseDataset(image.bytes.subarray(layout.datasetOffset), layout.meta.transferSyntax, { untilPixelData: true }));
    assert.equal(header.patientName, 'Nguyễn^Văn An');
    assert.equal(header.accessionNumber, 'ACC1');
    assert.equal(header.instanceNumber, 4);
    assert.equal(header.requestAttributes[0].accessionNumber, 'ACC1');
    assert.equal(header.image?.rows, 32);
    assert.equal(header.image?.pixelDataLength, 32 * 32 * 2);
  });

  it('fails on a bad element length with the byte offset, and on a missing DICM prefix', () => {
    const image = syntheticImage(study, { seriesInstanceUid: newUid(), instanceNumber: 1, kind: 'small' });
    const layout = readPart10Layout(image.bytes);
    const dataset = Buffer.from(image.bytes.subarray(layout.datasetOffset));
    dataset.writeUInt16LE(0xfff0, 6); // first element (0008,0005 CS) claims 65520 bytes
    assert.throws(() => parseDataset(dataset, layout.meta.transferSyntax), (e: DatasetParseError) => e instanceof DatasetParseError && /byte/.test(e.message));
    assert.throws(() => readPart10Layout(Buffer.alloc(200)), /no "DICM" prefix at byte 128/);
    const meta = buildFileMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.2.3', transferSyntax: TransferSyntax.ImplicitVRLittleEndian, sourceAeTitle: 'CT1' });
    assert.deepEqual(readPart10Layout(meta).meta.sourceAeTitle, 'CT1');
  });

  it('decodes the common character sets', () => {
    assert.equal(decodeDicomText(Buffer.from('Trần^Thị Đào', 'utf8'), 'ISO_IR 192'), 'Trần^Thị Đào');
    assert.equal(decodeDicomText(Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), 'ISO_IR 100'), 'Müller');
    assert.equal(decodeDicomText(Buffer.from('ABC'), undefined), 'ABC');
  });

  it('validates UIDs', () => {
    assert.ok(isValidUid(newUid()));
    assert.ok(!isValidUid('1.2.3.'));
    assert.ok(!isValidUid('../../etc'));
    assert.ok(!isValidUid('1'.repeat(65)));
  });
});

describe('dicom: worklist matching (PS3.4 C.2.2.2, K.6-1)', () => {
  const item = {
    PatientName: [{ Alphabetic: 'Nguyễn^Văn An' }],
    PatientID: 'BN00000001',
    AccessionNumber: 'ACC00000001',
    StudyInstanceUID: '1.2.3.4',
    ScheduledProcedureStepSequence: [
      { ScheduledStationAETitle: 'CT_SIEMENS', ScheduledProcedureStepStartDate: '20261122', ScheduledProcedureStepStartTime: '093000', Modality: 'CT', ScheduledProcedureStepDescription: 'CT sọ não' },
    ],
  };
  const sps = (keys: Record<string, unknown>) => ({ ScheduledProcedureStepSequence: [keys] });

  it('universal, single value and wildcard matching', () => {
    assert.ok(matchesIdentifier({ PatientName: '', PatientID: '', ScheduledProcedureStepSequence: [] }, item));
    assert.ok(matchesIdentifier({ PatientID: 'BN00000001' }, item));
    assert.ok(!matchesIdentifier({ PatientID: 'BN0000000' }, item));
    assert.ok(matchesIdentifier({ PatientID: 'BN*1' }, item));
    assert.ok(matchesIdentifier({ AccessionNumber: 'ACC0000000?' }, item));
    assert.ok(!matchesIdentifier({ AccessionNumber: 'ACC?' }, item));
  });

  it('person names match case- and diacritic-insensitively', () => {
    assert.ok(matchesIdentifier({ PatientName: [{ Alphabetic: 'NGUYEN*' }] }, item));
    assert.ok(matchesIdentifier({ PatientName: [{ Alphabetic: 'nguyễn^văn*' }] }, item));
    assert.ok(matchesIdentifier({ PatientName: 'Nguyen^Van An' }, item));
    assert.ok(!matchesIdentifier({ PatientName: 'TRAN*' }, item));
  });

  it('sequence matching on the scheduled step: station, modality, date and time ranges', () => {
    assert.ok(matchesIdentifier(sps({ Modality: 'CT', ScheduledStationAETitle: 'CT_SIEMENS' }), item));
    assert.ok(!matchesIdentifier(sps({ Modality: 'MR' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261122' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261120-20261122' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '-20261122' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261122-' }), item));
    assert.ok(!matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261123-' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartTime: '09-10' }), item));
    assert.ok(!matchesIdentifier(sps({ ScheduledProcedureStepStartTime: '0931-1000' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartTime: '09' }), item));
  });

  it('date and time ranges together combine into one date-time range', () => {
    // 21 Nov 10:00 → 22 Nov 09:00 excludes 22 Nov 09:30; independent matching would have excluded nothing by date and included by time.
    assert.ok(!matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261121-20261122', ScheduledProcedureStepStartTime: '1000-0900' }), item));
    assert.ok(matchesIdentifier(sps({ ScheduledProcedureStepStartDate: '20261121-20261122', ScheduledProcedureStepStartTime: '1000-1000' }), item));
  });

  it('UID list matching', () => {
    assert.ok(matchesIdentifier({ StudyInstanceUID: '9.9\\1.2.3.4' }, item));
    assert.ok(!matchesIdentifier({ StudyInstanceUID: '1.2.3' }, item));
  });

  it('returns exactly the requested keys, empty when unknown, whole sequences for an empty sequence key', () => {
    const out = projectReturnKeys({ SpecificCharacterSet: 'ISO_IR 192', PatientName: '', PatientWeight: '', ScheduledProcedureStepSequence: [{ Modality: '' }], RequestedProcedureCodeSequence: [] }, item);
    assert.deepEqual(Object.keys(out).sort(), ['PatientName', 'PatientWeight', 'RequestedProcedureCodeSequence', 'ScheduledProcedureStepSequence']);
    assert.equal(out.PatientWeight, '');
    assert.deepEqual(out.ScheduledProcedureStepSequence, [{ Modality: 'CT' }]);
    const whole = projectReturnKeys({ ScheduledProcedureStepSequence: [] }, item);
    assert.deepEqual(whole.ScheduledProcedureStepSequence, item.ScheduledProcedureStepSequence);
  });

  it('rejects identifiers that do not fit the SOP class', () => {
    assert.throws(() => validateWorklistIdentifier({ ScheduledProcedureStepSequence: [{}, {}] }), (e: IdentifierError) => /exactly one/.test(e.message));
    assert.throws(() => validateWorklistIdentifier(sps({ ScheduledProcedureStepStartDate: '2026-11-22x' })), /not a valid DA value/);
    assert.doesNotThrow(() => validateWorklistIdentifier(sps({ ScheduledProcedureStepStartDate: '20261122-20261123' })));
  });

  it('builds items from the model, folds them for ASCII-only modalities', () => {
    assert.equal(personName({ full: 'Nguyễn Thị Minh Khai' }), 'Nguyễn^Thị Minh Khai');
    assert.equal(personName({ full: 'x', family: 'Đỗ', given: 'Văn Đức' }), 'Đỗ^Văn Đức');
    assert.deepEqual(foldItemToAscii({ PatientName: [{ Alphabetic: 'Đỗ^Văn Đức' }] }), { PatientName: [{ Alphabetic: 'Do^Van Duc' }] });
    const uid = studyUidForOrder({ id: 'CD1', accessionNumber: 'ACC1' });
    assert.equal(uid, studyUidForOrder({ id: 'CD1', accessionNumber: 'ACC1' }), 'stable');
    assert.ok(isValidUid(uid));
  });
});

describe('dicom: AE addresses', () => {
  it('matches IPs, IPv4-mapped IPv6 and CIDR blocks', () => {
    assert.ok(addressMatches('::ffff:10.0.5.7', '10.0.5.0/24'));
    assert.ok(!addressMatches('10.0.6.7', '10.0.5.0/24'));
    assert.ok(addressMatches('127.0.0.1', '127.0.0.1'));
    assert.ok(addressMatches('::1', '::1'));
    assert.ok(!addressMatches('127.0.0.2', '127.0.0.1'));
  });
});

describe('dicom: thumbnails', () => {
  it('renders a windowed PNG of a CT slice, shrunk to 256 px', () => {
    const image = syntheticImage({ patientId: 'P', patientName: 'A^B', studyInstanceUid: newUid(), modality: 'CT' }, { seriesInstanceUid: newUid(), instanceNumber: 1 });
    const png = renderThumbnail(image.bytes, 256);
    assert.deepEqual(png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    assert.equal(png.readUInt32BE(16), 256, 'width');
    assert.equal(png.readUInt32BE(20), 256, 'height');
    assert.equal(png[25], 0, 'grayscale');
  });

  it('says why it does not render compressed pixel data', () => {
    const meta = buildFileMetaHeader({ sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3', transferSyntax: TransferSyntax.JpegBaseline });
    assert.throws(() => renderThumbnail(Buffer.concat([meta, Buffer.alloc(16)])), (e: ThumbnailError) => e instanceof ThumbnailError && /compressed/.test(e.message));
  });
});
