// The HIS suite, parametrised by database (SQLite, PostgreSQL, MariaDB) and by mapping (the demo HIS
// and the English example schema): the same tests, unchanged, for every combination.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { hisDbConfigSchema } from '../../connectors/his-db/config';
import { HisOrderSource } from '../../connectors/his-db/source';
import { WatermarkStore } from '../../connectors/his-db/watermark';
import type { ConnectionStatus, InboundMessage, SourceContext } from '../../engine/connectors/types';
import { installHis } from '../../his/demo';
import { HisMappingError, HisNotFoundError } from '../../his/lookups';
import { loadMapping } from '../../his/mapping/load';
import { identifierOf, type LabOrder, type Order, type Result } from '../../model';
import { DIALECTS, TEST_NOW, countRows, createTestDatabase, insertLabOrder, setOrderColumn, type TestDatabase } from './helpers';

const BEGINNING = '0001-01-01 00:00:00.000';
const VIETNAMESE = /[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]/i;
const toCents = (d: string) => Math.round(Number(d) * 100);

export function recordingContext(dataDir: string, channelId = 'test-src') {
  const received: InboundMessage[] = [];
  const states: ConnectionStatus[] = [];
  const ctx: SourceContext = {
    channelId,
    dataDir,
    certsDir: dataDir,
    log: winston.createLogger({ silent: true }),
    lookup: () => undefined,
    async receive(message) {
      received.push(message);
      return { status: 'accepted', messageId: received.length };
    },
    reportConnection(status) {
      states.push({ since: new Date().toISOString(), ...status });
    },
  };
  return { ctx, received, states };
}

function resultsFor(his: HisDatabase, order: LabOrder, value = '5.5'): Result[] {
  return order.tests.flatMap((t) =>
    his.loaded.labCodes.forHisService(t.hisServiceCode).map((e) => ({
      code: e.analyserCode,
      value,
      valueType: 'numeric' as const,
      unit: e.unit,
      status: 'final' as const,
      observedAt: '2026-11-22T11:00:00+07:00',
      device: { id: t.hisServiceCode === 'XN_CTM' ? 'XN1000' : 'AU480' },
    })),
  );
}

