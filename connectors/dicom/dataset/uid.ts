// UIDs without an organisational root: the 2.25 arc (PS3.5 B.2) takes a UUID as a decimal integer.
import { randomUUID } from 'node:crypto';

/** Our Implementation Class UID (a fixed 2.25 UID) and version name, sent in associations and file meta headers. */
export const IMPLEMENTATION_CLASS_UID = '2.25.109681048039047384810793184119568868459';
export const IMPLEMENTATION_VERSION = 'HISBRIDGE_010';

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** DICOM UI values: digits and dots, at most 64 characters, no empty or leading-zero components (leading zeros tolerated, they are common). */
export function isValidUid(value: string | undefined): value is string {
  return !!value && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}
