// `hisbridge dicom dump|echo|find-worklist|store`: field debugging against modalities and PACS.
import { readFile, readdir, stat } from 'node:fs/promises';
import type tls from 'node:tls';
import path from 'node:path';
import { parseArgs, type CliCommand, type CliGroup } from '../../engine/cli/types';
import { readPart10Layout } from './dataset/part10';
import { DatasetParseError, parseDataset } from './dataset/metadata';
import { decodeNaturalized } from './dataset/naturalize';
import { echo, findWorklist, storeFiles, worklistIdentifier, type Peer } from './scu';
import { statusHex } from './dimse/uids';
import { textValue } from './worklist/matching';
import { startCommitmentReportListener } from './commitment/report-listener';
import type { DicomListener } from './dimse/server';
import { clientTlsOptions, serverTlsOptions, tlsOptionsSchema } from '../hl7/mllp/tls';

export const TLS_FLAGS = '[--tls [--ca F] [--cert F --key F] [--servername N] [--insecure]]';

/** The client side of DICOM over TLS named by the flags (undefined without --tls). */
export function clientTlsFromFlags(flags: Record<string, string | true>, host: string): tls.ConnectionOptions | undefined {
  const config = tlsFromFlags(flags);
  return config ? clientTlsOptions(config, process.cwd(), host) : undefined;
}

/** The TLS settings named by --tls/--ca/--cert/--key/--insecure/--servername (files relative to the working folder). */
function tlsFromFlags(flags: Record<string, string | true>) {
  if (!flags.tls) {
    for (const f of ['ca', 'cert', 'key', 'insecure', 'servername']) if (flags[f]) throw new Error(`--${f} needs --tls`);
    return undefined;
  }
  const file = (name: string) => (typeof flags[name] === 'string' ? path.resolve(flags[name] as string) : undefined);
  if (!!flags.cert !== !!flags.key) throw new Error('--cert and --key go together (our certificate and its private key)');
  return tlsOptionsSchema.parse({
    enabled: true,
    caFile: file('ca'),
    certFile: file('cert'),
    keyFile: file('key'),
    rejectUnauthorized: !flags.insecure,
    servername: typeof flags.servername === 'string' ? flags.servername : undefined,
  });
}

function peerFrom(flags: Record<string, string | true>): Peer {
  const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
  const port = Number(flags.port ?? 11112);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${String(flags.port)} is not a TCP port`);
  return {
    tls: clientTlsFromFlags(flags, host),
    host,
    port,
    callingAeTitle: typeof flags.aet === 'string' ? flags.aet : 'HISBRIDGE_SCU',
    calledAeTitle: typeof flags['called-aet'] === 'string' ? flags['called-aet'] : 'HISBRIDGE',
    connectTimeoutMs: flags.timeout ? Number(flags.timeout) : 10_000,
  };
}

/** Binary values become a byte count; everything else prints as dcmjs naturalizes it. */
function printable(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`;
  if (ArrayBuffer.isView(value)) return `<${value.byteLength} bytes>`;
  if (Array.isArray(value)) return value.map(printable);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '_vrMap') out[k] = printable(v);
    return out;
  }
  return value;
}

const dump: CliCommand = {
  usage: 'dump <file>                      print a DICOM file (meta + dataset) as JSON; exit 1 with the reason if it is not valid',
  async run(args) {
    const { positionals } = parseArgs(args);
    const file = positionals[0];
    if (!file) {
      process.stderr.write('usage: hisbridge dicom dump <file>\n');
      return 2;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
      return 1;
    }
    try {
      const layout = readPart10Layout(bytes);
      const body = bytes.subarray(layout.datasetOffset);
      parseDataset(body, layout.meta.transferSyntax); // full structural check, with the byte offset on failure
      const dataset = decodeNaturalized(body, layout.meta.transferSyntax);
      process.stdout.write(`${JSON.stringify({ file, meta: layout.meta, datasetOffset: layout.datasetOffset, dataset: printable(dataset) }, null, 2)}\n`);
      return 0;
    } catch (err) {
      const reason = err instanceof DatasetParseError ? err.message : `unexpected error: ${(err as Error).message}`;
      process.stderr.write(`${file}: ${reason}\n`);
      return 1;
    }
  },
};

