// Patient identifiers used in Vietnamese hospitals (standards.md §5.4, bhyt-xml-4210-130.md §3.2).
// Validation here is syntactic only: whether a card is valid today is the BHXH portal's call.

/**
 * - `MA_BN`: the hospital's own patient number.
 * - `CCCD`: 12-digit citizen ID / personal identification number (số định danh cá nhân).
 * - `CMND`: legacy 9-digit identity card.
 * - `BHYT`: 15-character health-insurance card number.
 * - `BHXH`: 10-digit social-insurance number (also the first part of the health ID, QĐ 4376).
 * - `PASSPORT`: passport number (Vietnamese: one upper-case letter + 7 digits; foreign: as printed).
 */
export type IdentifierSystem = 'MA_BN' | 'CCCD' | 'CMND' | 'BHYT' | 'BHXH' | 'PASSPORT';

export const identifierSystems: readonly IdentifierSystem[] = ['MA_BN', 'CCCD', 'CMND', 'BHYT', 'BHXH', 'PASSPORT'];

export interface PatientIdentifier {
  system: IdentifierSystem;
  value: string;
}

export const CCCD_PATTERN = /^\d{12}$/;
export const CMND_PATTERN = /^\d{9}$/;
export const BHXH_PATTERN = /^\d{10}$/;
/** 2-letter beneficiary group, 1-digit benefit code, 2-digit province, 10-digit social-insurance number. */
export const BHYT_CARD_PATTERN = /^[A-Z]{2}[1-9]\d{2}\d{10}$/;
export const VN_PASSPORT_PATTERN = /^[A-Z]\d{7}$/;

export function isCccd(value: string): boolean {
  return CCCD_PATTERN.test(value);
}

export function isBhytCardNumber(value: string): boolean {
  return BHYT_CARD_PATTERN.test(value);
}

export interface BhytCardParts {
  /** Beneficiary group (DN, HC, HT, TE, QN, CA, CY, GD, HN…). */
  group: string;
  /** Benefit code, the 3rd character (1..5). */
  benefitCode: string;
  /** Province of issue, characters 4–5. */
  provinceCode: string;
  /** Social-insurance number, the last 10 digits. */
  socialInsuranceNumber: string;
}

/** Splits a 15-character BHYT card number; throws naming the rule broken. */
export function parseBhytCardNumber(value: string): BhytCardParts {
  if (value.length !== 15) throw new Error(`BHYT card number "${value}" must have 15 characters, has ${value.length}`);
  if (!BHYT_CARD_PATTERN.test(value)) {
    throw new Error(`BHYT card number "${value}" must be 2 upper-case letters, a benefit digit 1-9, a 2-digit province and 10 digits`);
  }
  return { group: value.slice(0, 2), benefitCode: value[2], provinceCode: value.slice(3, 5), socialInsuranceNumber: value.slice(5) };
}

/**
 * Guesses the system of a bare identifier typed at a counter or read from a barcode
 * (12 digits → CCCD, 15-char card → BHYT…); undefined when nothing fits.
 */
export function guessIdentifierSystem(value: string): IdentifierSystem | undefined {
  const v = value.trim();
  if (CCCD_PATTERN.test(v)) return 'CCCD';
  if (BHYT_CARD_PATTERN.test(v)) return 'BHYT';
  if (BHXH_PATTERN.test(v)) return 'BHXH';
  if (CMND_PATTERN.test(v)) return 'CMND';
  if (VN_PASSPORT_PATTERN.test(v)) return 'PASSPORT';
  return undefined;
}

/** Returns a message naming the problem, or undefined when the value fits its system. */
export function validateIdentifier(identifier: PatientIdentifier): string | undefined {
  const { system, value } = identifier;
  switch (system) {
    case 'CCCD':
      return CCCD_PATTERN.test(value) ? undefined : `CCCD "${value}" must be exactly 12 digits`;
    case 'CMND':
      return CMND_PATTERN.test(value) ? undefined : `CMND "${value}" must be exactly 9 digits`;
    case 'BHXH':
      return BHXH_PATTERN.test(value) ? undefined : `BHXH number "${value}" must be exactly 10 digits`;
    case 'BHYT':
      try {
        parseBhytCardNumber(value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    case 'PASSPORT':
      return /^[A-Z0-9]{6,20}$/.test(value) ? undefined : `passport number "${value}" must be 6-20 upper-case letters or digits`;
    case 'MA_BN':
      return value.length > 0 && value.length <= 100 ? undefined : `MA_BN "${value}" must be 1-100 characters`;
  }
}
