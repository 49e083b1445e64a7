// An auto number's format (`HT-{YYYY}-{0000}`) applied as the server applies it: `{YYYY}`,
// `{YY}`, `{MM}`, `{DD}` of the record's creation day (UTC) and one run of zeros in braces for
// the sequence, zero-padded to its width and never cut. Pure, so the object manager previews a
// format exactly as its numbers will read.

const TOKEN = /\{(YYYY|YY|MM|DD|0+)\}/g;
const SEQUENCE = /\{0+\}/g;

/** A format needs exactly one sequence (`{0000}`). */
export function validAutoNumberFormat(format: string): boolean {
  return (format.match(SEQUENCE) ?? []).length === 1;
}

/** The number `format` gives the `sequence`-th record created at `at`. */
export function formatAutoNumber(format: string, sequence: number, at: Date): string {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return format.replace(TOKEN, (_whole, token: string) => {
    switch (token) {
      case 'YYYY':
        return pad(at.getUTCFullYear(), 4);
      case 'YY':
        return pad(at.getUTCFullYear() % 100, 2);
      case 'MM':
        return pad(at.getUTCMonth() + 1, 2);
      case 'DD':
        return pad(at.getUTCDate(), 2);
      default:
        return pad(sequence, token.length);
    }
  });
}
