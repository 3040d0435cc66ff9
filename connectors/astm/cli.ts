// `hisbridge astm decode <capture>`: checks frames and checksums, prints records and results as JSON,
// exits non-zero with the precise reason when the capture is bad.
import fs from 'node:fs';
import { loadProfile, loadProfiles } from '../../devices/analyzers/profile';
import { parseArgs, type CliGroup } from '../../engine/cli/types';
import { decodeCapture } from './decodeCapture';

export const astmCli: CliGroup = {
  name: 'astm',
  description: 'ASTM E1381/E1394 (LIS1-A/LIS2-A2) lab analyser messages',
  commands: {
    decode: {
      usage: 'decode <capture-file> [--profile <id>] [--records]  check frames/checksums; print results (and records) as JSON',
      async run(args) {
        const { positionals, flags } = parseArgs(args);
        const file = positionals[0];
        if (!file) {
          process.stderr.write('usage: hisbridge astm decode <capture-file> [--profile <id>] [--records]\n');
          return 2;
        }
        let bytes: Buffer;
        try {
          bytes = fs.readFileSync(file);
        } catch (error) {
          process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
          return 2;
        }
        let profiles;
        let profile;
        try {
          profiles = [...loadProfiles().values()];
          profile = typeof flags.profile === 'string' ? loadProfile(flags.profile) : undefined;
        } catch (error) {
          process.stderr.write(`${(error as Error).message}\n`);
          return 2;
        }
        const decoded = decodeCapture(bytes, profiles, { profile });
        const output = {
          file,
          format: decoded.format,
          frames: decoded.frames,
          notes: decoded.notes,
          problems: decoded.problems,
          messages: decoded.messages.map((m) => ({
            profile: m.profile ?? null,
            errors: m.errors,
            ...(flags.records ? { records: m.records.map((r) => r.fields.join('|')) } : { recordTypes: m.records.map((r) => r.type).join('') }),
            ...(m.report ? { sender: m.report.sender, specimens: m.report.specimens, queries: m.report.queries } : {}),
          })),
        };
        process.stdout.write(JSON.stringify(output, null, 2) + '\n');
        const reasons = [...decoded.problems, ...decoded.messages.flatMap((m, i) => m.errors.map((e) => `message ${i + 1}: ${e}`))];
        if (reasons.length > 0) {
          process.stderr.write(`${file}: ${reasons.join('\n' + ' '.repeat(file.length + 2))}\n`);
          return 1;
        }
        return 0;
      },
    },
  },
};