const echoCommand: CliCommand = {
  usage: `echo --host H --port P [--aet A] [--called-aet C] [--count N] ${TLS_FLAGS}   C-ECHO a DICOM node`,
  async run(args) {
    const { flags } = parseArgs(args);
    try {
      const peer = peerFrom(flags);
      const count = Number(flags.count ?? 1);
      for (let i = 0; i < count; i++) {
        const ms = await echo(peer);
        process.stdout.write(`C-ECHO ${peer.calledAeTitle}@${peer.host}:${peer.port}${peer.tls ? ' (TLS)' : ''}: success in ${ms.toFixed(1)} ms\n`);
      }
      return 0;
    } catch (err) {
      process.stderr.write(`C-ECHO failed: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

const findWorklistCommand: CliCommand = {
  usage: `find-worklist --host H --port P [--aet A] [--called-aet C] [--modality M] [--date YYYYMMDD[-YYYYMMDD]] [--station-aet S] [--patient-id ID] [--patient-name "NGUYEN*"] [--accession N] [--json] ${TLS_FLAGS}`,
  async run(args) {
    const { flags } = parseArgs(args);
    const text = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
    try {
      const identifier = worklistIdentifier({
        modality: text('modality'),
        date: text('date'),
        stationAeTitle: text('station-aet'),
        patientId: text('patient-id'),
        patientName: text('patient-name'),
        accessionNumber: text('accession'),
      });
      const items = await findWorklist(peerFrom(flags), identifier);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(items.map(printable), null, 2)}\n`);
      } else {
        for (const item of items) {
          const sps = Array.isArray(item.ScheduledProcedureStepSequence) ? (item.ScheduledProcedureStepSequence[0] as Record<string, unknown>) : {};
          process.stdout.write(
            [textValue(item.AccessionNumber), textValue(item.PatientID), textValue(item.PatientName), textValue(sps.Modality), textValue(sps.ScheduledStationAETitle), `${textValue(sps.ScheduledProcedureStepStartDate)} ${textValue(sps.ScheduledProcedureStepStartTime)}`, textValue(sps.ScheduledProcedureStepDescription)].join('\t') + '\n',
          );
        }
        process.stderr.write(`${items.length} worklist item(s)\n`);
      }
      return 0;
    } catch (err) {
      process.stderr.write(`worklist query failed: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

async function expandFiles(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const s = await stat(input);
    if (s.isDirectory()) {
      for (const name of (await readdir(input)).sort()) out.push(...(await expandFiles([path.join(input, name)])));
    } else out.push(input);
  }
  return out;
}

const store: CliCommand = {
  usage: `store <file|dir>... --host H --port P [--aet A] [--called-aet C] ${TLS_FLAGS} [--commit [--listen-port L [--listen-host IP]] [--commit-timeout MS]]   C-STORE Part 10 files on one association, optionally request Storage Commitment (with --tls the report listener uses --cert/--key too)`,
  async run(args) {
    const { positionals, flags } = parseArgs(args);
    if (positionals.length === 0) {
      process.stderr.write('usage: hisbridge dicom store <file|dir>... --host H --port P\n');
      return 2;
    }
    let listener: DicomListener | undefined;
    try {
      const files = await expandFiles(positionals);
      const peer = peerFrom(flags);
      const started = Date.now();
      let failed = 0;
      if (flags.commit && flags['listen-port']) {
        // The PACS may send the commitment report on a new association to us.
        // With --tls the PACS calls back over TLS too: our listener shows the --cert/--key certificate.
        const tlsConfig = tlsFromFlags(flags);
        if (tlsConfig && !tlsConfig.certFile) throw new Error('--commit --listen-port with --tls needs --cert and --key for the report listener');
        listener = await startCommitmentReportListener({
          host: typeof flags['listen-host'] === 'string' ? flags['listen-host'] : '0.0.0.0',
          port: Number(flags['listen-port']),
          aeTitle: peer.callingAeTitle,
          tls: tlsConfig ? serverTlsOptions(tlsConfig, process.cwd()) : undefined,
        });
      }
      const results = await storeFiles(peer, files, {
        onResult: (r) => {
          const ok = r.status === 0 || (r.status & 0xf000) === 0xb000;
          if (!ok) failed++;
          process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${statusHex(Math.max(0, r.status))} ${r.file}${r.errorComment ? ` (${r.errorComment})` : ''}\n`);
        },
        commit: flags.commit ? { timeoutMs: Number(flags['commit-timeout'] ?? 60_000) } : undefined,
      });
      process.stderr.write(`${results.length - failed}/${results.length} stored in ${Date.now() - started} ms\n`);
      if (results.commitment) {
        const c = results.commitment;
        process.stdout.write(`storage commitment ${c.transactionUid}: ${c.committed.length} committed, ${c.failed.length} failed\n`);
        for (const f of c.failed) process.stdout.write(`  not committed: ${f.sopInstanceUid} (failure reason ${statusHex(f.reason)})\n`);
        if (c.failed.length > 0) failed++;
      }
      return failed > 0 ? 1 : 0;
    } catch (err) {
      process.stderr.write(`C-STORE failed: ${(err as Error).message}\n`);
      return 1;
    } finally {
      await listener?.close(0);
    }
  },
};

export const dicomCli: CliGroup = {
  name: 'dicom',
  description: 'DICOM tools: dump a file, C-ECHO, query a worklist, C-STORE files',
  commands: { dump, echo: echoCommand, 'find-worklist': findWorklistCommand, store },
};
