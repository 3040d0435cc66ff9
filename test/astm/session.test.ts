// The session layer on a manual clock: incomplete messages kept with the reason (restart, timeout),
// ISO 8859-1 decoding, multi-specimen uploads split per specimen, and the canonical mapping rules.
import assert from 'node:assert/strict';
import { abnormalFlag, astmDateTime, referenceRange, resultStatus, toCanonical } from '../../connectors/astm/canonical';
import { parseMessage } from '../../connectors/astm/codec/message';
import { defaultCodeMapFiles, loadCodeMap } from '../../connectors/astm/codeMap';
import { interpretMessage } from '../../connectors/astm/interpret';
import { ManualClock } from '../../connectors/astm/link/clock';
import { AstmSession, type ReceivedItem } from '../../connectors/astm/session';
import { splitBySpecimen } from '../../connectors/astm/split';
import { loadProfile } from '../../devices/analyzers/profile';
import { ACK, ENQ, EOT, bytes, flushMicrotasks, frame } from './helpers';

function session(profileId = 'roche-cobas-c311') {
  const clock = new ManualClock();
  const items: ReceivedItem[] = [];
  const out: number[] = [];
  const s = new AstmSession((b) => out.push(...b), {
    profile: loadProfile(profileId),
    clock,
    store: async (item) => {
      items.push(item);
      return true;
    },
  });
  return { s, clock, items, written: () => Buffer.from(out.splice(0)).toString('latin1') };
}

describe('astm session', () => {
  it('keeps what arrived before the sender restarted (ENQ mid-transfer) as errored, then takes the new session', async () => {
    const { s, items } = session();
    s.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(2, 'P|1\r')]));
    s.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(2, 'P|1\r'), frame(3, 'L|1|N\r'), bytes(EOT)]));
    await flushMicrotasks();
    await s.settled();
    assert.equal(items.length, 2);
    assert.match(items[0].error!, /the sender restarted the session \(ENQ\) before the L record/);
    assert.equal(items[0].text, 'H|\\^&\rP|1\r');
    assert.equal(items[1].error, undefined);
    assert.equal(items[1].text, 'H|\\^&\rP|1\rL|1|N\r');
  });

  it("keeps a half message as errored when the receiver timer expires (Roche profile: 15 s)", async () => {
    const { s, clock, items } = session();
    s.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r')]));
    clock.advance(14_999);
    assert.equal(items.length, 0);
    clock.advance(1);
    await s.settled();
    assert.match(items[0].error!, /no frame or EOT arrived within the receiver timeout before the L record/);
  });

  it('stores stray bytes on a neutral line as one errored item after a quiet period', async () => {
    const { s, clock, items } = session();
    s.receive(bytes('P|1|||junk'));
    s.receive(bytes(' more'));
    clock.advance(2_000);
    await s.settled();
    assert.equal(items.length, 1);
    assert.equal(items[0].text, 'P|1|||junk more');
    assert.match(items[0].error!, /15 byte\(s\) received outside an ASTM frame \(first 0x50 'P'\).*link\.mode: raw/);
  });

  it('decodes ISO 8859-1 text (é is 0xE9 on the wire) and sends Vietnamese folded to ASCII', async () => {
    const { s, items, written } = session();
    s.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\rP|1||X||Ren\xe9e^M\rL|1|N\r'), bytes(EOT)]));
    await s.settled();
    assert.equal(items[0].message.records[1].value(6), 'Renée');
    written();
    const { AstmRecord } = await import('../../connectors/astm/codec/record');
    const { foldVietnamese } = await import('../../engine/text/vietnamese');
    void s.send([AstmRecord.parse(`P|1||X||${foldVietnamese('Nguyễn^Đức Anh')}`, loadProfile('roche-cobas-c311').send.delimiters)]);
    s.receive(bytes(ACK));
    assert.match(written(), /P\|1\|\|X\|\|Nguyen\^Duc Anh\r/);
  });

  it('splits a multi-specimen upload into one self-contained message per specimen, records unchanged', () => {
    const text = 'H|\\^&|||c311^1\rP|1|PA\rC|1|L|about PA\rO|1|^S1\rR|1|^^^685/|1\rC|1|I|0|I\rO|2|^S2\rR|1|^^^687/|2\rP|2|PB\rO|1|^S3\rR|1|^^^690/|3\rL|1|N\r';
    assert.deepEqual(splitBySpecimen(parseMessage(text)), [
      'H|\\^&|||c311^1\rP|1|PA\rC|1|L|about PA\rO|1|^S1\rR|1|^^^685/|1\rC|1|I|0|I\rL|1|N\r',
      'H|\\^&|||c311^1\rP|1|PA\rC|1|L|about PA\rO|2|^S2\rR|1|^^^687/|2\rL|1|N\r',
      'H|\\^&|||c311^1\rP|2|PB\rO|1|^S3\rR|1|^^^690/|3\rL|1|N\r',
    ]);
    assert.deepEqual(splitBySpecimen(parseMessage('H|\\^&\rP|1\rO|1|S1\rR|1|x|1\rL|1|N\r')), ['H|\\^&\rP|1\rO|1|S1\rR|1|x|1\rL|1|N\r']);
  });
});

