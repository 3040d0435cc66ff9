// Demo channel: hisbridge as the imaging department's DICOM node on port 11112 (demo.dicomPort), AE
// title HISBRIDGE. The demo HIS's four imaging rooms query their worklist here, report MPPS and store
// images; studies are reconciled to the HIS orders. No PACS in the demo: instances stay in
// data/dicom/demo-imaging. Try it from the console (Devices → simulators) or:
//   npx hisbridge sim modality --port 11112 --called-aet HISBRIDGE --aet CT_SIEMENS --small
import { defineChannel } from '../engine/channel/definition';

export default (settings: { enabled: boolean; dicomPort: number }) =>
  settings.enabled
    ? defineChannel({
        id: 'demo-imaging',
        name: 'Demo: imaging rooms (DICOM worklist, MPPS, storage) ↔ HIS',
        source: {
          connector: 'dicom',
          config: {
            aeTitle: 'HISBRIDGE',
            host: '127.0.0.1',
            port: settings.dicomPort,
            // The demo HIS's imaging rooms (his/demo/data.ts IMAGING_STATIONS).
            remotes: ['CT_SIEMENS', 'DR_ROOM1', 'US_ROOM2', 'MR_15T'].map((aeTitle) => ({ aeTitle, addresses: ['127.0.0.1'], role: 'modality' as const })),
          },
        },
        destinations: [],
      })
    : undefined;
