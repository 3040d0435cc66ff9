// The `dicom` source: our DICOM node (worklist, MPPS, storage, commitment) on a configured AE title
// and address. Each stored instance becomes a channel message (a small JSON reference to the file);
// the C-STORE is acknowledged only after the engine has stored that message.
import path from 'node:path';
import type { ConnectorDefinition, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { dicomSourceSchema, type DicomSourceConfig } from './config';
import { DicomNode } from './node';
import { HIS_SERVICE, type ImagingHis } from './his-port';

/** Running nodes by channel id, for the console/API (studies, exception list, thumbnails). */
export const dicomNodes = new Map<string, DicomNode>();

export class DicomSource implements SourceConnector {
  private node?: DicomNode;
  private channelId?: string;

  constructor(private readonly config: DicomSourceConfig) {}

  async start(context: SourceContext): Promise<void> {
    const storageDir = this.config.storage.dir ? path.resolve(context.dataDir, this.config.storage.dir) : path.join(context.dataDir, 'dicom', context.channelId);
    const node = new DicomNode(this.config, {
      storageDir,
      dataDir: context.dataDir,
      certsDir: context.certsDir,
      his: () => context.lookup<ImagingHis>(HIS_SERVICE),
      log: context.log,
      receive: (message) => context.receive(message),
      reportConnection: (status) => context.reportConnection(status),
    });
    await node.start();
    this.node = node;
    this.channelId = context.channelId;
    dicomNodes.set(context.channelId, node);
  }

  /** The running node (after start). */
  get dicomNode(): DicomNode | undefined {
    return this.node;
  }

  async stop(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    if (this.channelId && dicomNodes.get(this.channelId) === node) dicomNodes.delete(this.channelId);
    await node?.stop();
  }
}

export const dicomConnector: ConnectorDefinition<DicomSourceConfig> = {
  type: 'dicom',
  description: 'DICOM SCP: Modality Worklist from HIS orders, MPPS, C-STORE to disk with index, Storage Commitment, reconciliation',
  configSchema: dicomSourceSchema,
  createSource: (config) => new DicomSource(config),
};