describe('astm canonical mapping', () => {
  it('converts ASTM date-times to hospital time (UTC+7) and honours an explicit offset', () => {
    assert.equal(astmDateTime('20240627135407'), '2024-06-27T13:54:07+07:00');
    assert.equal(astmDateTime('20240627'), '2024-06-27T00:00:00+07:00');
    assert.equal(astmDateTime('202406271354'), '2024-06-27T13:54:00+07:00');
    assert.equal(astmDateTime('20240627135407+0000'), '2024-06-27T20:54:07+07:00');
    assert.equal(astmDateTime('garbage'), undefined);
  });

  it('maps flags, statuses and reference ranges', () => {
    assert.equal(abnormalFlag(['N']), 'N');
    assert.equal(abnormalFlag(['H', 'U']), 'H');
    assert.equal(abnormalFlag(['>']), 'H');
    assert.equal(abnormalFlag(['HH', 'H']), 'HH');
    assert.equal(abnormalFlag(['U']), undefined, 'a delta flag is not an abnormality');
    assert.equal(resultStatus('F'), 'final');
    assert.equal(resultStatus('C'), 'corrected');
    assert.equal(resultStatus('P'), 'preliminary');
    assert.equal(resultStatus('X'), 'cancelled');
    assert.equal(resultStatus('I'), undefined);
    assert.deepEqual(referenceRange('3.8 to 11.8'), { low: '3.8', high: '11.8', text: '3.8 to 11.8' });
    assert.deepEqual(referenceRange('<5'), { high: '5', text: '<5' });
    assert.deepEqual(referenceRange('Âm tính'), { text: 'Âm tính' });
  });

  it('files the DxH upload under XN_CTM with the LOINC the analyser sent, and marks reruns as corrected', () => {
    const profile = loadProfile('beckman-dxh');
    const text = 'H|\\!~|||DxH|||||LIS||P|LIS2-A|20211028082841\rP|1||401791\rO|1|000004287888|00026|!!!CD|R\rR|1|!!!WBC!33256-9|7.4|10^9/L||3.8 to 11.8|||F||SYSTEM||20211028082826|AY52686\rR|4|!!!HGB!718-7|146!  H |g/L||109 to 143|A||F||SYSTEM||20211028082826|AY52686\rL|1|N\r';
    const report = interpretMessage(parseMessage(text), profile);
    const out = toCanonical(report, { codeMap: loadCodeMap(defaultCodeMapFiles(profile.id)), analyserIds: ['DXH-1', profile.id], device: { id: 'DXH-1' }, fallbackTime: '2026-11-22T08:00:00+07:00', reruns: new Set(['HGB']) });
    assert.equal(out.batches.length, 1);
    const [wbc, hgb] = out.batches[0].results!;
    assert.deepEqual([wbc.hisServiceCode, wbc.loinc, wbc.value, wbc.unit, wbc.status, wbc.observedAt, wbc.operator?.id], ['XN_CTM', '33256-9', '7.4', '10^9/L', 'final', '2021-10-28T08:28:26+07:00', 'SYSTEM']);
    assert.deepEqual(wbc.referenceRange, { low: '3.8', high: '11.8', text: '3.8 to 11.8' });
    assert.deepEqual([hgb.value, hgb.abnormalFlag, hgb.status], ['146', 'A', 'corrected']);
    assert.match(hgb.comment!, /Rerun/);
  });
});
