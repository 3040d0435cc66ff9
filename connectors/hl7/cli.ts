// `hisbridge hl7 decode|send|listen`: the tools people reach for when an interface misbehaves.
//   decode <file> [--json] [--charset X]                     print messages as a tree with field names
//   send <file> --to host:port [--tls …] [--window N]        send messages over MLLP, print the ACKs
//   listen --port N [--host H] [--ack AA|AE|AR] [--tls …]    a listener that prints what arrives
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type CliGroup } from '../../engine/cli/types';
import { createLogger } from '../../engine/log';
import type { ReceiptResult, SourceContext } from '../../engine/connectors/types';
import { readAck } from './codec/ack';
import { splitBatch } from './codec/batch';
import { fieldName } from './codec/dictionary';
import { Hl7Message } from './codec/message';
import { isHeaderSegment } from './codec/segment';
import { MllpClient } from './mllp/client';
import { MllpDecoder, type MllpEvent } from './mllp/framer';
import { clientTlsOptions, tlsOptionsSchema } from './mllp/tls';
import { MllpSource, mllpSourceSchema } from './source';

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

/** The messages in a file: MLLP-framed, a batch (FHS/BHS), or one or more plain messages. */
export async function messagesInFile(bytes: Buffer): Promise<Buffer[]> {
  if (bytes.includes(0x0b)) {
    const decoder = new MllpDecoder();
    const frames: Buffer[] = [];
    decoder.on('data', (ev: MllpEvent) => {
      if (ev.kind === 'frame') frames.push(ev.payload);
    });
    decoder.end(bytes);
    await once(decoder, 'end');
    return frames;
  }
  const split = splitBatch(bytes);
  return split.messages.length > 0 ? split.messages.map((m) => m.bytes) : [bytes];
}

export function messageAsJson(message: Hl7Message): object {
  const counts = new Map<string, number>();
  return {
    messageType: message.messageType,
    structure: message.structureId,
    controlId: message.controlId,
    version: message.version,
    charset: message.charset.name,
    segments: message.segments.map((seg) => {
      const n = (counts.get(seg.name) ?? 0) + 1;
      counts.set(seg.name, n);
      const fields: Record<string, object> = {};
      for (let f = 1; f <= seg.fieldCount; f++) {
        const raw = seg.raw(f);
        if (raw === '') continue;
        const key = `${seg.name}-${f}`;
        if (isHeaderSegment(seg.name) && f <= 2) {
          fields[key] = { name: fieldName(seg.name, f), raw };
          continue;
        }
        const repetitions: Array<Array<string | string[]>> = [];
        for (let r = 1; r <= seg.repetitionCount(f); r++) {
          const comps: Array<string | string[]> = [];
          for (let c = 1; c <= seg.componentCount(f, r); c++) {
            const rawComp = seg.rawAt(f, r, c);
            const subCount = rawComp.split(message.delimiters.subcomponent).length;
            if (subCount <= 1) comps.push(seg.get(f, c, 1, r));
            else comps.push(Array.from({ length: subCount }, (_, s) => seg.get(f, c, s + 1, r)));
          }
          repetitions.push(comps);
        }
        fields[key] = { name: fieldName(seg.name, f), raw, repetitions };
      }
      return { segment: seg.name, index: n, fields };
    }),
  };
}

export function messageAsTree(message: Hl7Message): string {
  const lines: string[] = [`${message.messageType} (${message.structureId}) control id ${message.controlId} version ${message.version} charset ${message.charset.name}`];
  const counts = new Map<string, number>();
  for (const seg of message.segments) {
    const n = (counts.get(seg.name) ?? 0) + 1;
    counts.set(seg.name, n);
    const label = n > 1 || message.segmentsNamed(seg.name).length > 1 ? `${seg.name}[${n}]` : seg.name;
    lines.push(label);
    for (let f = 1; f <= seg.fieldCount; f++) {
      const raw = seg.raw(f);
      if (raw === '') continue;
      const name = fieldName(seg.name, f);
      const path = `${seg.name}-${f}`;
      if (isHeaderSegment(seg.name) && f <= 2) {
        lines.push(`  ${path} ${name} = ${raw}`);
        continue;
      }
      const reps = seg.repetitionCount(f);
      const simple = reps === 1 && seg.componentCount(f) <= 1 && !raw.includes(message.delimiters.subcomponent);
      lines.push(`  ${path}${name ? ' ' + name : ''} = ${simple ? seg.get(f) : raw}`);
      if (simple) continue;
      for (let r = 1; r <= reps; r++) {
        const rep = reps > 1 ? `[${r}]` : '';
        for (let c = 1; c <= seg.componentCount(f, r); c++) {
          const comp = seg.rawAt(f, r, c);
          if (comp === '') continue;
          const subs = comp.split(message.delimiters.subcomponent);
          if (subs.length === 1) lines.push(`      ${path}${rep}.${c} = ${seg.get(f, c, 1, r)}`);
          else subs.forEach((s, k) => s !== '' && lines.push(`      ${path}${rep}.${c}.${k + 1} = ${seg.get(f, c, k + 1, r)}`));
        }
      }
    }
  }
  return lines.join('\n');
}

