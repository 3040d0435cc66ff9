// CDA R2 documents: every type built from canonical data and from the demo HIS validates with
// xmllint against the official schema (and, signed, against the schema + ds:Signature), carries
// Vietnamese text intact and coded entries (LOINC, ICD-10, UCUM); missing mandatory data builds
// no document and names the missing element; the writer's output is exclusive-canonical.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { acquireHis, type HisLease } from '../../connectors/his-db/pool';
import { buildDischargeSummary } from '../../emr/cda/discharge-summary';
import { buildImagingReport } from '../../emr/cda/imaging-report';
import { buildLabReport } from '../../emr/cda/lab-report';
import { buildVitalSigns, groupVitals, news2Of } from '../../emr/cda/vital-signs';
import { CanonicalXmlWriter } from '../../emr/cda/xml';
import { emrOids, facilityArc, HISBRIDGE_ROOT_OID, identifierOfOid } from '../../emr/oids';
import { EmrService } from '../../emr/service';
import { signCanonical } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { EmrInputError, type BuiltDocument } from '../../emr/types';
import { requirePeers } from '../helpers/peers';
import {
  assessments,
  CDA_XSD,
  context,
  doctor,
  facility,
  imagingOrder,
  imagingReport,
  labOrder,
  labResults,
  medications,
  oids,
  patient,
  radiologist,
  SIGNED_CDA_XSD,
  smallDemoHis,
  tempDir,
  testCerts,
  visit,
  vitals,
  xmllint,
} from './helpers';

const { DOMParser } = createRequire(require.resolve('xml-crypto'))('@xmldom/xmldom') as typeof import('@xmldom/xmldom');
const now = () => new Date();

function allTypes(): BuiltDocument[] {
  return [
    buildLabReport(oids, context(), { order: labOrder, results: labResults() }, { now }),
    buildImagingReport(oids, context({ author: radiologist }), { report: imagingReport, order: imagingOrder }, { now }),
    buildVitalSigns(oids, context(), { observations: vitals(), assessments }, { now }),
    buildDischargeSummary(oids, context(), { visit, results: labResults(), reports: [imagingReport], medications }, { now }),
  ];
}

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
}

function exclusiveCanonical(xml: string): string {
  const doc = parse(xml);
  return new ExclusiveCanonicalization().process(doc.documentElement, {}) as string;
}

