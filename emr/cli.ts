// `hisbridge emr import-p12|verify|signer`: install the hospital's signing certificate from a
// Vietnamese CA (PKCS#12), check a CDA file's signature offline, show who signs.
import fs from 'node:fs';
import { loadConfig } from '../engine/config/config';
import { parseArgs, type CliCommand, type CliGroup } from '../engine/cli/types';
import { importSigningPkcs12, loadSigningIdentity, loadTrustStore } from './sign/keys';
import { verifyDocument } from './sign/signer';

function certsDirOf(flags: Record<string, string | true>): string {
  if (typeof flags.certs === 'string') return flags.certs;
  return loadConfig(typeof flags.config === 'string' ? flags.config : undefined).certsDir;
}

const importP12: CliCommand = {
  usage: 'import-p12 <file.p12> (--password-env VAR | --password P) [--certs DIR]   install a PKCS#12 signing certificate (the old one is kept for verifying)',
  async run(args) {
    const { positionals, flags } = parseArgs(args);
    const file = positionals[0];
    if (!file) {
      process.stderr.write('import-p12: give the .p12/.pfx file\n');
      return 2;
    }
    const password = typeof flags['password-env'] === 'string' ? process.env[flags['password-env']] : typeof flags.password === 'string' ? flags.password : undefined;
    if (password === undefined) {
      process.stderr.write('import-p12: give the password with --password-env VAR (preferred: keeps it out of the shell history) or --password\n');
      return 2;
    }
    if (!fs.existsSync(file)) {
      process.stderr.write(`import-p12: ${file} does not exist\n`);
      return 1;
    }
    try {
      const result = importSigningPkcs12(certsDirOf(flags), fs.readFileSync(file), password);
      process.stdout.write(`${JSON.stringify({ imported: result }, null, 2)}\n`);
      process.stdout.write('restart the engine to sign with the new certificate; put the CA root in certs/trusted/ if the file did not include it\n');
      return 0;
    } catch (error) {
      process.stderr.write(`import-p12: ${(error as Error).message}\n`);
      return 1;
    }
  },
};

const verify: CliCommand = {
  usage: 'verify <document.xml> [--certs DIR]   check a CDA document\'s XML signature against the trusted CAs; exit 1 when INVALID',
  async run(args) {
    const { positionals, flags } = parseArgs(args);
    const file = positionals[0];
    if (!file || !fs.existsSync(file)) {
      process.stderr.write(`verify: ${file ? `${file} does not exist` : 'give the document file'}\n`);
      return 2;
    }
    const result = verifyDocument(fs.readFileSync(file, 'utf8'), loadTrustStore(certsDirOf(flags)));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result.status !== 'valid') process.stderr.write(`INVALID: ${result.reason}\n`);
    return result.status === 'valid' ? 0 : 1;
  },
};

const signer: CliCommand = {
  usage: 'signer [--certs DIR]   show the certificate documents are signed with',
  async run(args) {
    const { flags } = parseArgs(args);
    const identity = loadSigningIdentity(certsDirOf(flags));
    const c = identity.certificate;
    process.stdout.write(`${JSON.stringify({ subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), validFrom: c.validFrom, validTo: c.validTo, fingerprint256: c.fingerprint256, chain: identity.chainPem.length }, null, 2)}\n`);
    return 0;
  },
};

export const emrCli: CliGroup = {
  name: 'emr',
  description: 'EMR documents: signing certificate import, offline signature check',
  commands: { 'import-p12': importP12, verify, signer },
};
