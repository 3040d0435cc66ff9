// Demo channel: a Roche cobas c311 connects over TCP to port 5010 (demo.astmPort) and streams ASTM
// results; patient results are written into the demo HIS under its service codes, QC results go to
// data/qc/c311 as JSON, host queries are answered from the HIS orders for the specimen.
// Try: npx hisbridge sim analyzer --profile roche-cobas-c311 --tcp 127.0.0.1:5010 --count 5
import path from 'node:path';
import { astmResultsTransformer, hasPatientResults, hasQcResults, toHisResultBatch, toQcRecord } from '../connectors/astm/channel';
import { defineChannel } from '../engine/channel/definition';
import { RESULT_CONTENT_TYPE } from '../his/messages';

export default (settings: { enabled: boolean; astmPort: number; dataDir: string }) =>
  settings.enabled
    ? defineChannel({
        id: 'demo-lab-c311',
        name: 'Demo: Roche cobas c311 (ASTM over TCP) → HIS',
        source: {
          connector: 'astm',
          config: { profile: 'roche-cobas-c311', analyzerId: 'C311-KHOA-XN', transport: { kind: 'tcp-server', host: '127.0.0.1', port: settings.astmPort } },
        },
        transformer: astmResultsTransformer(),
        destinations: [
          { name: 'his', connector: 'his-db', config: {}, filter: hasPatientResults, transformer: toHisResultBatch, contentType: RESULT_CONTENT_TYPE, queue: { orderBy: 'specimenId' } },
          { name: 'qc', connector: 'file', config: { directory: path.join(settings.dataDir, 'qc', 'c311'), extension: '.json' }, filter: hasQcResults, transformer: toQcRecord },
        ],
      })
    : undefined;
