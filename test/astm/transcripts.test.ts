// Every real transcript of standards.md §2.8 (and the c111 frames of §1.7) decodes to the results
// written here by hand from the transcript, and every one survives a lossless round trip.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadProfile, loadProfiles } from '../../devices/analyzers/profile';
import { parseMessage, messageText } from '../../connectors/astm/codec/message';
import { decodeCapture, type DecodedMessage } from '../../connectors/astm/decodeCapture';
import type { AnalyserResult } from '../../connectors/astm/interpret';

const dir = path.join(__dirname, '..', 'fixtures', 'astm');
const profiles = [...loadProfiles().values()];

function decode(file: string, profileId?: string): { messages: DecodedMessage[]; frames: number } {
  const decoded = decodeCapture(fs.readFileSync(path.join(dir, file)), profiles, { profile: profileId ? loadProfile(profileId) : undefined });
  assert.deepEqual(decoded.problems, [], `${file}: capture problems`);
  for (const m of decoded.messages) assert.deepEqual(m.errors, [], `${file}: message errors`);
  return decoded;
}

/** The fields a person checks on a result: code, value, units, flags, status. */
const brief = (r: AnalyserResult) => [r.code, r.value, r.units, r.flags.join(','), r.status];

describe('astm real transcripts (standards.md §2.8)', () => {
  it('(a) Sysmex XN-550: one 1-frame message, specimen 27, CBC results with flags', () => {
    const { messages, frames } = decode('sysmex-xn550.astm');
    assert.equal(frames, 1);
    assert.equal(messages.length, 1);
    const m = messages[0];
    assert.equal(m.profile, 'sysmex-xn');
    assert.equal(m.report!.sender.name, 'XN-550');
    assert.equal(m.report!.sender.serial, '22723');
    const s = m.report!.specimens[0];
    assert.equal(s.specimenId, '27');
    assert.equal(s.patientId, '37182');
    assert.equal(s.patientName, 'Jim Brown');
    assert.equal(s.qcReason, undefined);
    assert.deepEqual(s.results.map(brief), [
      ['WBC', '8.13', '10*3/uL', 'N', 'F'],
      ['RBC', '2.60', '10*6/uL', 'N', 'F'],
      ['HGB', '8.0', 'g/dL', 'N', 'F'],
      ['HCT', '22.7', '%', 'L', 'F'],
      ['EO%', '22.1', '%', 'H', 'F'],
      ['Eosinophilia', '', '', 'A', 'F'],
      ['SCAT_WDF', 'PNG\\20240628\\2024_06_27_13_54_27_WDF.PNG', '', 'N', 'F'],
    ]);
    assert.equal(s.results[0].completedAt, '20240627135407');
  });

  it('(b) Roche cobas c311: specimen CL-PL-24-0370, seven chemistry results with alarm comments', () => {
    const { messages } = decode('roche-c311.astm');
    const m = messages[0];
    assert.equal(m.profile, 'roche-cobas-c311');
    const s = m.report!.specimens[0];
    assert.equal(s.specimenId, 'CL-PL-24-0370');
    assert.equal(s.priority, 'R');
    assert.equal(s.reportType, 'F');
    assert.deepEqual(s.results.map(brief), [
      ['685', '22.4', 'U/l', 'A', 'F'],
      ['687', '15.0', 'U/l', 'N', 'F'],
      ['712', '4.1', 'umol/l', 'L', 'F'],
      ['158', '301', 'U/l', 'N', 'F'],
      ['735', '1.6', 'umol/l', 'N', 'F'],
      ['717', '5.85', 'mmol/l', 'N', 'F'],
      ['690', '34', 'umol/l', 'A', 'F'],
    ]);
    // Each R is followed by C|1|I|<alarm code>|I: the code attaches to that result.
    assert.deepEqual(s.results.map((r) => r.comments), [['43'], ['0'], ['0'], ['0'], ['0'], ['0'], ['43']]);
    assert.equal(s.results[6].instrument, 'P1');
  });

  it('(§1.7) Roche cobas c111: seven frames chained with ETB, real checksums, albumin 40.13 g/L', () => {
    const { messages, frames } = decode('roche-c111.astm');
    assert.equal(frames, 7);
    const s = messages[0].report!.specimens[0];
    assert.equal(messages[0].profile, 'roche-cobas-c111');
    assert.equal(s.specimenId, 'T20 10134GA D28');
    assert.equal(s.position, '6');
    assert.equal(s.priority, 'S');
    assert.deepEqual(s.results.map(brief), [['413', '40.13', 'g/L', 'N', 'F']]);
    assert.equal(s.results[0].operator, '$SYS$');
    assert.deepEqual(messages[0].records.map((r) => r.type).join(''), 'HPORCML');
  });

  it('(c) Abbott ARCHITECT: the F result is the value, I its interpretation, P (RLU) is kept but not filed', () => {
    const { messages } = decode('abbott-architect.txt');
    const m = messages[0];
    assert.equal(m.profile, 'abbott-architect');
    assert.deepEqual(m.report!.sender, { name: 'ARCHITECT', version: '9.45', serial: 'F3452430028' });
    assert.equal(m.report!.terminationCode, '');
    const s = m.report!.specimens[0];
    assert.equal(s.specimenId, '276056250158121');
    assert.equal(s.instrumentSpecimenId, '276056250158121');
    assert.equal(s.rack, 'U265');
    assert.equal(s.position, '1');
    assert.deepEqual(s.results.map(brief), [['580', '0.15', 'S/CO', '', 'R']]);
    assert.equal(s.results[0].interpretation, 'Nonreactive');
    assert.equal(s.results[0].operator, 'ADMIN');
    assert.equal(s.results[0].verifier, 'ADMIN');
    assert.equal(s.results[0].instrument, 'i1SR52842');
    assert.deepEqual(s.unfiled.map(brief), [['580', '1277', 'RLU', '', 'R']]);
  });

  it('(d) Abbott Afinion 2: HbA1c 5.9 % for the id typed on the device', () => {
    const { messages } = decode('abbott-afinion2.astm');
    const s = messages[0].report!.specimens[0];
    assert.equal(messages[0].profile, 'abbott-afinion2');
    assert.equal(s.specimenId, '3643');
    assert.equal(s.instrumentSpecimenId, '5');
    assert.deepEqual(s.results.map(brief), [['HbA1c', '5.9', '%', '', 'F']]);
    assert.equal(s.results[0].completedAt, '20241206140615');
    assert.equal(messages[0].report!.sender.serial, 'AF20052397');
  });

  it('(d) Beckman DxH query: delimiters \\!~ read from H, specimen 000004287888, all tests, orders only', () => {
    const { messages } = decode('beckman-dxh-query.txt');
    const m = messages[0];
    assert.equal(m.profile, 'beckman-dxh');
    assert.equal(m.report!.controlId, '(0:0-144795890#123476669, 571)');
    assert.deepEqual(m.report!.queries, [{ sequence: '1', specimenIds: ['000004287888'], startingRange: '!000004287888', tests: 'ALL', statusCode: 'O' }]);
  });

  it('(d) Beckman DxH host reply and result upload: value component 1, LOINC from component 5', () => {
    const reply = decode('beckman-dxh-reply.txt', 'beckman-dxh').messages[0];
    assert.equal(reply.report!.specimens[0].specimenId, '000004287888');
    assert.equal(reply.report!.specimens[0].patientId, '401791');
    const { messages } = decode('beckman-dxh-results.txt');
    const s = messages[0].report!.specimens[0];
    assert.equal(s.specimenId, '000004287888');
    assert.equal(s.instrumentSpecimenId, '00026');
    assert.deepEqual(s.results.map(brief), [
      ['WBC', '7.4', '10^9/L', '', 'F'],
      ['HGB', '146', 'g/L', 'A', 'F'],
    ]);
    assert.deepEqual(s.results.map((r) => [r.loinc, r.referenceRange, r.operator, r.instrument]), [
      ['33256-9', '3.8 to 11.8', 'SYSTEM', 'AY52686'],
      ['718-7', '109 to 143', 'SYSTEM', 'AY52686'],
    ]);
    assert.match(s.comments[0], /research use only/);
  });

  it('(e) Siemens Centaur query, host order reply and result: DOSE filed, RLU and COFF not', () => {
    const q = decode('siemens-centaur-query.txt').messages[0];
    assert.equal(q.profile, 'siemens-advia-centaur');
    assert.deepEqual(q.report!.queries[0].specimenIds, ['K403911']);
    const reply = decode('siemens-centaur-order-reply.txt', 'siemens-advia-centaur').messages[0];
    assert.equal(reply.report!.specimens[0].specimenId, '000004301090');
    assert.equal(reply.report!.specimens[0].reportType, 'O');
    assert.equal(reply.report!.terminationCode, 'F');
    const { messages } = decode('siemens-centaur-results.txt');
    const s = messages[0].report!.specimens[0];
    assert.equal(s.specimenId, '000004300798');
    assert.equal(s.rack, '0014');
    assert.equal(s.position, 'A');
    assert.equal(s.patientId, '188875');
    assert.deepEqual(s.results.map(brief), [['VitD', '25.22', 'ng/mL', '', 'F']]);
    assert.deepEqual(s.unfiled.map((r) => r.resultType), ['RLU', 'COFF']);
  });

  it('round-trips every transcript losslessly (records re-serialised byte for byte)', () => {
    let checked = 0;
    for (const file of fs.readdirSync(dir).filter((f) => /\.(astm|txt)$/.test(f))) {
      const raw = fs.readFileSync(path.join(dir, file)).toString('latin1');
      // Unframe independently of the production scanner: the text between STX+FN and ETX/ETB.
      const text = file.endsWith('.astm') ? [...raw.matchAll(/\x02[0-7]([^\x03\x17]*)[\x03\x17]/g)].map((m) => m[1]).join('') : raw;
      const message = parseMessage(text);
      assert.ok(message.records.length >= 3, file);
      assert.equal(messageText(message.records), text, file);
      checked++;
    }
    assert.equal(checked, 11);
  });
});
