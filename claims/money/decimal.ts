// Exact decimal arithmetic for claim amounts (VND with '.' decimals). Binary floating point would
// turn 0.1 × 3 into 0.30000000000000004 and round line amounts the wrong way, so amounts are kept
// as a BigInt count of 10^-scale units.

export class Decimal {
  private constructor(
    /** The value times 10^scale. */
    readonly units: bigint,
    readonly scale: number,
  ) {}

  static readonly zero = new Decimal(0n, 0);

  static of(value: bigint | number, scale = 0): Decimal {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new Error(`Decimal.of needs an integer, got ${value}`);
      return new Decimal(BigInt(value), scale);
    }
    return new Decimal(value, scale);
  }

  /** Parses "1234", "-12.5", "0.125". Returns undefined for anything else (no exponent, no ',' or spaces). */
  static tryParse(text: string): Decimal | undefined {
    if (!decimalPattern.test(text)) return undefined;
    const negative = text.startsWith('-');
    const body = negative || text.startsWith('+') ? text.slice(1) : text;
    const dot = body.indexOf('.');
    const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
    const scale = dot < 0 ? 0 : body.length - dot - 1;
    // Up to 15 digits a double holds the integer exactly, and BigInt(number) is much cheaper than parsing text.
    const units = digits.length <= 15 ? BigInt(Number(digits)) : BigInt(digits);
    return new Decimal(negative ? -units : units, scale);
  }

  static parse(text: string): Decimal {
    const d = Decimal.tryParse(text);
    if (!d) throw new Error(`"${text}" is not a decimal number (digits with an optional '.' part)`);
    return d;
  }

  /** Accepts a decimal string, a Decimal or a safe integer; used by builders taking HIS values. */
  static from(value: Decimal | string | number): Decimal {
    if (value instanceof Decimal) return value;
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return Decimal.of(value);
      // A non-integer number from a HIS column: its shortest round-trip text is what the HIS meant.
      return Decimal.parse(String(value));
    }
    return Decimal.parse(value.trim());
  }

  /** Number of decimals actually used (trailing zeros do not count). */
  get decimals(): number {
    return this.normalise().scale;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  private rescale(scale: number): bigint {
    if (scale === this.scale) return this.units;
    if (scale < this.scale) throw new Error('rescale would lose digits');
    return this.units * pow10(scale - this.scale);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescale(scale) + other.rescale(scale), scale);
  }

  sub(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescale(scale) - other.rescale(scale), scale);
  }

  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale);
  }

  /** Multiplies by a percentage (value / 100), exactly. */
  percent(p: Decimal): Decimal {
    return new Decimal(this.units * p.units, this.scale + p.scale + 2);
  }

  neg(): Decimal {
    return new Decimal(-this.units, this.scale);
  }

  /** Rounds half away from zero ("làm tròn") to `decimals` places. */
  round(decimals: number): Decimal {
    if (this.scale <= decimals) return this;
    const divisor = pow10(this.scale - decimals);
    const abs = this.units < 0n ? -this.units : this.units;
    let q = abs / divisor;
    if ((abs % divisor) * 2n >= divisor) q += 1n;
    return new Decimal(this.units < 0n ? -q : q, decimals);
  }

  compare(other: Decimal): number {
    const scale = Math.max(this.scale, other.scale);
    const a = this.rescale(scale);
    const b = other.rescale(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  abs(): Decimal {
    return this.units < 0n ? this.neg() : this;
  }

  max(other: Decimal): Decimal {
    return this.compare(other) >= 0 ? this : other;
  }

  min(other: Decimal): Decimal {
    return this.compare(other) <= 0 ? this : other;
  }

  /** Drops trailing zero decimals. */
  normalise(): Decimal {
    let { units, scale } = this;
    while (scale > 0 && units % 10n === 0n) {
      units /= 10n;
      scale--;
    }
    return scale === this.scale ? this : new Decimal(units, scale);
  }

  /** Plain text without exponent or separators; trailing zeros dropped unless `fixed` decimals are asked for. */
  toString(fixed?: number): string {
    const d = fixed === undefined ? this : this.round(fixed).withScale(fixed);
    const negative = d.units < 0n;
    const digits = (negative ? -d.units : d.units).toString();
    if (d.scale === 0) return negative ? `-${digits}` : digits;
    const padded = digits.length > d.scale ? digits : digits.padStart(d.scale + 1, '0');
    let frac = padded.slice(padded.length - d.scale);
    if (fixed === undefined) {
      let end = frac.length;
      while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
      frac = frac.slice(0, end);
    }
    const whole = padded.slice(0, padded.length - d.scale);
    const text = frac ? `${whole}.${frac}` : whole;
    return negative && (whole !== '0' || frac.replace(/0/g, '') !== '') ? `-${text}` : text;
  }

  private withScale(scale: number): Decimal {
    return scale >= this.scale ? new Decimal(this.rescale(scale), scale) : this.round(scale);
  }

  toNumber(): number {
    return Number(this.toString());
  }
}

const decimalPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

const powers: bigint[] = [1n];
function pow10(n: number): bigint {
  while (powers.length <= n) powers.push(powers[powers.length - 1] * 10n);
  return powers[n];
}

export function sum(values: Iterable<Decimal>): Decimal {
  let total = Decimal.zero;
  for (const v of values) total = total.add(v);
  return total;
}
