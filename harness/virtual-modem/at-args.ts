/** Splits AT arguments on commas outside double quotes; quotes are removed, `quoted` says which were quoted. */
export function parseAtArgs(text: string): { values: string[]; quoted: boolean[] } {
  const values: string[] = [];
  const quoted: boolean[] = [];
  let current = '';
  let inQuotes = false;
  let wasQuoted = false;
  for (const c of text) {
    if (c === '"') {
      inQuotes = !inQuotes;
      wasQuoted = true;
    } else if (c === ',' && !inQuotes) {
      values.push(wasQuoted ? current : current.trim());
      quoted.push(wasQuoted);
      current = '';
      wasQuoted = false;
    } else current += c;
  }
  if (text.length > 0) {
    values.push(wasQuoted ? current : current.trim());
    quoted.push(wasQuoted);
  }
  return { values, quoted };
}
