// One LIS2-A2 record. Fields are kept exactly as received (escapes included), so `toString()` gives
// back the received text byte for byte; values are split and unescaped only when asked for.
import { AstmSyntaxError, type Delimiters, delimiterDefinition } from './delimiters';
import { escapeValue, unescapeValue } from './escape';

export const RECORD_TYPES = ['H', 'P', 'O', 'R', 'C', 'Q', 'M', 'S', 'L'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** What a field is built from: a value, components, or repeats of components. `null` is an empty field. */
export type FieldInput = string | null | undefined | Array<string | null | undefined> | Array<Array<string | null | undefined>> | { raw: string };

export class AstmRecord {
  /** Upper-case record type id (`H`, `P`, `O`, `R`…); the received case is kept in `fields[0]`. */
  readonly type: string;

  constructor(
    /** Raw field texts; `fields[0]` is the type id, so field position n is `fields[n - 1]`. */
    readonly fields: string[],
    readonly delimiters: Delimiters,
  ) {
    this.type = (fields[0] ?? '').toUpperCase();
  }

  static parse(text: string, d: Delimiters): AstmRecord {
    if (text.length === 0) throw new AstmSyntaxError('empty record');
    return new AstmRecord(text.split(d.field), d);
  }

  /** Builds a record from values (escaped here). For H, field 2 is the delimiter definition. */
  static build(type: string, values: FieldInput[], d: Delimiters): AstmRecord {
    const fields = [type];
    values.forEach((value, i) => {
      if (type === 'H' && i === 0) fields.push(delimiterDefinition(d));
      else fields.push(encodeField(value, d));
    });
    if (type === 'H' && values.length === 0) fields.push(delimiterDefinition(d));
    // Trailing empty fields may be omitted (LIS2-A2 §5.4.7).
    while (fields.length > 2 && fields[fields.length - 1] === '') fields.pop();
    return new AstmRecord(fields, d);
  }

  /** Raw text of field `position` (1 = record type), '' when absent. */
  field(position: number): string {
    return this.fields[position - 1] ?? '';
  }

  /** Unescaped value of one component of one repeat (all 1-based); '' when absent. */
  value(position: number, component = 1, repeat = 1): string {
    const raw = this.field(position);
    if (raw === '') return '';
    if (this.isDelimiterField(position)) return raw;
    const d = this.delimiters;
    let rep = raw;
    if (raw.indexOf(d.repeat) >= 0) rep = raw.split(d.repeat)[repeat - 1] ?? '';
    else if (repeat > 1) return '';
    if (rep.indexOf(d.component) < 0) return component === 1 ? unescapeValue(rep, d) : '';
    return unescapeValue(rep.split(d.component)[component - 1] ?? '', d);
  }

  /** Components of one repeat, unescaped. */
  components(position: number, repeat = 1): string[] {
    const raw = this.field(position);
    if (raw === '') return [];
    const d = this.delimiters;
    if (this.isDelimiterField(position)) return repeat === 1 ? [raw] : [];
    let rep = raw;
    if (raw.indexOf(d.repeat) >= 0) {
      const reps = raw.split(d.repeat);
      if (repeat > reps.length) return [];
      rep = reps[repeat - 1];
    } else if (repeat > 1) return [];
    const parts = rep.split(d.component);
    for (let i = 0; i < parts.length; i++) parts[i] = unescapeValue(parts[i], d);
    return parts;
  }

  /** Every repeat of a field as its unescaped components (`[]` for an empty field). */
  repeats(position: number): string[][] {
    const raw = this.field(position);
    if (raw === '') return [];
    const d = this.delimiters;
    if (this.isDelimiterField(position)) return [[raw]];
    // Fast path: most fields are one plain value.
    if (raw.indexOf(d.repeat) < 0 && raw.indexOf(d.component) < 0) return [[unescapeValue(raw, d)]];
    return raw.split(d.repeat).map((rep) => rep.split(d.component).map((c) => unescapeValue(c, d)));
  }

  /** Number of fields present (trailing empty fields the sender omitted are not counted). */
  get fieldCount(): number {
    return this.fields.length;
  }

  /** The record text exactly as received or built (no terminator). */
  toString(): string {
    return this.fields.join(this.delimiters.field);
  }

  private isDelimiterField(position: number): boolean {
    return position === 2 && this.type === 'H';
  }
}

function encodeField(value: FieldInput, d: Delimiters): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return escapeValue(value, d);
  if (!Array.isArray(value)) return value.raw;
  if (value.length > 0 && Array.isArray(value[0])) {
    return (value as Array<Array<string | null | undefined>>).map((rep) => rep.map((c) => escapeValue(c ?? '', d)).join(d.component)).join(d.repeat);
  }
  return (value as Array<string | null | undefined>).map((c) => escapeValue(c ?? '', d)).join(d.component);
}
