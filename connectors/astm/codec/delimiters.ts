// LIS2-A2 delimiters (standards.md §2.2): declared by the five characters after "H" in every header.
export interface Delimiters {
  field: string;
  repeat: string;
  component: string;
  escape: string;
}

export const DEFAULT_DELIMITERS: Delimiters = Object.freeze({ field: '|', repeat: '\\', component: '^', escape: '&' });

export class AstmSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AstmSyntaxError';
  }
}

/** Reads the delimiters from an H record's text (`H|\^&|…`), checking they are distinct and not CR/LF. */
export function delimitersFromHeader(header: string): Delimiters {
  if (header.length < 5 || (header[0] !== 'H' && header[0] !== 'h')) {
    throw new AstmSyntaxError(`H record too short to declare delimiters: ${JSON.stringify(header.slice(0, 10))}`);
  }
  const [field, repeat, component, escape] = [header[1], header[2], header[3], header[4]];
  const chars = [field, repeat, component, escape];
  const names = ['field', 'repeat', 'component', 'escape'];
  for (let i = 0; i < 4; i++) {
    const code = chars[i].charCodeAt(0);
    if (code === 13 || code === 10 || code < 0x20 || code === 0x7f) {
      throw new AstmSyntaxError(`H record: ${names[i]} delimiter is control character 0x${code.toString(16).padStart(2, '0')}`);
    }
    if (/[A-Za-z0-9 ]/.test(chars[i])) throw new AstmSyntaxError(`H record: ${names[i]} delimiter ${JSON.stringify(chars[i])} is a letter, digit or space`);
    for (let j = 0; j < i; j++) {
      if (chars[i] === chars[j]) throw new AstmSyntaxError(`H record: ${names[i]} delimiter ${JSON.stringify(chars[i])} repeats the ${names[j]} delimiter`);
    }
  }
  if (header.length > 5 && header[5] !== field) {
    throw new AstmSyntaxError(`H record: delimiter definition must end with the field delimiter ${JSON.stringify(field)}, found ${JSON.stringify(header[5])}`);
  }
  return { field, repeat, component, escape };
}

/** The delimiter-definition field as written in H-2 (e.g. `\^&`). */
export function delimiterDefinition(d: Delimiters): string {
  return d.repeat + d.component + d.escape;
}
