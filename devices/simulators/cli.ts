// `hisbridge sim analyzer …`: an analyser on the wire for demos, tests and commissioning. The sim group
// is shared: other simulators add their verbs to `simCli.commands`.
import fs from 'node:fs';
import { loadCodeMap, defaultCodeMapFiles } from '../../connectors/astm/codeMap';
import { decodeCapture } from '../../connectors/astm/decodeCapture';
import { parseArgs, type CliGroup } from '../../engine/cli/types';
import { loadProfile, loadProfiles, type AnalyzerProfile } from '../analyzers/profile';
import { modalitySimVerb } from './modality';
import { monitorsSimVerb } from './monitors';
import { AnalyzerSimulator, buildResults, type SimulatedSpecimen, type SimulatorFaults } from './analyzer';

const USAGE =
  'analyzer --profile <id> (--tcp <host:port> | --serial <path> [--baud <n>]) [--replay <capture>] [--count <n>] [--specimen <id>] [--query <id>] [--qc] [--interval <ms>] [--fault bad-checksum|nak|timeout|drop|garbage]';

/** Results for the analyser's mapped tests, with plausible values (deterministic per index). */
export function generatedSpecimens(profile: AnalyzerProfile, count: number, options: { specimen?: string; qc?: boolean; start?: number } = {}): SimulatedSpecimen[] {
  const map = loadCodeMap(defaultCodeMapFiles(profile.id));
  const own = map.entries.filter((e) => e.analyser === profile.id);
  const rows = own.length ? own : map.entries.filter((e) => e.analyser === '*').slice(0, 8);
  const out: SimulatedSpecimen[] = [];
  for (let i = 0; i < count; i++) {
    const n = (options.start ?? 1) + i;
    out.push({
      specimenId: options.specimen ?? (options.qc ? `QC-${String(n).padStart(4, '0')}` : `SIM${String(n).padStart(6, '0')}`),
      qc: options.qc,
      results: rows.map((e, j) => {
        const low = Number(e.low ?? 1) || 1;
        const high = Number(e.high ?? low * 2) || low * 2;
        const value = low + ((n * 7 + j * 13) % 10) * ((high - low) / 10);
        return { code: e.analyserCode, value: value.toFixed(2), units: e.unit };
      }),
    });
  }
  return out;
}

function faultsFrom(name: string | true | undefined): SimulatorFaults | string {
  switch (name) {
    case undefined:
      return {};
    case 'bad-checksum':
      return { badChecksum: 2 };
    case 'nak':
      return { nak: 2 };
    case 'timeout':
      return { silent: true };
    case 'drop':
      return { dropAfterFrames: 2 };
    case 'garbage':
      return { garbage: 'noise\x7f\x00 on the line' };
    default:
      return `unknown fault ${JSON.stringify(name)} (bad-checksum, nak, timeout, drop, garbage)`;
  }
}

export const simCli: CliGroup = {
  name: 'sim',
  description: 'simulators: devices on the wire for demos and tests',
  commands: {
    modality: modalitySimVerb,
    monitors: monitorsSimVerb,
    analyzer: {
      usage: `${USAGE}  play a lab analyser (ASTM) against the engine`,
      async run(args) {
        const { flags } = parseArgs(args);
        const fail = (reason: string, code = 2) => {
          process.stderr.write(`sim analyzer: ${reason}\nusage: hisbridge sim ${USAGE}\n`);
          return code;
        };
        if (typeof flags.profile !== 'string') return fail('--profile is required');
        let profile: AnalyzerProfile;
        try {
          profile = loadProfile(flags.profile);
        } catch (error) {
          return fail((error as Error).message);
        }
        const faults = faultsFrom(flags.fault);
        if (typeof faults === 'string') return fail(faults);
        const sim = new AnalyzerSimulator({ profile, faults, log: (line) => process.stderr.write(`sim: ${line}\n`) });
        try {
          if (typeof flags.tcp === 'string') {
            const m = /^(.+):(\d+)$/.exec(flags.tcp);
            if (!m) return fail(`--tcp wants host:port, got ${JSON.stringify(flags.tcp)}`);
            await sim.connectTcp(m[1], Number(m[2]));
          } else if (typeof flags.serial === 'string') {
            const baud = typeof flags.baud === 'string' ? Number(flags.baud) : profile.transport.serial.baudRate;
            await sim.openSerial(flags.serial, { ...profile.transport.serial, baudRate: baud });
          } else return fail('give --tcp <host:port> or --serial <path>');

          const summary: Record<string, unknown> = { profile: profile.id, sent: 0 };
          if (typeof flags.query === 'string') {
            const reply = await sim.query([flags.query]);
            summary.queryReply = reply.message.records.map((r) => r.toString());
          }
          const messages: string[] = [];
          if (typeof flags.replay === 'string') {
            const decoded = decodeCapture(fs.readFileSync(flags.replay), [...loadProfiles().values()], { profile });
            if (decoded.problems.length) return fail(`${flags.replay}: ${decoded.problems.join('; ')}`, 1);
            for (const m of decoded.messages) messages.push(m.records.map((r) => r.fields.join(profile.send.delimiters.field)).join('\r') + '\r');
          } else if (flags.query === undefined || flags.count !== undefined) {
            const count = typeof flags.count === 'string' ? Number(flags.count) : 1;
            for (const s of generatedSpecimens(profile, count, { specimen: typeof flags.specimen === 'string' ? flags.specimen : undefined, qc: flags.qc === true })) messages.push(buildResults(profile, [s]));
          }
          const interval = typeof flags.interval === 'string' ? Number(flags.interval) : 0;
          for (const text of messages) {
            await sim.send(text);
            summary.sent = (summary.sent as number) + 1;
            if (interval > 0) await new Promise((r) => setTimeout(r, interval));
          }
          summary.problems = sim.problems.map((p) => `${p.code}: ${p.detail}`);
          process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
          return 0;
        } catch (error) {
          process.stderr.write(`sim analyzer: ${(error as Error).message}\n`);
          return 1;
        } finally {
          sim.close();
        }
      },
    },
  },
};