for (const { name, dialect } of DIALECTS) {
  for (const layout of ['demo-his', 'example-english'] as const) {
    describe(`HIS database on ${name} with mapping ${layout}`, function () {
      this.timeout(180_000);
      let tdb: TestDatabase | undefined;
      let his: HisDatabase;
      let dataDir: string;
      const source = (overrides: Record<string, unknown>) =>
        new HisOrderSource(hisDbConfigSchema.parse({ connection: tdb!.connection, mapping: layout, startFrom: 'beginning', overlapSeconds: 3600, pollIntervalMs: 50, batchSize: 37, ...overrides }), () => TEST_NOW);
      const run = async (src: HisOrderSource, ctx: SourceContext) => {
        const idle = src.whenIdle();
        await src.start(ctx);
        await idle;
        await src.stop();
      };
      const allOrders = async () => [
        ...(await his.pollOrders('lab', { since: BEGINNING }, {}, 1_000_000)),
        ...(await his.pollOrders('imaging', { since: BEGINNING }, {}, 1_000_000)),
      ];

      before(async function () {
        tdb = await createTestDatabase(this, dialect);
        await installHis(tdb.connection, { layout, seed: 7, visits: 300, today: TEST_NOW });
        his = await HisDatabase.open(tdb.connection, loadMapping(layout), { now: () => TEST_NOW });
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-his-data-'));
      });

      after(async () => {
        await his?.close();
        await tdb?.drop();
        if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      });

      it('finds patients by MA_BN, CCCD, BHYT card and passport, with Vietnamese names and coded addresses', async () => {
        const visits = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 50 });
        assert.ok(visits.length > 10, 'claims visits exist');
        const patient = await his.patientById(visits[0].patientId);
        assert.ok(patient);
        assert.match(patient.name.full, VIETNAMESE);
        assert.match(patient.address?.communeCode ?? '', /^\d{5}$/);
        assert.ok(patient.address?.provinceName?.startsWith('Thành phố') || patient.address?.provinceName?.startsWith('Tỉnh'));
        let cccdFound = false;
        for (const v of visits) {
          const p = (await his.patientById(v.patientId))!;
          const cccd = identifierOf(p, 'CCCD');
          if (!cccd) continue;
          assert.match(cccd, /^\d{12}$/);
          const byCccd = await his.patientByIdentifier({ value: cccd });
          assert.equal(byCccd?.id, p.id, 'a bare 12-digit value is looked up as CCCD');
          cccdFound = true;
          break;
        }
        assert.ok(cccdFound);
        const card = visits[0].coverage!.cardNumber;
        assert.match(card, /^[A-Z]{2}[1-5]\d{12}$/);
        assert.equal((await his.patientByIdentifier({ system: 'BHYT', value: card }))?.id, visits[0].patientId);
        assert.equal(await his.patientByIdentifier({ system: 'CCCD', value: '999999999999' }), undefined);
      });

      it('reads visits with ICD-10 diagnoses and BHYT coverage; off-route inpatients get 40 % of the card level', async () => {
        const visits = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 10_000 });
        assert.ok(visits.every((v) => v.coverage && v.dischargedAt), 'claims visits are insured and discharged');
        for (const v of visits) {
          assert.equal(v.diagnoses.filter((d) => d.primary && d.stage === 'discharge').length, 1, `${v.maLk}: one primary discharge diagnosis`);
          assert.match(v.diagnoses[0].icd10, /^[A-Z]\d{2}(\.\d)?$/);
          assert.match(v.careTypeCode, /^\d{2}$/);
          const c = v.coverage!;
          assert.ok([80, 95, 100].includes(c.cardBenefitLevel));
          if (c.route === 'off-route') {
            assert.equal(v.kind, 'inpatient');
            assert.equal(c.benefitLevel, Math.round(c.cardBenefitLevel * 0.4));
            assert.match(c.categoryCode, /^3\./);
          } else assert.equal(c.benefitLevel, c.cardBenefitLevel);
        }
        const routes = new Set(visits.map((v) => v.coverage!.route));
        for (const r of ['on-route', 'off-route', 'emergency', 'referral']) assert.ok(routes.has(r as never), `some ${r} visit`);
        // Keyset paging over MA_LK gives the same visits.
        const page1 = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 20 });
        const page2 = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 20, afterMaLk: page1[19].maLk });
        assert.deepEqual([...page1, ...page2].map((v) => v.maLk), visits.slice(0, 40).map((v) => v.maLk));
        assert.deepEqual(await his.visitByMaLk(visits[3].maLk), visits[3]);
      });

      it('returns billing lines whose amounts add up (fund + co-payment + self-pay = hospital amount)', async () => {
        const visits = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 60 });
        const kinds = new Set<string>();
        const groups = new Set<string>();
        for (const v of visits) {
          const lines = await his.billingLinesForVisit(v.maLk);
          assert.ok(lines.length > 0);
          for (const l of lines) {
            kinds.add(l.kind);
            groups.add(l.maNhom);
            assert.equal(toCents(l.amounts.fund) + toCents(l.amounts.coPayment) + toCents(l.amounts.selfPay), toCents(l.amounts.hospital), `${v.maLk} line ${l.lineNo}`);
            assert.equal(l.benefitLevel, v.coverage!.benefitLevel);
            assert.equal(toCents(l.amounts.fund), Math.round((toCents(l.amounts.insuranceScope) * l.benefitLevel) / 100));
            if (l.kind === 'drug') assert.ok(l.drug?.registrationNumber && l.drug.routeCode);
            assert.ok(l.orderingStaff?.practisingCertificate?.endsWith('CCHN'), 'ordering doctor has a practising certificate');
          }
        }
        for (const k of ['drug', 'service', 'supply', 'bed']) assert.ok(kinds.has(k), `some ${k} line`);
        for (const g of ['1', '2', '4', '13', '15']) assert.ok(groups.has(g), `some MA_NHOM ${g} line`);
      });

      it('answers order lookups: by specimen, by accession, and today’s scheduled imaging worklist', async () => {
        const worklist = await his.scheduledImagingOrders();
        assert.ok(worklist.length > 0, 'imaging scheduled today');
        assert.ok(worklist.every((o) => o.status === 'scheduled' && o.scheduledAt?.startsWith('2026-11-22') && o.scheduledStationAeTitle));
        const times = worklist.map((o) => o.scheduledAt!);
        assert.deepEqual(times, [...times].sort());
        const ct = await his.scheduledImagingOrders({ modality: 'CT' });
        assert.ok(ct.every((o) => o.modality === 'CT'));
        const first = worklist[0];
        assert.deepEqual(await his.orderByAccession(first.accessionNumber), first);
        assert.match(first.requestedProcedure.description, VIETNAMESE);
        const lab = (await his.pollOrders('lab', { since: BEGINNING }, {}, 5))[0].order as LabOrder;
        const bySpecimen = await his.ordersBySpecimen(lab.specimen.id);
        assert.equal(bySpecimen.length, 1);
        assert.deepEqual(bySpecimen[0], lab);
        assert.ok(lab.tests.length > 0 && lab.tests.every((t) => t.loinc && t.analyserTestCode));
        assert.deepEqual(await his.ordersBySpecimen('NO-SUCH-TUBE'), []);
        assert.equal(await his.orderByAccession('NO-SUCH'), undefined);
        const staff = await his.listStaff();
        const doctor = staff.find((s) => s.role === 'doctor')!;
        assert.equal((await his.staffByCertificate(doctor.practisingCertificate!))?.id, doctor.id);
        const departments = await his.listDepartments();
        assert.ok(departments.some((d) => d.kind === 'emergency' && /^K\d{2}$/.test(d.bhytCode)));
      });

      it('writes results in one transaction, idempotently: a redelivery updates, a correction supersedes', async () => {
        const open = await his.pollOrders('lab', { since: BEGINNING }, { statuses: ['ordered', 'collected'] }, 10);
        const order = open[0].order as LabOrder;
        const results = resultsFor(his, order);
        const table = his.loaded.mapping.entities.labResult.table;
        const before = await countRows(his, table);
        const first = await his.writeResults({ orderId: order.id, results }, { idempotencyKey: 'msg-1' });
        assert.deepEqual([first.inserted, first.updated, first.superseded, first.orderStatus], [results.length, 0, 0, 'completed']);
        assert.equal(await countRows(his, table), before + results.length);
        const again = await his.writeResults({ orderId: order.id, results }, { idempotencyKey: 'msg-1' });
        assert.deepEqual([again.inserted, again.updated, again.superseded], [0, results.length, 0]);
        assert.equal(await countRows(his, table), before + results.length, 'redelivery added no rows');
        assert.equal((await his.orderById(order.id))?.status, 'completed');

        const corrected = { ...results[0], value: '7.25', status: 'corrected' as const };
        const fix = await his.writeResults({ orderId: order.id, results: [corrected] }, { idempotencyKey: 'msg-2' });
        assert.deepEqual([fix.inserted, fix.superseded], [1, 1]);
        const refix = await his.writeResults({ orderId: order.id, results: [corrected] }, { idempotencyKey: 'msg-2' });
        assert.deepEqual([refix.inserted, refix.updated, refix.superseded], [0, 1, 0]);
        assert.equal(await countRows(his, table), before + results.length + 1, 'the superseded row is kept');
        const { results: stored } = await his.resultsForVisit(order.maLk);
        const mine = stored.filter((r) => r.orderId === order.id);
        assert.equal(mine.length, results.length, 'superseded rows are not returned');
        const fixed = mine.find((r) => r.code === corrected.code)!;
        assert.deepEqual([fixed.value, fixed.status, fixed.loinc], ['7.25', 'corrected', his.loaded.labCodes.fromAnalyser(corrected.code)?.loinc]);
      });

      it('finds the order by specimen id and writes an imaging report by accession number', async () => {
        const open = await his.pollOrders('lab', { since: BEGINNING }, { statuses: ['ordered', 'collected'] }, 10);
        const order = open[1].order as LabOrder;
        const out = await his.writeResults({ specimenId: order.specimen.id, results: resultsFor(his, order, '4.4').map((r) => ({ ...r, status: 'preliminary' as const })) }, { idempotencyKey: 'spec-1' });
        assert.deepEqual([out.orderId, out.orderStatus], [order.id, 'preliminary']);
        const [img] = await his.scheduledImagingOrders();
        const report = { accessionNumber: img.accessionNumber, findings: 'Hai phế trường sáng.', conclusion: 'Bình thường.', status: 'final' as const, reportedAt: '2026-11-22T11:30:00+07:00', studyInstanceUid: '1.2.3.4' };
        const r1 = await his.writeResults({ accessionNumber: img.accessionNumber, report }, { idempotencyKey: 'rep-1' });
        const r2 = await his.writeResults({ accessionNumber: img.accessionNumber, report }, { idempotencyKey: 'rep-1' });
        assert.deepEqual([r1.inserted, r2.inserted, r2.updated], [1, 0, 1]);
        const after = await his.orderByAccession(img.accessionNumber);
        assert.deepEqual([after?.status, after?.studyInstanceUid], ['completed', '1.2.3.4']);
        const { reports } = await his.resultsForVisit(img.maLk);
        assert.equal(reports.filter((r) => r.conclusion === 'Bình thường.').length, 1);
      });

      it('rejects what cannot be written, naming the code or the order', async () => {
        const open = await his.pollOrders('lab', { since: BEGINNING }, { statuses: ['ordered', 'collected'] }, 10);
        const order = open[2].order as LabOrder;
        const bad = { code: 'NOPE', value: '1', valueType: 'numeric' as const, status: 'final' as const, observedAt: '2026-11-22T11:00:00+07:00', device: { id: 'AU480' } };
        await assert.rejects(his.writeResults({ orderId: order.id, results: [bad] }), (e: unknown) => e instanceof HisMappingError && /analyserCode = "NOPE"/.test(e.message) && /AU480/.test(e.message));
        await assert.rejects(his.writeResults({ orderId: 'NO-SUCH-ORDER', results: resultsFor(his, order) }), HisNotFoundError);
        assert.equal((await his.orderById(order.id))?.status, order.status, 'nothing was written');
      });

      it('updates order status (MPPS-style) and the worklist follows', async () => {
        const [a, b] = await his.scheduledImagingOrders();
        await his.updateOrderStatus({ accessionNumber: a.accessionNumber, status: 'arrived', by: a.scheduledStationAeTitle });
        await his.updateOrderStatus({ accessionNumber: b.accessionNumber, status: 'in-progress' });
        const list = await his.scheduledImagingOrders();
        assert.equal(list.find((o) => o.id === a.id)?.status, 'arrived');
        assert.equal(list.find((o) => o.id === b.id), undefined, 'in-progress orders leave the worklist');
        assert.equal((await his.orderByAccession(b.accessionNumber))?.updatedAt, '2026-11-22T12:00:00+07:00');
        await assert.rejects(his.updateOrderStatus({ accessionNumber: 'NOPE', status: 'completed' }), HisNotFoundError);
      });

      it('stores what imaging reconciliation sends with a completed order: Study Instance UID, image and series counts, viewer link', async () => {
        const [order] = await his.scheduledImagingOrders();
        const viewerUrl = `https://pacs.bv.local/viewer?StudyInstanceUIDs=1.2.826.0.1.3680043.10.1.${order.id}&acc=${order.accessionNumber}`;
        await his.updateOrderStatus({ orderId: order.id, status: 'completed', studyInstanceUid: `1.2.826.0.1.3680043.10.1.${order.id}`, imageCount: 245, seriesCount: 3, viewerUrl, by: 'CT_SIEMENS' });
        const after = await his.orderByAccession(order.accessionNumber);
        assert.equal(after?.status, 'completed');
        assert.equal(after?.studyInstanceUid, `1.2.826.0.1.3680043.10.1.${order.id}`);
        assert.equal(after?.imageCount, 245);
        assert.equal(after?.seriesCount, 3);
        assert.equal(after?.viewerUrl, viewerUrl);
        // An update without them (an MPPS status change) leaves them as they are.
        await his.updateOrderStatus({ orderId: order.id, status: 'completed' });
        assert.equal((await his.orderByAccession(order.accessionNumber))?.imageCount, 245);
      });

      it('stores vital signs with LOINC codes once', async () => {
        const [visit] = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 1 });
        const obs = [
          { patientId: visit.patientId, maLk: visit.maLk, loinc: '8867-4', value: 88, unit: '/min', effectiveAt: '2026-11-22T10:00:00+07:00', device: { id: 'MON-1' }, status: 'final' as const },
          {
            patientId: visit.patientId,
            maLk: visit.maLk,
            loinc: '85354-9',
            components: [
              { loinc: '8480-6', value: 128, unit: 'mm[Hg]' },
              { loinc: '8462-4', value: 82, unit: 'mm[Hg]' },
            ],
            effectiveAt: '2026-11-22T10:00:00+07:00',
            device: { id: 'MON-1' },
            status: 'final' as const,
          },
        ];
        assert.equal(await his.writeObservations(obs), 3);
        assert.equal(await his.writeObservations(obs), 0, 'a repeated measurement is not stored twice');
        const stored = await his.observationsForVisit(visit.maLk);
        const hr = stored.find((o) => o.loinc === '8867-4' && o.device?.id === 'MON-1');
        assert.deepEqual([hr?.value, hr?.effectiveAt], [88, '2026-11-22T10:00:00+07:00']);
        assert.ok(stored.some((o) => o.loinc === '8310-5'), 'generated temperature readings are LOINC-coded');
      });

      it('polls every new and changed order exactly once across restarts, and names a row that breaks the mapping', async () => {
        const expected = await allOrders();
        const ctx1 = recordingContext(dataDir);
        await run(source({}), ctx1.ctx);
        const ids1 = ctx1.received.map((m) => (m.parsed as Order | undefined)?.id ?? m.meta?.orderId);
        assert.equal(new Set(ids1).size, ids1.length, 'no order delivered twice');
        assert.equal(ids1.length, expected.length);
        assert.ok(ctx1.states.some((s) => s.state === 'polling'));

        // While the source is down: changes, new orders, one late commit with an older stamp, one bad row.
        const wm = new WatermarkStore(path.join(dataDir, 'his-db', 'watermarks.sqlite'));
        const mark = wm.watermark('test-src:lab')!;
        wm.close();
        const labOpen = (await his.pollOrders('lab', { since: BEGINNING }, { statuses: ['ordered', 'collected'] }, 100)).map((r) => r.order as LabOrder);
        const [img] = await his.scheduledImagingOrders();
        await his.updateOrderStatus({ orderId: labOpen[5].id, status: 'collected' });
        await his.updateOrderStatus({ orderId: labOpen[6].id, status: 'in-progress' });
        await his.updateOrderStatus({ accessionNumber: img.accessionNumber, status: 'arrived' });
        const template = labOpen[7];
        await insertLabOrder(his, { id: 'XN90000001', maLk: template.maLk, patientId: template.patientId, specimenId: '2699000001', updatedAt: new Date(TEST_NOW.getTime() + 1000) });
        await insertLabOrder(his, { id: 'XN90000002', maLk: template.maLk, patientId: template.patientId, specimenId: '2699000002', updatedAt: new Date(TEST_NOW.getTime() + 2000), analyserId: 'XN1000', tests: ['XN_CTM'] });
        const late = new Date(Date.parse(mark.replace(' ', 'T') + '+07:00') - 60_000);
        await insertLabOrder(his, { id: 'XN90000003', maLk: template.maLk, patientId: template.patientId, specimenId: '2699000003', updatedAt: late });
        const badColumn = await setOrderColumn(his, 'lab', labOpen[8].id, 'status', '77', new Date(TEST_NOW.getTime() + 3000));

        const ctx2 = recordingContext(dataDir);
        await run(source({}), ctx2.ctx);
        const got = ctx2.received.map((m) => (m.parsed as Order | undefined)?.id ?? m.meta!.orderId).sort();
        assert.deepEqual(got, [labOpen[5].id, labOpen[6].id, labOpen[8].id, img.id, 'XN90000001', 'XN90000002', 'XN90000003'].sort());
        const bad = ctx2.received.find((m) => m.meta?.orderId === labOpen[8].id)!;
        assert.match(bad.meta!.parseError, new RegExp(`${badColumn.replace('.', '\\.')} = (77|"77")`));
        assert.match(bad.meta!.parseError, /unknown code/);
        const changed = ctx2.received.find((m) => (m.parsed as Order | undefined)?.id === labOpen[6].id)!;
        assert.equal((changed.parsed as Order).status, 'in-progress');
        assert.equal(changed.correlation?.specimenId, labOpen[6].specimen.id);

        const ctx3 = recordingContext(dataDir);
        await run(source({}), ctx3.ctx);
        assert.deepEqual(ctx3.received, [], 'a third start delivers nothing');
      });

      it('filters polled orders by analyser, modality and department', async () => {
        const ctx = recordingContext(dataDir, 'filtered');
        await run(source({ orderKinds: ['lab'], filter: { analysers: ['XN1000'] } }), ctx.ctx);
        const lab = ctx.received.map((m) => m.parsed as LabOrder);
        assert.ok(lab.length > 0 && lab.every((o) => o.kind === 'lab' && o.analyserId === 'XN1000'));
        const expected = (await his.pollOrders('lab', { since: BEGINNING }, { analysers: ['XN1000'] }, 100_000)).length;
        assert.equal(lab.length, expected);
        const ctx2 = recordingContext(dataDir, 'ct-only');
        await run(source({ orderKinds: ['imaging'], filter: { modalities: ['CT'], departments: ['KCC', 'KNGOAI', 'KNOI', 'KTIM'] } }), ctx2.ctx);
        const imaging = ctx2.received.map((m) => m.parsed as Order);
        assert.ok(imaging.length > 0 && imaging.every((o) => o.kind === 'imaging' && o.modality === 'CT' && ['KCC', 'KNGOAI', 'KNOI', 'KTIM'].includes(o.departmentCode)));
      });
    });
  }
}
