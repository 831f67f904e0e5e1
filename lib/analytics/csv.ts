/**
 * CSV (RFC 4180) for spend exports: every field that needs it is quoted, quotes doubled, CRLF line ends. Money
 * columns arrive as exact decimal strings and are written as they are (no float formatting, no rounding).
 * Cells starting with = + - @ (other than numbers) are prefixed with ' so a spreadsheet does not run them as
 * formulas (CSV injection through a key or model name).
 */
export type CsvCell = string | number | null | undefined;

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !NUMBER_RE.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvCell[]>): string {
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}