describe('emr: CDA R2 documents', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = tempDir('hisbridge-emr-cda-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every document type validates against the official CDA R2 schema, unsigned and signed', async function () {
    requirePeers(this, 'xmllint');
    const certs = testCerts();
    try {
      for (const doc of allTypes()) {
        assert.equal(await xmllint(doc.xml, CDA_XSD, dir), undefined, `${doc.type} must validate against CDA.xsd`);
        const signed = signCanonical(doc.xml, certs.identity);
        assert.equal(await xmllint(signed, SIGNED_CDA_XSD, dir), undefined, `${doc.type} signed must validate against CDA.xsd + ds:Signature`);
        // The official schema alone refuses the signature element: the extended schema is the only difference.
        assert.match((await xmllint(signed, CDA_XSD, dir)) ?? '', /Signature/);
      }
    } finally {
      certs.cleanup();
    }
  });

  it('documents built from the demo HIS (every visit of 40) validate with xmllint', async function () {
    requirePeers(this, 'xmllint');
    const his = await smallDemoHis();
    const certs = testCerts();
    let lease: HisLease | undefined;
    const store = new DocumentStore(`${dir}/demo-emr.db`, { audit: () => undefined }, () => ({ status: 'valid', checkedAt: '' }));
    try {
      lease = await acquireHis({ type: 'sqlite', file: his.file }, 'demo-his');
      const service = new EmrService({ store, oids: emrOids((await lease.his.facility()).code), identity: certs.identity, facility: await lease.his.facility(), now });
      const visits = await lease.his.visitsForClaims({ from: '2000-01-01T00:00:00+07:00', to: '2100-01-01T00:00:00+07:00', insuredOnly: false, limit: 40 });
      assert.equal(visits.length, 40);
      const seen = new Set<string>();
      for (const v of visits) {
        const outcomes = await service.buildForVisit(lease.his, v.maLk);
        for (const o of outcomes) {
          assert.equal(o.status, 'created', `${o.sourceKey}: ${o.error}`);
          seen.add(o.type);
          const { xml } = store.read(o.document!.id, { username: 'test' });
          const problem = await xmllint(xml, SIGNED_CDA_XSD, dir);
          assert.equal(problem, undefined, `${o.sourceKey} from the demo HIS: ${problem}`);
        }
      }
      assert.deepEqual([...seen].sort(), ['discharge-summary', 'imaging-report', 'lab-report', 'vital-signs']);
    } finally {
      store.close();
      await lease?.release();
      certs.cleanup();
      his.cleanup();
    }
  });

  it('keeps Vietnamese text in UTF-8 (NFC) and XML specials intact through the document', () => {
    const [lab, , , discharge] = allTypes();
    const doc = parse(lab.xml);
    assert.equal(doc.getElementsByTagName('title')[0].textContent, 'Phiếu kết quả xét nghiệm');
    assert.equal(doc.getElementsByTagName('family')[0].textContent, 'Nguyễn');
    assert.equal(doc.getElementsByTagName('given')[0].textContent, 'Thị Thu Hương');
    assert.ok(lab.xml.includes('Mẫu hơi tan huyết; kết quả "tham khảo" &amp; cần làm lại nếu nghi ngờ'));
    assert.ok(discharge.xml.includes('Sốt cao 3 ngày, ho đờm &amp; khó thở &lt;nhẹ&gt;'));
    assert.equal(parse(discharge.xml).getElementsByTagName('paragraph')[0].textContent, 'Sốt cao 3 ngày, ho đờm & khó thở <nhẹ>');
    // Decomposed input (NFD, as some Windows tools write it) is stored composed.
    const nfd = buildLabReport(oids, context({ patient: { ...patient, name: { full: 'Trần Thị Lành'.normalize('NFD') } } }), { order: labOrder, results: labResults() }, { now });
    assert.ok(nfd.xml.includes('Trần Thị Lành'.normalize('NFC')));
    assert.ok(!nfd.xml.includes('Trần Thị Lành'.normalize('NFD')));
  });

  it('writes the header: patient identifiers under documented OIDs, author, custodian with MA_CSKCB, legal authenticator, encounter', () => {
    const lab = buildLabReport(oids, context({ createdAt: '2026-11-20T10:00:00+07:00' }), { order: labOrder, results: labResults() });
    const doc = parse(lab.xml);
    const ids = Array.from(doc.getElementsByTagName('patientRole')[0].getElementsByTagName('id')).map((e) => [identifierOfOid(oids, e.getAttribute('root')!), e.getAttribute('extension')]);
    assert.deepEqual(ids, [
      ['MA_BN', 'BN-TEST-001'],
      ['CCCD', '001085012345'],
      ['BHYT', 'DN4010123456789'],
    ]);
    assert.equal(oids.cccd, `${HISBRIDGE_ROOT_OID}.1.1`);
    assert.equal(oids.maBn, `${facilityArc('01999')}.1`);
    const custodian = doc.getElementsByTagName('representedCustodianOrganization')[0];
    assert.equal(custodian.getElementsByTagName('id')[0].getAttribute('root'), oids.maCskcb);
    assert.equal(custodian.getElementsByTagName('id')[0].getAttribute('extension'), '01999');
    const author = doc.getElementsByTagName('assignedAuthor')[0];
    assert.deepEqual(
      Array.from(author.childNodes)
        .filter((n) => (n as Element).tagName === 'id')
        .map((e) => (e as Element).getAttribute('extension')),
      ['NV0050', '011850/HNO-CCHN'],
    );
    assert.equal(author.getElementsByTagName('prefix')[0].textContent, 'BS.CKI');
    assert.equal(doc.getElementsByTagName('signatureCode')[0].getAttribute('code'), 'S');
    const encounter = doc.getElementsByTagName('encompassingEncounter')[0];
    assert.equal(encounter.getElementsByTagName('id')[0].getAttribute('extension'), 'LK-TEST-0001');
    assert.equal(encounter.getElementsByTagName('code')[0].getAttribute('code'), 'IMP');
    assert.equal(doc.getElementsByTagName('effectiveTime')[0].getAttribute('value'), '20261120100000+0700');
    assert.equal(doc.getElementsByTagName('languageCode')[0].getAttribute('code'), 'vi-VN');
    assert.deepEqual(lab.warnings, []);
  });

  it('codes lab results with LOINC, UCUM units, interpretation and reference ranges; text values stay text', () => {
    const [lab] = allTypes();
    const observations = Array.from(parse(lab.xml).getElementsByTagName('observation'));
    assert.equal(observations.length, 4);
    const glucose = observations[0];
    const code = glucose.getElementsByTagName('code')[0];
    assert.equal(code.getAttribute('code'), '2345-7');
    assert.equal(code.getAttribute('codeSystem'), '2.16.840.1.113883.6.1');
    assert.equal(code.getElementsByTagName('translation')[0].getAttribute('code'), 'XN_GLU');
    const value = glucose.getElementsByTagName('value')[0];
    assert.equal(value.getAttribute('xsi:type'), 'PQ');
    assert.equal(value.getAttribute('value'), '7.80');
    assert.equal(value.getAttribute('unit'), 'mmol/L');
    assert.equal(glucose.getElementsByTagName('interpretationCode')[0].getAttribute('code'), 'H');
    assert.equal(glucose.getElementsByTagName('low')[0].getAttribute('value'), '3.9');
    const hbsag = observations[3];
    assert.equal(hbsag.getElementsByTagName('value')[0].getAttribute('xsi:type'), 'ST');
    assert.equal(hbsag.getElementsByTagName('value')[0].textContent, 'Âm tính');
    assert.deepEqual(
      lab.labValues.map((v) => [v.code, v.valueNum, v.flag]),
      [
        ['2345-7', 7.8, 'H'],
        ['1988-5', 48.5, 'H'],
        ['2823-3', 3.9, 'N'],
        ['HBSAG', null, 'N'],
      ],
    );
  });

  it('codes diagnoses with ICD-10 and medications in the discharge summary', () => {
    const discharge = allTypes()[3];
    const values = Array.from(parse(discharge.xml).getElementsByTagName('value')).filter((v) => v.getAttribute('codeSystem') === '2.16.840.1.113883.6.3');
    assert.deepEqual(
      values.map((v) => v.getAttribute('code')),
      ['R50.9', 'J18.9', 'I10'],
    );
    assert.ok(discharge.xml.includes('<manufacturedLabeledDrug><code code="T_CEF1G"'));
    assert.ok(discharge.xml.includes('Kết quả điều trị: Đỡ.'), 'outcome text from the BHYT code list');
    assert.ok(discharge.xml.includes('Hẹn tái khám ngày 27/11/2026.'));
  });

  it('reports NEWS2 for complete sets and "incomplete" with the missing parameters otherwise', () => {
    const sets = groupVitals({ observations: vitals(), assessments });
    assert.equal(sets.length, 3);
    const outcomes = sets.map(news2Of);
    // Set 1: RR 26 (3) SpO2 91 (3) O2 (2) SBP 98 (2) pulse 118 (2) A (0) temp 39.4 (2) = 14.
    assert.deepEqual(outcomes[0], { complete: true, result: outcomes[0].complete ? { ...outcomes[0].result, total: 14, risk: 'high' } : undefined });
    // Set 2: RR 20 (0) SpO2 95 (1) air (0) SBP 118 (0) pulse 96 (1) A (0) temp 38.1 (1) = 3.
    assert.equal(outcomes[1].complete && outcomes[1].result.total, 3);
    assert.deepEqual(outcomes[2], { complete: false, partialScore: 0, missing: ['respiratoryRate', 'spo2', 'consciousness', 'onOxygen'] });
    const doc = buildVitalSigns(oids, context(), { observations: vitals(), assessments }, { now });
    assert.deepEqual(
      doc.news2?.map((n) => [n.complete, n.total ?? n.partialScore, n.risk ?? n.missing?.length]),
      [
        [true, 14, 'high'],
        [true, 3, 'low'],
        [false, 0, 4],
      ],
    );
    const news2Entries = Array.from(parse(doc.xml).getElementsByTagName('code')).filter((c) => c.getAttribute('code') === '1104051000000101');
    assert.equal(news2Entries.length, 3, 'the section code and one entry per complete set');
    assert.ok(doc.xml.includes('Chưa tính được (thiếu nhịp thở, SpO₂, ý thức (ACVPU), thở oxy hay khí trời)'));
  });

  it('writes a correction as a new version: same set id, version + 1, relatedDocument RPLC', () => {
    const first = buildLabReport(oids, context(), { order: labOrder, results: labResults() }, { now });
    const second = buildLabReport(
      oids,
      context({ setId: first.setId, version: 2, replaces: { id: first.id, setId: first.setId, version: 1 } }),
      { order: labOrder, results: labResults({ GLU: '6.10' }) },
      { now },
    );
    const doc = parse(second.xml);
    assert.notEqual(second.id, first.id);
    assert.equal(doc.getElementsByTagName('setId')[0].getAttribute('extension'), first.setId);
    assert.equal(doc.getElementsByTagName('versionNumber')[0].getAttribute('value'), '2');
    const related = doc.getElementsByTagName('relatedDocument')[0];
    assert.equal(related.getAttribute('typeCode'), 'RPLC');
    assert.equal(related.getElementsByTagName('id')[0].getAttribute('extension'), first.id);
    assert.throws(() => buildLabReport(oids, context({ version: 2 }), { order: labOrder, results: labResults() }), (e: unknown) => e instanceof EmrInputError && e.element === 'relatedDocument');
  });

  describe('missing mandatory data: no document, the missing element named', () => {
    const cases: Array<[string, () => unknown, string | RegExp]> = [
      ['no patient identifier', () => buildLabReport(oids, context({ patient: { ...patient, id: '', identifiers: [] } }), { order: labOrder, results: labResults() }), 'recordTarget/patientRole/id'],
      ['no author', () => buildLabReport(oids, context({ author: undefined }), { order: labOrder, results: labResults() }), 'author/assignedAuthor'],
      ['author without id or CCHN', () => buildLabReport(oids, context({ author: { id: '', name: 'X' } }), { order: labOrder, results: labResults() }), 'author/assignedAuthor/id'],
      ['author without name', () => buildImagingReport(oids, context({ author: { id: 'NV1' } }), { report: imagingReport }), 'author/assignedAuthor/assignedPerson/name'],
      ['patient without name', () => buildVitalSigns(oids, context({ patient: { ...patient, name: { full: ' ' } } }), { observations: vitals() }), 'recordTarget/patientRole/patient/name'],
      ['malformed CCCD', () => buildLabReport(oids, context({ patient: { ...patient, identifiers: [{ system: 'CCCD', value: '00108501234' }] } }), { order: labOrder, results: labResults() }), 'recordTarget/patientRole/id[CCCD]'],
      ['hospital without MA_CSKCB', () => buildLabReport(oids, context({ facility: { ...facility, code: '' } }), { order: labOrder, results: labResults() }), 'custodian/assignedCustodian/representedCustodianOrganization/id'],
      ['lab order without results', () => buildLabReport(oids, context(), { order: labOrder, results: [] }), 'component/structuredBody/component/section/entry'],
      ['result without value', () => buildLabReport(oids, context(), { order: labOrder, results: [{ ...labResults()[0], value: '' }] }), 'entry/organizer/component[0]/observation/value'],
      ['imaging report without conclusion', () => buildImagingReport(oids, context({ author: radiologist }), { report: { ...imagingReport, conclusion: '' } }), 'component/structuredBody/component/section[impression]/text'],
      ['discharge summary of an open visit', () => buildDischargeSummary(oids, context(), { visit: { ...visit, dischargedAt: undefined } }), 'componentOf/encompassingEncounter/effectiveTime/high'],
      ['unparseable time', () => buildLabReport(oids, context(), { order: labOrder, results: [{ ...labResults()[0], observedAt: '20/11/2026' }] }), 'observation[GLU]/effectiveTime'],
      ['vitals without measurements', () => buildVitalSigns(oids, context(), { observations: [] }), 'component/structuredBody/component/section/entry'],
    ];
    for (const [name, build, element] of cases) {
      it(name, () => {
        assert.throws(build, (error: unknown) => {
          assert.ok(error instanceof EmrInputError, `expected EmrInputError, got ${error}`);
          assert.equal(error.element, element);
          assert.ok(error.message.startsWith(`${element}: `), error.message);
          return true;
        });
      });
    }

    it('the service stores nothing and reports the element', () => {
      const certs = testCerts();
      const store = new DocumentStore(`${dir}/refuse.db`, { audit: () => undefined }, () => ({ status: 'valid', checkedAt: '' }));
      try {
        const service = new EmrService({ store, oids, identity: certs.identity, facility, now });
        const outcome = service.tryPublish('lab-report', context({ author: undefined }), { order: labOrder, results: labResults() }, 'lab-report:XN-TEST-01');
        assert.equal(outcome.status, 'error');
        assert.equal(outcome.element, 'author/assignedAuthor');
        assert.match(outcome.error!, /no author/);
        assert.equal(store.count(), 0);
        assert.throws(() => service.publish('vital-signs', context({ patient: { ...patient, id: '', identifiers: [] } }), { observations: vitals() }, 'x'), /recordTarget\/patientRole\/id: the patient has no identifier/);
        assert.equal(store.count(), 0);
      } finally {
        store.close();
        certs.cleanup();
      }
    });

    it('warns (does not refuse) when the birth date is after the visit', () => {
      const doc = buildLabReport(oids, context({ patient: { ...patient, birthDate: '2026-12-15' } }), { order: labOrder, results: labResults() }, { now });
      assert.deepEqual(doc.warnings, ['recordTarget/patientRole/patient/birthTime: birth date 2026-12-15 is after the care recorded (2026-11-15); check the HIS']);
    });

    it('warns (does not refuse) when the patient has no CCCD', () => {
      const doc = buildLabReport(oids, context({ patient: { ...patient, identifiers: [{ system: 'BHYT', value: 'DN4010123456789' }] } }), { order: labOrder, results: labResults() }, { now });
      assert.equal(doc.warnings.length, 1);
      assert.match(doc.warnings[0], /no CCCD/);
    });
  });

  it('writes exclusive-canonical XML: xml-crypto canonicalizes every document to the same bytes', () => {
    for (const doc of allTypes()) assert.equal(exclusiveCanonical(doc.xml), doc.xml, doc.type);
  });

  it('writes exclusive-canonical XML for awkward text and attribute values (fuzz, 500 cases)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = ['a', 'Z', '0', ' ', '&', '<', '>', '"', "'", '\t', '\n', '\r', 'ệ', 'Đ', '\u0001', '\uFFFF', '😀', ']]>', '&amp;', '=', '/', '\\'];
    const text = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 500; i++) {
      const w = new CanonicalXmlWriter();
      w.root('ClinicalDocument', { b: text(), a: text() });
      w.open('component', { z: text(), 'xsi:type': 'PQ', m: text() });
      w.text('value', text(), { 'xsi:type': 'ST' });
      w.empty('id', { root: '1.2.3', extension: text() });
      w.chars(text());
      w.close('component');
      w.close('ClinicalDocument');
      const xml = w.toString();
      assert.equal(exclusiveCanonical(xml), xml, `case ${i}: ${JSON.stringify(xml)}`);
    }
  });

  it('hospital OIDs: MA_CSKCB of 5 digits makes the arc; others need an explicit OID; overrides are checked', () => {
    assert.equal(facilityArc('79001'), `${HISBRIDGE_ROOT_OID}.2.79001`);
    assert.throws(() => facilityArc('AB123'), /not 5 digits/);
    assert.equal(facilityArc('AB123', '1.2.704.5'), '1.2.704.5');
    assert.throws(() => emrOids('01999', { overrides: { cccd: '1.02.3' } }), /emr\.oids\.cccd: "1\.02\.3" is not an OID/);
    assert.equal(emrOids('01999', { overrides: { cccd: '2.16.704.1.1' } }).cccd, '2.16.704.1.1');
    assert.ok(doctor && radiologist);
  });
});
