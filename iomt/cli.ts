// `hisbridge iomt <verb>`: commissioning helpers for the IoMT area.
//   decode <file> [--topic t]        read a device payload (JSON contract, compact, HL7 PCD-01) and print
//                                     the canonical observations and every rejection with its reason
//   news2 --rr 22 --spo2 93 --sbp 105 --pulse 115 --temp 38.4 [--acvpu A] [--oxygen] [--scale 2]
//   mosquitto-conf --port 1883 --dir /var/lib/mosquitto [--tls-port 8883 --cafile … --certfile … --keyfile … --require-certificate]
//   broker [--host 127.0.0.1] [--port 1884]   run the embedded broker on its own
import fs from 'node:fs';
import { parseArgs, type CliGroup } from '../engine/cli/types';
import { compileTopicTemplate, matchTopic } from '../connectors/mqtt/topics';
import { readDevicePayload } from './adapters';
import './adapters/hl7';
import { EMBEDDED_BROKER_DEFAULT_PORT, startEmbeddedBroker } from './broker';
import { DEFAULT_TOPIC_TEMPLATE } from './contract';
import { mosquittoConfig } from './mosquitto-config';
import { computeNews2 } from './news2';
import { normaliseDeviceMessage } from './normalise';
import { VitalsInputError } from './types';
import type { Acvpu } from './vitals';

const str = (v: string | true | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export const iomtCli: CliGroup = {
  name: 'iomt',
  description: 'IoMT vitals: decode device payloads, compute NEWS2, broker configuration',
  commands: {
    decode: {
      usage: 'decode <file> [--topic hospital/…/device/<id>/vitals] [--content-type application/hl7-v2]  print canonical observations and rejections',
      async run(args) {
        const { positionals, flags } = parseArgs(args);
        if (!positionals[0]) {
          process.stderr.write('usage: hisbridge iomt decode <file>\n');
          return 2;
        }
        try {
          const raw = fs.readFileSync(positionals[0]);
          const topic = str(flags.topic);
          const params = topic ? matchTopic(compileTopicTemplate(DEFAULT_TOPIC_TEMPLATE), topic) : undefined;
          const messages = readDevicePayload(raw, { topicFormat: params?.format, contentType: str(flags['content-type']), maxBytes: 16 * 1024 * 1024 });
          // Decoding a capture: no lateness limit (old files are the point).
          const out = messages.map((m) => normaliseDeviceMessage(m, { maxAgeMs: Number.MAX_SAFE_INTEGER, maxFutureMs: Number.MAX_SAFE_INTEGER }));
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return out.some((m) => m.rejected.length > 0) ? 1 : 0;
        } catch (err) {
          process.stderr.write(`${err instanceof VitalsInputError ? 'refused' : 'error'}: ${(err as Error).message}\n`);
          return 1;
        }
      },
    },
    news2: {
      usage: 'news2 --rr <n> --spo2 <n> --sbp <n> --pulse <n> --temp <°C> [--acvpu A|C|V|P|U] [--oxygen] [--scale 1|2]  score one set of observations',
      async run(args) {
        const { flags } = parseArgs(args);
        const need = (name: string) => {
          const v = Number(flags[name]);
          if (typeof flags[name] !== 'string' || !Number.isFinite(v)) throw new Error(`--${name} needs a number`);
          return v;
        };
        try {
          const acvpu = (str(flags.acvpu) ?? 'A').toUpperCase();
          if (!['A', 'C', 'V', 'P', 'U'].includes(acvpu)) throw new Error('--acvpu must be A, C, V, P or U');
          const result = computeNews2({
            respiratoryRate: need('rr'),
            spo2: need('spo2'),
            systolicBp: need('sbp'),
            pulse: need('pulse'),
            temperature: need('temp'),
            consciousness: acvpu as Acvpu,
            onOxygen: flags.oxygen === true || flags.oxygen === 'true',
            spo2Scale: flags.scale === '2' ? 2 : 1,
          });
          process.stdout.write(JSON.stringify(result, null, 2) + '\n');
          return 0;
        } catch (err) {
          process.stderr.write(`news2: ${(err as Error).message}\n`);
          return 2;
        }
      },
    },
    'mosquitto-conf': {
      usage: 'mosquitto-conf [--port 1883] [--host 0.0.0.0] [--dir /var/lib/mosquitto] [--password-file f] [--tls-port 8883 --cafile f --certfile f --keyfile f [--require-certificate]]  print the Mosquitto settings hisbridge needs',
      async run(args) {
        const { flags } = parseArgs(args);
        const tlsPort = str(flags['tls-port']);
        if (tlsPort && !(str(flags.cafile) && str(flags.certfile) && str(flags.keyfile))) {
          process.stderr.write('mosquitto-conf: --tls-port needs --cafile, --certfile and --keyfile\n');
          return 2;
        }
        process.stdout.write(
          mosquittoConfig({
            port: Number(str(flags.port) ?? 1883),
            host: str(flags.host) ?? '127.0.0.1',
            persistenceDir: str(flags.dir) ?? '/var/lib/mosquitto/',
            passwordFile: str(flags['password-file']),
            tls: tlsPort ? { port: Number(tlsPort), cafile: str(flags.cafile)!, certfile: str(flags.certfile)!, keyfile: str(flags.keyfile)!, requireCertificate: flags['require-certificate'] === true } : undefined,
            logDest: 'syslog',
          }),
        );
        return 0;
      },
    },
    broker: {
      usage: `broker [--host 127.0.0.1] [--port ${EMBEDDED_BROKER_DEFAULT_PORT}]  run the embedded MQTT broker on its own (Ctrl-C stops)`,
      async run(args) {
        const { flags } = parseArgs(args);
        const broker = await startEmbeddedBroker({ host: str(flags.host) ?? '127.0.0.1', port: Number(str(flags.port) ?? EMBEDDED_BROKER_DEFAULT_PORT) });
        process.stdout.write(`embedded MQTT broker on ${broker.url}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await broker.close();
        return 0;
      },
    },
  },
};
