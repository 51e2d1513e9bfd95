/**
 * Text from a device (codes, reasons, identity) made safe for a report: control bytes and the
 * replacement character a non-UTF-8 byte decodes to are shown escaped (`\x00`, `\ufffd`), never
 * written raw, so no report or XML file carries a byte that breaks a reader. Tab and newline stay.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control bytes is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd\ufffe\uffff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}
