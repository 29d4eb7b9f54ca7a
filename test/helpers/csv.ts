/** RFC 4180 CSV, as loghub's `*_structured.csv` files need: quoted fields may hold commas, `""` and line breaks. Rows become objects keyed by the header. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quoted) {
      if (ch === '"' && text.charAt(i + 1) === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text.charAt(i + 1) === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  if (header === undefined) throw new Error('empty CSV');
  return body.map((cells) => {
    if (cells.length !== header.length) throw new Error(`CSV row with ${cells.length} cells, header has ${header.length}: ${cells.join(',')}`);
    return Object.fromEntries(header.map((name, index) => [name, cells[index] ?? '']));
  });
}
