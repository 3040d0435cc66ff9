import type { z } from 'zod';

/** "measurements[0].value: expected number…; deviceId: …" — names every failing field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
      return `${path || '(message)'}: ${issue.message}`;
    })
    .join('; ');
}