async function decode(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const file = positionals[0];
  if (!file) {
    err('usage: hisbridge hl7 decode <file> [--json] [--charset windows-1258|tcvn3|…]');
    return 2;
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    err(`cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const charset = typeof flags.charset === 'string' ? flags.charset : undefined;
  const messages = await messagesInFile(bytes);
  const decoded: Hl7Message[] = [];
  for (let i = 0; i < messages.length; i++) {
    try {
      decoded.push(Hl7Message.parse(messages[i], { charset }));
    } catch (e) {
      err(`${path.basename(file)}${messages.length > 1 ? ` message ${i + 1}` : ''}: ${(e as Error).message}`);
      return 1;
    }
  }
  if (flags.json) out(JSON.stringify(decoded.length === 1 ? messageAsJson(decoded[0]) : decoded.map(messageAsJson), null, 2));
  else out(decoded.map(messageAsTree).join('\n\n'));
  return 0;
}

function tlsFromFlags(flags: Record<string, string | true>): ReturnType<typeof tlsOptionsSchema.parse> | undefined {
  if (!flags.tls) return undefined;
  return tlsOptionsSchema.parse({
    enabled: true,
    caFile: typeof flags.ca === 'string' ? path.resolve(flags.ca) : undefined,
    certFile: typeof flags.cert === 'string' ? path.resolve(flags.cert) : undefined,
    keyFile: typeof flags.key === 'string' ? path.resolve(flags.key) : undefined,
    rejectUnauthorized: !flags.insecure,
    clientCertificates: flags['require-client-cert'] ? 'required' : 'none',
    servername: typeof flags.servername === 'string' ? flags.servername : undefined,
  });
}

async function send(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const file = positionals[0];
  const to = typeof flags.to === 'string' ? flags.to : '';
  const m = /^(.+):(\d+)$/.exec(to);
  if (!file || !m) {
    err('usage: hisbridge hl7 send <file> --to host:port [--tls [--ca f] [--cert f --key f] [--insecure]] [--window N] [--timeout ms] [--charset X]');
    return 2;
  }
  const [, host, port] = m;
  let payloads: Buffer[];
  try {
    payloads = await messagesInFile(fs.readFileSync(file));
  } catch (e) {
    err(`cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const charset = typeof flags.charset === 'string' ? flags.charset : undefined;
  const messages: Hl7Message[] = [];
  for (let i = 0; i < payloads.length; i++) {
    try {
      messages.push(Hl7Message.parse(payloads[i], { charset }));
    } catch (e) {
      err(`message ${i + 1} of ${file} is not valid HL7, nothing sent: ${(e as Error).message}`);
      return 1;
    }
  }
  const tlsConfig = tlsFromFlags(flags);
  let client: MllpClient;
  try {
    client = new MllpClient({
      host,
      port: Number(port),
      tls: tlsConfig ? clientTlsOptions(tlsConfig, process.cwd(), host) : undefined,
      window: typeof flags.window === 'string' ? Number(flags.window) : 1,
      ackTimeoutMs: typeof flags.timeout === 'string' ? Number(flags.timeout) : 30_000,
    });
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  let failures = 0;
  try {
    const results = await Promise.allSettled(messages.map((msg, i) => client.send(payloads[i], msg.controlId)));
    results.forEach((r, i) => {
      const id = messages[i].controlId;
      if (r.status === 'rejected') {
        failures++;
        err(`${id}: ${(r.reason as Error).message}`);
        return;
      }
      if (!r.value.ack) {
        failures++;
        err(`${id}: the answer is not HL7: ${r.value.parseError}`);
        return;
      }
      const ack = readAck(r.value.ack);
      const ok = ack.code === 'AA' || ack.code === 'CA';
      if (!ok) failures++;
      out(`${id} → ${ack.code}${ack.acknowledges !== id ? ` (MSA-2 ${ack.acknowledges || 'empty'})` : ''}${ack.text || ack.error ? ': ' + [ack.text, ack.error].filter(Boolean).join(' / ') : ''}`);
    });
  } finally {
    await client.close();
  }
  out(`${messages.length - failures} of ${messages.length} accepted by ${host}:${port}`);
  return failures === 0 ? 0 : 3;
}

async function listen(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const port = typeof flags.port === 'string' ? Number(flags.port) : NaN;
  if (!Number.isInteger(port)) {
    err('usage: hisbridge hl7 listen --port N [--host 127.0.0.1] [--ack AA|AE|AR] [--count N] [--verbose] [--charset X] [--tls --cert f --key f [--ca f --require-client-cert]]');
    return 2;
  }
  const ackCode = typeof flags.ack === 'string' ? flags.ack.toUpperCase() : 'AA';
  if (!['AA', 'AE', 'AR'].includes(ackCode)) {
    err(`--ack must be AA, AE or AR, not ${ackCode}`);
    return 2;
  }
  const limit = typeof flags.count === 'string' ? Number(flags.count) : Infinity;
  let count = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const tlsConfig = tlsFromFlags(flags);
  let source: MllpSource;
  try {
    source = new MllpSource(
      mllpSourceSchema.parse({
        host: typeof flags.host === 'string' ? flags.host : '127.0.0.1',
        port,
        charset: typeof flags.charset === 'string' ? flags.charset : undefined,
        tls: tlsConfig,
      }),
    );
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  const ctx: SourceContext = {
    log: createLogger({ console: false }),
    dataDir: process.cwd(),
    certsDir: process.cwd(),
    channelId: 'hl7-listen',
    lookup: () => undefined,
    reportConnection: (status) => {
      if (status.id.endsWith('/mllp')) return;
      if (status.state === 'connected' && !status.counters?.frames) out(`connection from ${status.detail}`);
      if (status.state === 'stopped') out(`connection from ${status.detail} closed (${status.counters?.frames ?? 0} frames)`);
    },
    async receive(message): Promise<ReceiptResult> {
      count++;
      const when = new Date().toISOString();
      if (message.meta?.parseError) out(`[${when}] #${count} INVALID from ${message.origin?.remoteAddress}: ${message.meta.parseError}`);
      else {
        const parsed = message.parsed as Hl7Message;
        out(`[${when}] #${count} ${parsed.messageType} control id ${parsed.controlId}${message.correlation?.patientId ? ` patient ${message.correlation.patientId}` : ''} (${message.raw.length} bytes) → ${ackCode}`);
        if (flags.verbose) out(messageAsTree(parsed));
      }
      if (count >= limit) setImmediate(done);
      if (ackCode === 'AE') return { status: 'errored', messageId: count, error: 'answered AE by hisbridge hl7 listen --ack AE' };
      if (ackCode === 'AR') return { status: 'unavailable', error: 'answered AR by hisbridge hl7 listen --ack AR' };
      return { status: 'accepted', messageId: count };
    },
  };
  try {
    await source.start(ctx);
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  const a = source.address();
  out(`listening on ${tlsConfig ? 'mllps' : 'mllp'}://${a.host}:${a.port}${Number.isFinite(limit) ? ` until ${limit} messages` : ' (Ctrl-C to stop)'}`);
  const onSignal = () => done();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await finished;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await source.stop();
  return 0;
}

export const hl7Cli: CliGroup = {
  name: 'hl7',
  description: 'HL7 v2 tools: decode a message file, send messages over MLLP, listen for them',
  commands: {
    decode: { usage: 'decode <file> [--json] [--charset X]  print each message as a tree with field names (JSON with --json)', run: decode },
    send: { usage: 'send <file> --to host:port [--tls] [--ca f] [--cert f --key f] [--window N]  send over MLLP and print the ACKs', run: send },
    listen: { usage: 'listen --port N [--host H] [--ack AA|AE|AR] [--count N] [--verbose] [--tls --cert f --key f]  print what arrives and acknowledge it', run: listen },
  },
};
