// Gateway passwords are stored encrypted (AES-256-GCM) with a key generated at first start in the
// data dir (claims-secret.key, mode 0600). Anyone who copies the database without the key file
// gets ciphertext only; the key never leaves the machine and is never logged.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClaimStore } from '../store';

export const KEY_FILE = 'claims-secret.key';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Loads the key from the data dir, creating it (32 random bytes) on first use. */
  static forDataDir(dataDir: string): SecretBox {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, KEY_FILE);
    if (!existsSync(file)) {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 256-bit key (base64 of 32 bytes)`);
    return new SecretBox(key);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`;
  }

  decrypt(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret (expected v1:iv:tag:data)');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`the stored secret cannot be decrypted with ${KEY_FILE} (the key file was replaced, or the data was altered)`);
    }
  }
}

/** The password form the gateway expects: MD5 of the password, upper-case hex. */
export function gatewayPasswordHash(password: string): string {
  return createHash('md5').update(password, 'utf8').digest('hex').toUpperCase();
}

export interface GatewayCredentials {
  username: string;
  password: string;
}

export function storeCredentials(store: ClaimStore, box: SecretBox, profile: string, credentials: GatewayCredentials): void {
  store.saveCredentials(profile, credentials.username, box.encrypt(credentials.password));
}

export function loadCredentials(store: ClaimStore, box: SecretBox, profile: string): GatewayCredentials | undefined {
  const row = store.credentials(profile);
  return row ? { username: row.username, password: box.decrypt(row.passwordEncrypted) } : undefined;
}
