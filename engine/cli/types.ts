// Each area (hl7, astm, dicom, claims, sim…) exports one CliGroup; engine/cli/main.ts dispatches
// `hisbridge <group> <verb> [args]` to it. Decoders print JSON and exit non-zero with the reason.
export interface CliCommand {
  /** One line shown by `hisbridge <group> --help`, e.g. `decode <file> [--json]  print the message as a tree`. */
  usage: string;
  /** Returns the process exit code. Print results to stdout, reasons for failure to stderr. */
  run(args: string[]): Promise<number>;
}

export interface CliGroup {
  name: string;
  description: string;
  commands: Record<string, CliCommand>;
}

/** Minimal flag parser shared by every CLI group: `--key value`, `--flag`, positionals. */
export function parseArgs(args: string[]): { positionals: string[]; flags: Record<string, string | true> } {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2);
      if (inline !== undefined) flags[key] = inline;
      else if (i + 1 < args.length && !args[i + 1].startsWith('--')) flags[key] = args[++i];
      else flags[key] = true;
    } else positionals.push(arg);
  }
  return { positionals, flags };
}
