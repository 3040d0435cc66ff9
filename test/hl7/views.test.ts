import assert from 'node:assert/strict';
import type { ImagingOrder, LabOrder } from '../../model';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { buildAdt, buildOml, buildOrm, buildOru, buildOul, parseReferenceRange, readAdt, readOrders, readResults } from '../../connectors/hl7/views';
import { fixture } from './helpers';

const header = { sendingApplication: 'HISBRIDGE', sendingFacility: 'BV_A', receivingApplication: 'HIS', receivingFacility: 'BV_A', timestamp: '20250115120000+0700', controlId: 'T1' };

describe('hl7 typed views ↔ canonical model', () => {
  describe('ADT^A01/A04/A08', () => {
    it('reads patient, identifiers, address and visit from ADT^A01', () => {
      const view = readAdt(Hl7Message.parse(fixture('adt-a01-vn.hl7')));
      assert.equal(view.event, 'A01');
      assert.equal(view.recordedAt, '2025-01-15T08:00:00+07:00');
      const p = view.patient;
      assert.equal(p.id, 'BN0001234');
      assert.deepEqual(p.identifiers, [
        { system: 'MA_BN', value: 'BN0001234' },
        { system: 'CCCD', value: '079085001234' },
        { system: 'BHYT', value: 'DN4797912345678' },
      ]);
      assert.deepEqual(p.name, { full: 'Nguyễn Văn An', family: 'Nguyễn', given: 'Văn An' });
      assert.equal(p.birthDate, '1985-03-15');
      assert.equal(p.sex, 'male');
      assert.equal(p.address?.line, '12 Lê Lợi');
      assert.equal(p.address?.communeName, 'Phường Bến Nghé');
      assert.equal(p.address?.provinceCode, '79');
      assert.equal(p.phone, '0903123456');
      assert.equal(p.ethnicityCode, '01');
      assert.equal(p.nationalityCode, 'VNM');
      const v = view.visit!;
      assert.equal(v.maLk, 'VP2025000123');
      assert.equal(v.kind, 'inpatient');
      assert.equal(v.careTypeCode, '03');
      assert.equal(v.departmentCode, 'NOI');
      assert.equal(v.admittedAt, '2025-01-15T07:55:00+07:00');
      assert.deepEqual(v.attending, { id: 'BS001', name: 'Trần Thị Bình' });
    });

    it('A04 outpatient with a year-only birth date, and A08 update', () => {
      const a04 = readAdt(Hl7Message.parse(fixture('adt-a04-vn.hl7')));
      assert.equal(a04.event, 'A04');
      assert.equal(a04.patient.birthDate, '1992');
      assert.equal(a04.patient.sex, 'female');
      assert.equal(a04.visit?.kind, 'outpatient');
      assert.equal(a04.visit?.careTypeCode, '01');
      const a08 = readAdt(Hl7Message.parse(fixture('adt-a08-vn.hl7')));
      assert.equal(a08.event, 'A08');
      assert.equal(a08.patient.name.full, 'Nguyễn Văn Anh');
    });

    it('round trip: canonical → ADT → canonical is identical', () => {
      const original = readAdt(Hl7Message.parse(fixture('adt-a01-vn.hl7')));
      original.visit!.diagnoses = [
        { icd10: 'J18.9', text: 'Viêm phổi', primary: true, stage: 'admission' },
        { icd10: 'I10', text: 'Tăng huyết áp', primary: false },
      ];
      const built = buildAdt(original, header);
      const reparsed = Hl7Message.parse(built.toBuffer());
      assert.equal(reparsed.messageType, 'ADT^A01');
      assert.equal(reparsed.structureId, 'ADT_A01');
      const back = readAdt(reparsed);
      assert.deepEqual(back.patient, original.patient);
      assert.deepEqual(back.visit, original.visit);
    });

    it('refuses a message that is not ADT^A01/A04/A08, naming MSH-9', () => {
      assert.throws(() => readAdt(Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7'))), /MSH-9 is ORU\^R01, not ADT/);
    });
  });

  describe('ORM^O01 / OML^O21', () => {
    it('reads an imaging ORM^O01 (dcm4chee/IHE SWF fields) into an ImagingOrder', () => {
      const view = readOrders(Hl7Message.parse(fixture('orm-o01-imaging.hl7')));
      assert.equal(view.control, 'NW');
      assert.equal(view.orders.length, 1);
      const o = view.orders[0] as ImagingOrder;
      assert.equal(o.kind, 'imaging');
      assert.equal(o.id, 'CD2025000777');
      assert.equal(o.accessionNumber, 'ACC20250001');
      assert.equal(o.requestedProcedureId, 'RP001');
      assert.equal(o.modality, 'CT');
      assert.deepEqual(o.requestedProcedure, { code: 'CT001', description: 'CT sọ não không tiêm thuốc cản quang' });
      assert.equal(o.scheduledAt, '2025-01-15T10:00:00+07:00');
      assert.equal(o.status, 'scheduled');
      assert.equal(o.clinicalInfo, 'Đau đầu kéo dài');
      assert.deepEqual(o.orderingStaff, { id: 'BS001', name: 'Trần Thị Bình' });
    });

    it('reads an OML^O21 with two orders on one specimen into LabOrders', () => {
      const view = readOrders(Hl7Message.parse(fixture('oml-o21-lab.hl7')));
      assert.equal(view.maLk, 'VP2025000123');
      const [a, b] = view.orders as LabOrder[];
      assert.equal(a.kind, 'lab');
      assert.equal(a.id, 'CD2025000888');
      assert.equal(a.priority, 'stat');
      assert.deepEqual(a.tests, [{ hisServiceCode: 'GLU', name: 'Glucose máu', loinc: '2345-7' }]);
      assert.equal(a.specimen.id, 'SID12345');
      assert.equal(a.specimen.type, 'SER');
      assert.equal(a.specimen.collectedAt, '2025-01-15T09:05:00+07:00');
      assert.equal(a.clinicalInfo, 'Theo dõi đái tháo đường');
      assert.equal(b.id, 'CD2025000889');
      assert.equal(b.tests[0].loinc, '2160-0');
    });

    it('round trip: LabOrder → OML^O21 → LabOrder, ImagingOrder → ORM^O01 → ImagingOrder', () => {
      const lab = readOrders(Hl7Message.parse(fixture('oml-o21-lab.hl7')));
      const oml = Hl7Message.parse(buildOml(lab.patient, lab.orders as LabOrder[], { ...header, maLk: lab.maLk }).toBuffer());
      const labBack = readOrders(oml);
      assert.deepEqual(labBack.orders.map((o) => ({ ...o, updatedAt: '' })), lab.orders.map((o) => ({ ...o, updatedAt: '' })));
      const img = readOrders(Hl7Message.parse(fixture('orm-o01-imaging.hl7')));
      const orm = Hl7Message.parse(buildOrm(img.patient, img.orders[0] as ImagingOrder, header).toBuffer());
      assert.equal(orm.version, '2.3.1');
      const imgBack = readOrders(orm);
      assert.deepEqual({ ...imgBack.orders[0], updatedAt: '' }, { ...img.orders[0], updatedAt: '' });
    });
  });

  describe('ORU^R01 / OUL^R22', () => {
    it('reads the NIST ORU^R01 into one batch with its result', () => {
      const view = readResults(Hl7Message.parse(fixture('nist-oru-r01-2.5.1.hl7')));
      assert.equal(view.patientId, '9817566735');
      assert.equal(view.batches.length, 1);
      const batch = view.batches[0];
      assert.equal(batch.specimenId, '9700123');
      const [r] = batch.results!;
      assert.equal(r.code, '10368-9');
      assert.equal(r.loinc, '10368-9');
      assert.equal(r.name, 'Lead BldC-mCnc');
      assert.equal(r.value, '50');
      assert.equal(r.valueType, 'numeric');
      assert.equal(r.unit, 'ug/dL');
      assert.equal(r.referenceRange?.text, '<9 mcg/dL:  Acceptable background lead exposure');
      assert.equal(r.abnormalFlag, 'H');
      assert.equal(r.status, 'final');
      assert.equal(r.observedAt, '2008-08-15T10:30:00-07:00');
      assert.equal(r.resultedAt, '2008-08-18T18:00:00-07:00');
    });

    it('reads an analyser ORU (LF-terminated, 2.3.1): numeric results with ranges and flags, histogram images left out', () => {
      const view = readResults(Hl7Message.parse(fixture('oru-r01-analyser-lf.hl7')));
      const results = view.batches[0].results!;
      assert.equal(results.length, 10, 'the ED histogram is not a result');
      const hgb = results.find((r) => r.name === 'HGB')!;
      assert.deepEqual(hgb.referenceRange, { low: '110', high: '150', text: '110-150' });
      assert.equal(hgb.abnormalFlag, 'L');
      assert.equal(hgb.unit, 'g/L');
      assert.deepEqual(hgb.device, { id: 'BC-5380' });
      assert.equal(view.batches[0].specimenId, 'SID20001');
      assert.equal(view.patient?.sex, 'female');
    });

    it('reads an OUL^R22: one batch per ORDER with the specimen of its SPECIMEN group, device and comment', () => {
      const view = readResults(Hl7Message.parse(fixture('oul-r22-analyser.hl7')));
      assert.equal(view.batches.length, 2);
      assert.deepEqual(view.batches.map((b) => b.specimenId), ['SID12345', 'SID12345']);
      assert.deepEqual(view.batches.map((b) => b.orderId), ['CD2025000888', 'CD2025000889']);
      const glucose = view.batches[0].results![0];
      assert.equal(glucose.value, '7.8');
      assert.equal(glucose.abnormalFlag, 'H');
      assert.deepEqual(glucose.device, { id: 'BS-240', name: 'Mindray' });
      assert.equal(view.batches[1].results![0].comment, 'Mẫu hơi tán huyết');
    });

    it('round trip: results → ORU^R01 and → OUL^R22 → the same results', () => {
      const original = readResults(Hl7Message.parse(fixture('oul-r22-analyser.hl7')));
      for (const build of [buildOru, buildOul]) {
        const message = Hl7Message.parse(build(original.patient!, original.batches, header).toBuffer());
        const back = readResults(message);
        assert.deepEqual(back.batches, original.batches, build.name);
        assert.deepEqual(back.patient, original.patient);
      }
    });

    it('reference ranges', () => {
      assert.deepEqual(parseReferenceRange('3.9 - 6,4'), { low: '3.9', high: '6.4', text: '3.9 - 6,4' });
      assert.deepEqual(parseReferenceRange('<5'), { high: '5', text: '<5' });
      assert.deepEqual(parseReferenceRange('>= 60'), { low: '60', text: '>= 60' });
      assert.deepEqual(parseReferenceRange('Âm tính'), { text: 'Âm tính' });
      assert.equal(parseReferenceRange(''), undefined);
    });
  });
});
