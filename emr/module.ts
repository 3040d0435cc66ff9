// The EMR application module: opens the document store in <dataDir>/emr, loads the signing
// certificate and trust anchors from certs/, registers the EmrService as 'emr', mounts the viewer
// API at /api/emr (permission emr:read) and, on the first start against the demo HIS, documents its
// discharged visits so the viewer has something to show. Start it after the HIS module.
import path from 'node:path';
import type { ApplicationModule } from '../engine/app';
import { FACILITY as DEMO_FACILITY } from '../his/demo/data';
import { HIS_SERVICE, type HisLookups } from '../his/lookups';
import type { Facility } from '../model';
import { createEmrRouter } from './api';
import { dicomStudyLookup } from './imaging';
import { emrOids, type EmrOidOverrides } from './oids';
import { EMR_SERVICE, EmrService, type PublishOutcome } from './service';
import { loadSigningIdentity, loadTrustStore } from './sign/keys';
import { verifyDocument } from './sign/signer';
import { DocumentStore } from './store/document-store';

export interface EmrModuleOptions {
  /**
   * First start (empty store): build documents for the HIS's discharged visits. Default: only
   * when the HIS is the demo HIS (a real hospital decides what to back-fill itself).
   */
  firstStartBuild?: boolean;
  /** How many visits the first-start build documents (default 400). */
  firstStartVisits?: number;
  /** Resolve start() only after the first-start build (tests; default false: it runs in the background). */
  waitForFirstStartBuild?: boolean;
  /** The hospital when no HIS service is registered. */
  facility?: Facility;
  /** The hospital's OID arc, when it has one (default: the hisbridge arc + MA_CSKCB). */
  facilityOid?: string;
  /** Official OIDs for identifier systems, when the hospital was given any. */
  oids?: EmrOidOverrides;
}

export interface FirstStartBuild {
  state: 'idle' | 'running' | 'done' | 'failed';
  visits: number;
  visitsDone: number;
  created: number;
  errors: Array<{ sourceKey: string; error: string }>;
  /** Documents built with a data-quality warning (no CCCD, birth date after the visit…), first 50. */
  warnings: Array<{ sourceKey: string; warning: string }>;
  ms?: number;
  failure?: string;
  /** The patient with the longest history in the demo (the one to show). */
  demoPatient?: string;
}

export interface EmrModule extends ApplicationModule {
  /** Set once started. */
  service?: EmrService;
  build: FirstStartBuild;
  /** Settles when the first-start build finished (immediately when there was none). */
  firstStartBuild: Promise<FirstStartBuild>;
}

export function emrModule(options: EmrModuleOptions = {}): EmrModule {
  let settle!: (value: FirstStartBuild) => void;
  const module: EmrModule = {
    name: 'emr',
    build: { state: 'idle', visits: 0, visitsDone: 0, created: 0, errors: [], warnings: [] },
    firstStartBuild: new Promise((resolve) => (settle = resolve)),
    async start({ engine, config, security }) {
      const his = () => engine.lookup<HisLookups>(HIS_SERVICE);
      const facility = options.facility ?? (await his()?.facility());
      if (!facility) throw new Error('emr: no hospital to sign for: start the HIS module before the EMR module, or give emr options.facility { code, name }');
      const oids = emrOids(facility.code, { facilityOid: options.facilityOid, overrides: options.oids });
      const identity = loadSigningIdentity(config.certsDir);
      const trust = loadTrustStore(config.certsDir);
      const store = new DocumentStore(path.join(engine.dataDir, 'emr', 'emr.db'), security, (xml) => verifyDocument(xml, trust));
      const service = new EmrService({ store, oids, identity, facility, studies: dicomStudyLookup() });
      module.service = service;
      engine.registerService(EMR_SERVICE, service);
      engine.log.info(`EMR: ${store.count()} document(s); signing as ${service.signer().subject}`);

      let stopping = false;
      const hisNow = his();
      const wanted = options.firstStartBuild ?? facility.code === DEMO_FACILITY.code;
      let running: Promise<void> = Promise.resolve();
      if (wanted && hisNow && store.count() === 0) {
        running = (async () => {
          const started = Date.now();
          const build = module.build;
          build.state = 'running';
          try {
            // Whole histories read better than scattered visits: patients with the most visits first,
            // each with every visit the HIS has for them, until the budget is spent.
            const perPatient = new Map<string, number>();
            let after: string | undefined;
            for (let page = 0; page < 20; page++) {
              const visits = await hisNow.visitsForClaims({ from: '1900-01-01T00:00:00+07:00', to: '2200-01-01T00:00:00+07:00', insuredOnly: false, limit: 500, afterMaLk: after });
              for (const v of visits) perPatient.set(v.patientId, (perPatient.get(v.patientId) ?? 0) + 1);
              if (visits.length < 500) break;
              after = visits[visits.length - 1].maLk;
            }
            const budget = options.firstStartVisits ?? 400;
            const patients = [...perPatient.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id);
            for (const patientId of patients) {
              if (stopping || build.visitsDone >= budget) break;
              const visits = await hisNow.visitsForPatient(patientId);
              build.visits += visits.length;
              for (const visit of visits) {
                if (stopping) break;
                let outcomes: PublishOutcome[];
                try {
                  outcomes = await service.buildForVisit(hisNow, visit.maLk);
                } catch (error) {
                  outcomes = [{ type: 'discharge-summary', sourceKey: `visit:${visit.maLk}`, status: 'error', error: (error as Error).message }];
                }
                for (const o of outcomes) {
                  if (o.status === 'created' || o.status === 'corrected') build.created++;
                  if (o.status === 'error' && build.errors.length < 200) build.errors.push({ sourceKey: o.sourceKey, error: o.error ?? '' });
                  for (const warning of o.warnings ?? []) if (build.warnings.length < 50) build.warnings.push({ sourceKey: o.sourceKey, warning });
                }
                build.visitsDone++;
              }
            }
            // The patient to show: the longest trend of one lab test, then the most documents.
            const richest = store.db
              .prepare(
                `SELECT l.patient_id FROM lab_values l JOIN documents d ON d.doc_no = l.doc_no WHERE d.superseded_by IS NULL
                 GROUP BY l.patient_id, l.code ORDER BY COUNT(*) DESC, (SELECT COUNT(*) FROM documents x WHERE x.patient_id = l.patient_id) DESC, l.patient_id LIMIT 1`,
              )
              .pluck()
              .get() as string | undefined;
            build.demoPatient = richest ?? patients[0];
            build.state = 'done';
            build.ms = Date.now() - started;
            engine.log.info(`EMR: first start documented ${build.visitsDone} visit(s): ${build.created} signed document(s), ${build.errors.length} refused for missing data, in ${build.ms} ms; richest history: patient ${build.demoPatient}`);
          } catch (error) {
            build.state = 'failed';
            build.failure = (error as Error).message;
            engine.log.error(`EMR: first-start build failed: ${build.failure}`);
          }
        })();
      }
      void running.then(() => settle(module.build));
      if (options.waitForFirstStartBuild) await running;

      const router = createEmrRouter({ service, audit: security, his, studies: dicomStudyLookup(), status: () => ({ firstStartBuild: module.build }) });
      return {
        extensions: [{ path: 'emr', permission: 'emr:read', router }],
        async stop() {
          stopping = true;
          await running;
          store.close();
        },
      };
    },
  };
  return module;
}
